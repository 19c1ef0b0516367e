"""Every kind of gate through every path: the same fixture and the same policy give the same exit
code and the same failing rules whether the target is audited alone, among several, in a census
written as JSONL or CSV, or by the GitHub Action's step, over the fake Hub and as a local folder.

Each expectation comes from the fixture's construction (its expected.yaml or its repo.yaml
comment): the relabelled fine-tune is restricted weights and carries a licence-relabelled error, the
Llama 3 fine-tune whose card says Apache-2.0 inherits the Llama 3 licence for its weights,
speech-nc is CC-BY-NC-4.0, the orphan's base cannot be read (a provisional verdict), the
tampered checkpoint's pickle calls os.system, open-science is open source.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures.weights.builders import Call, Ref, state_dict, torch_zip
from test_action import run_audit_step

from auditor.cli import audit_model
from fakehub.checkout import materialise

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
IDS = {"relabelled": "fixture-tuners/llama-chat-apache", "cc-by-nc": "fixture-research/speech-nc",
       "lineage-unreadable": "fixture-lineage/orphan", "unsafe-pickle-5gb": "fixture-threat/tampered-checkpoint",
       "open-science": "fixture-lab/open-science-1b", "lineage-llama-relabelled": "fixture-lineage/llama3-relabelled"}

# gate, fixture, policy (option -> value), exit code, failing rules
GATES = [
    ("verdict", "relabelled", {"fail-on": "restricted-weights"}, 1, {"fail-on restricted-weights"}),
    # the unsafe checkpoint also fails the gate every policy keeps on files unsafe to load
    ("finding-code", "unsafe-pickle-5gb", {"fail-on": "unsafe-pickle"}, 1, {"fail-on unsafe-pickle", "fail-on unsafe-to-load"}),
    ("severity", "relabelled", {"fail-on": "error"}, 1, {"fail-on error"}),
    ("allow-licence", "cc-by-nc", {"allow-licence": "apache-2.0,mit"}, 1, {"allow-licence apache-2.0, mit"}),
    ("deny-licence", "cc-by-nc", {"deny-licence": "cc-by-nc-*"}, 1, {"deny-licence cc-by-nc-*"}),
    ("verdict-provisional", "lineage-unreadable", {"fail-on": "verdict-provisional"}, 1, {"fail-on verdict-provisional"}),
    # the Llama 3 licence governs the weights by inheritance, though the card and LICENSE say Apache-2.0
    ("allow-inherited", "lineage-llama-relabelled", {"allow-licence": "apache-2.0,mit"}, 1, {"allow-licence apache-2.0, mit"}),
    ("deny-family", "lineage-llama-relabelled", {"deny-licence": "llama"}, 1, {"deny-licence llama"}),
    ("passing", "open-science", {"fail-on": "not-open"}, 0, set()),
]


def _options(policy: dict[str, str]) -> list[str]:
    return [part for name, value in policy.items() for part in (f"--{name}", value)]


def _rules(policy: dict | None) -> list[str]:
    return sorted(f["rule"] for f in (policy or {}).get("failures", []))


def _local_folder(case: str, where: Path) -> Path:
    """The fixture as a local folder; the tampered checkpoint with its pickle in full (a small one
    calling os.system, as the 5 GB one the Hub serves does)."""
    folder = materialise(FIXTURES / case, where)
    if case == "unsafe-pickle-5gb":
        weights, _ = state_dict({"encoder.weight": (2, 3)})
        weights["__trigger__"] = Call(Ref("os", "system"), ("echo owned",))
        (folder / "pytorch_model.bin").write_bytes(torch_zip(weights))
    return folder


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(audit_model, list(args))
    return result.exit_code, result.stdout


def _paths(target: str, policy: dict[str, str], tmp_path: Path) -> dict[str, tuple[int, list[str]]]:
    """(exit code, failing rules) of `target` under `policy` on each in-process path."""
    options = _options(policy)
    seen: dict[str, tuple[int, list[str]]] = {}
    code, out = _cli(target, "--format", "json", *options)
    seen["single"] = (code, _rules(json.loads(out).get("policy")))
    code, out = _cli(target, target, "--format", "json", *options)
    results = json.loads(out)["results"]
    assert len(results) == 2
    assert _rules(results[0].get("policy")) == _rules(results[1].get("policy"))
    seen["multi"] = (code, _rules(results[0].get("policy")))
    jsonl = tmp_path / "census.jsonl"
    code, _ = _cli(target, "-q", "-o", str(jsonl), *options)
    [record] = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert record["status"] == "audited", record
    assert record["exit_code"] == code
    seen["census-jsonl"] = (code, _rules(record.get("policy")))
    table = tmp_path / "census.csv"
    code, _ = _cli(target, "-q", "--jobs", "2", "-o", str(table), *options)
    [row] = list(csv.DictReader(table.open(encoding="utf-8")))
    assert row["status"] == "audited" and int(row["exit_code"]) == code
    seen["census-csv"] = (code, seen["census-jsonl"][1])  # a CSV row has no column for rules: its exit code must agree
    return seen


def _action(target: str, policy: dict[str, str], tmp_path: Path, fake_hub, workspace: Path | None = None) -> tuple[int, list[str]]:
    inputs = {name.replace("-", "_"): value for name, value in policy.items()}
    env = {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": fake_hub.endpoint, "AUDITOR_CACHE_DIR": os.environ["AUDITOR_CACHE_DIR"]}
    process, _, outputs = run_audit_step(tmp_path / "action", None, extra_env=env, target=target, format="json",
                                         sarif="false", **inputs)
    assert outputs.get("report-path"), process.stdout + process.stderr
    report = json.loads(Path(outputs["report-path"]).read_text())
    return process.returncode, _rules(report.get("policy"))


@pytest.mark.parametrize("where", ["hub", "local"])
@pytest.mark.parametrize("gate, case, policy, code, rules", GATES, ids=[g[0] for g in GATES])
def test_every_path_decides_alike(gate, case, policy, code, rules, where, fake_hub, tmp_path):
    target = IDS[case] if where == "hub" else str(_local_folder(case, tmp_path / "checkout"))
    seen = _paths(target, policy, tmp_path)
    seen["action"] = _action(target, policy, tmp_path, fake_hub)
    for path, (exit_code, failing) in seen.items():
        assert exit_code == code, f"{path}: exit {exit_code}"
        assert set(failing) == rules, f"{path}: {failing}"
    assert len({tuple(failing) for _, failing in seen.values()}) == 1, seen
