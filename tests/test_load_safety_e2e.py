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


def test_a_policy_given_keeps_the_gate_unless_it_waives_it(tampered):
    # A policy about licences says nothing about loading: the file still fails the run, as the
    # `unsafe-to-load` rule the policy gains, printed once with the file it names.
    for policy in (["--fail-on", "not-open"], ["--deny-licence", "cc-by-nc-4.0"], ["--allow-licence", "mit"]):
        result = _cli(str(tampered), *policy)
        assert result.exit_code == 1, (policy, result.stderr)
        assert result.stderr.count("fail-on unsafe-to-load") == 1, result.stderr
        policy_report = json.loads(_cli(str(tampered), *policy, "--format", "json").stdout)["policy"]
        [failure] = policy_report["failures"]
        assert failure["rule"] == "fail-on unsafe-to-load" and failure["evidence"] == ["pytorch_model.bin"]
        assert failure["message"].startswith("Do not load pytorch_model.bin: loading would call os.system")
    assert _cli(str(tampered), "--fail-on", "unsafe-pickle").exit_code == 1
    assert _cli(str(tampered), "--fail-on", "error").exit_code == 1
    # Only an explicit waiver lets it pass, alone or beside other rules.
    assert _cli(str(tampered), "--allow-unsafe-to-load").exit_code == 0
    assert _cli(str(tampered), "--fail-on", "not-open", "--allow-unsafe-to-load").exit_code == 0


def test_a_policy_file_may_waive_the_gate(tampered, tmp_path):
    config = tmp_path / "policy.toml"
    config.write_text('fail-on = ["not-open"]\n')
    assert _cli(str(tampered), "--config", str(config)).exit_code == 1
    config.write_text('fail-on = ["not-open"]\nallow-unsafe-to-load = true\n')
    assert _cli(str(tampered), "--config", str(config)).exit_code == 0
    config.write_text('allow_unsafe_to_load = "yes"\n')
    result = _cli(str(tampered), "--config", str(config))
    assert result.exit_code == 2 and "must be true or false" in result.stderr


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
    # Unscanned here, the Hub's flag is the only word on the file, and it says unsafe: the run fails.
    assert result.exit_code == 1
    lines = _first_screen(result.stdout)
    assert any(line.startswith("- **Do not load pytorch_model.bin: the Hub's security scan flags it") for line in lines), lines
    assert any(line.startswith("- Not checked for code that runs on load: pytorch_model.bin — weights not scanned") for line in lines)
    assert _cli(UNSAFE_HUB, "--no-scan-weights", "--allow-unsafe-to-load").exit_code == 0  # only an explicit waiver passes it


FLAGGED_CLEAN_HUB = "fixture-threat/flagged-clean-checkpoint"


def test_a_file_the_hub_flags_fails_unless_this_audit_clears_it(fake_hub):
    # Read here and found to hold tensors only: the Hub's flag is said, and does not fail the run.
    result = _cli(FLAGGED_CLEAN_HUB, "--format", "json")
    assert result.exit_code == 0, result.stderr
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict["unsafe_to_load"] == []
    [flag] = [w for w in verdict["load_unchecked"] if w["code"] == "hub-security-scan"]
    assert flag["path"] == "pytorch_model.bin" and "found nothing" in flag["reason"]
    # Not read here: the Hub's flag decides, on every path (single, census, policy given).
    for args in (["--no-scan-weights"], ["--no-scan-weights", "--fail-on", "not-open"]):
        result = _cli(FLAGGED_CLEAN_HUB, *args, "--format", "json")
        assert result.exit_code == 1, (args, result.stderr)
        [unsafe] = json.loads(result.stdout)["verdict"]["unsafe_to_load"]
        assert unsafe["path"] == "pytorch_model.bin" and unsafe["code"] == "hub-security-scan"


def test_a_census_gives_the_hub_flag_the_same_decision(fake_hub, tmp_path):
    out = tmp_path / "census.jsonl"
    result = _cli(FLAGGED_CLEAN_HUB, UNSAFE_HUB, "--no-scan-weights", "-q", "-o", str(out))
    assert result.exit_code == 1, result.stderr
    records = {r["target"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert {target: record["exit_code"] for target, record in records.items()} == {FLAGGED_CLEAN_HUB: 1, UNSAFE_HUB: 1}


def test_the_action_step_fails_on_it(tampered, tmp_path):
    workspace = tmp_path / "action" / "workspace"
    workspace.parent.mkdir()
    tampered.rename(workspace)
    process, summary, outputs = run_audit_step(tmp_path / "action", None)
    assert process.returncode == 1, process.stdout + process.stderr
    assert "Do not load pytorch_model.bin: loading would call os.system" in summary[:summary.index("## What may I do?")]
    assert outputs["verdict"] == "open-weights"
