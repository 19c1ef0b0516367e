"""A file that runs code when loaded is the first thing a report says, and with no policy it fails
the run: through the CLI, a census and the Action's step, from a local folder and the fake Hub.

The checkpoint's pickle calls os.system (built by tests/fixtures/weights/builders.py), as the
tampered 5 GB checkpoint the fake Hub serves does; the Hub flags that file in its own scan.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures.weights.builders import Call, Ref, state_dict, torch_zip
from test_action import run_audit_step

from auditor.cli import audit_model

CARD = "---\nlicense: mit\n---\n# A sentiment model\n"
UNSAFE_HUB = "fixture-threat/tampered-checkpoint"


@pytest.fixture
def tampered(tmp_path) -> Path:
    folder = tmp_path / "tampered"
    folder.mkdir()
    (folder / "README.md").write_text(CARD)
    weights, _ = state_dict({"encoder.weight": (2, 3)})
    weights["__trigger__"] = Call(Ref("os", "system"), ("echo owned",))
    (folder / "pytorch_model.bin").write_bytes(torch_zip(weights))
    return folder


def _cli(*args: str):
    return CliRunner().invoke(audit_model, [*args, "--no-check-links"])


def _first_screen(markdown: str) -> list[str]:
    return markdown[:markdown.index("## What may I do?")].splitlines()


def test_a_local_pickle_running_os_system_leads_the_report_and_fails_the_run(tampered):
    result = _cli(str(tampered))
    assert result.exit_code == 1, result.stderr
    lines = _first_screen(result.stdout)
    assert any(line.startswith("- **Do not load pytorch_model.bin: loading would call os.system") for line in lines), lines
    assert "Do not load pytorch_model.bin" in result.stderr  # said where a CI log shows it too
    report = json.loads(_cli(str(tampered), "--format", "json").stdout)
    [unsafe] = report["verdict"]["unsafe_to_load"]
    assert unsafe["path"] == "pytorch_model.bin" and unsafe["code"] == "unsafe-pickle" and "os.system" in unsafe["reason"]


def test_a_policy_given_decides_instead_of_the_default(tampered):
    assert _cli(str(tampered), "--fail-on", "not-open").exit_code == 0  # the policy does not gate on loading
    assert _cli(str(tampered), "--fail-on", "unsafe-pickle").exit_code == 1
    assert _cli(str(tampered), "--fail-on", "error").exit_code == 1


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".json", ".md"])
def test_a_census_fails_on_it_too(tampered, tmp_path, suffix):
    out = tmp_path / f"census{suffix}"
    result = _cli(str(tampered), "-q", "-o", str(out))
    assert result.exit_code == 1, result.stderr
    if suffix == ".jsonl":
        [record] = [json.loads(line) for line in out.read_text().splitlines()]
        assert record["exit_code"] == 1 and record["report"]["verdict"]["unsafe_to_load"][0]["path"] == "pytorch_model.bin"


def test_the_hub_repo_is_scanned_by_default_and_says_what_it_did_not_scan(fake_hub):
    result = _cli(UNSAFE_HUB)
    assert result.exit_code == 1
    lines = _first_screen(result.stdout)
    assert any(line.startswith("- **Do not load pytorch_model.bin: loading would call os.system") for line in lines), lines
    assert any(line.startswith("- The Hub's security scan flags pytorch_model.bin") for line in lines), lines
    result = _cli(UNSAFE_HUB, "--no-scan-weights")
    assert result.exit_code == 0  # nothing was found that fails the run; the first screen says what was not checked
    lines = _first_screen(result.stdout)
    assert any(line.startswith("- Not checked for code that runs on load: pytorch_model.bin — weights not scanned") for line in lines)
    assert any(line.startswith("- The Hub's security scan flags pytorch_model.bin") for line in lines)


def test_the_action_step_fails_on_it(tampered, tmp_path):
    workspace = tmp_path / "action" / "workspace"
    workspace.parent.mkdir()
    tampered.rename(workspace)
    process, summary, outputs = run_audit_step(tmp_path / "action", None)
    assert process.returncode == 1, process.stdout + process.stderr
    assert "Do not load pytorch_model.bin: loading would call os.system" in summary[:summary.index("## What may I do?")]
    assert outputs["verdict"] == "open-weights"
