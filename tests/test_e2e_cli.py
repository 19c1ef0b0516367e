"""The real `audit-model` CLI against the fake Hub and against local checkouts of the same fixtures.

Every fixture repo with an expected.yaml must get the verdict its construction intends, the
same way from the Hub and from a local directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
CASES = sorted(p.parent.name for p in FIXTURES.glob("*/expected.yaml"))


def expected(case: str) -> dict:
    return yaml.safe_load((FIXTURES / case / "expected.yaml").read_text())


def repo_id(case: str) -> str:
    return yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())["id"]


def run_cli(*args: str) -> tuple[int, dict | None, str]:
    result = CliRunner().invoke(audit_model, [*args, "--format", "json"])
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, report, result.stderr


# Facts only the Hub knows: a local checkout holds every file and has no access gate.
HUB_ONLY = {"findings": {"gated-files-unread"}, "keys": {"gated"}}


def check_report(case: str, report: dict, hub: bool = True) -> None:
    want = expected(case)
    verdict = report["verdict"]
    assert verdict["openness"] == want["openness"], verdict["reasons"]
    ids = {m["id"] for m in report["licences"]} | {m["spdx"] for m in report["licences"]}
    for licence in want.get("weights_licence", []):
        assert licence in ids, f"{licence} not among {sorted(i for i in ids if i)}"
    codes = {f["code"] for f in report["findings"]}
    wanted = set(want.get("findings", [])) - (set() if hub else HUB_ONLY["findings"])
    assert wanted <= codes, codes
    for key in ("mof_class", "osaid", "gated"):
        if key in want and (hub or key not in HUB_ONLY["keys"]):
            assert verdict[key] == want[key]


@pytest.mark.parametrize("case", CASES)
def test_fixture_verdict_over_the_hub(case, fake_hub):
    code, report, stderr = run_cli(repo_id(case))
    assert code == expected(case).get("hub_exit", 0), stderr  # 1: a file unsafe to load, with no policy given
    assert report["target"] == {"kind": "hub", "repo_id": repo_id(case), "path": None, "revision": None}
    assert report["sha"] == yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())["sha"]
    check_report(case, report)


@pytest.mark.parametrize("case", CASES)
def test_fixture_verdict_from_a_local_checkout(case, local_checkout, fake_hub):
    # the fake Hub answers the look-ups of base models and datasets a local card names
    code, report, stderr = run_cli(str(local_checkout(case)))
    assert code == 0, stderr
    assert report["target"]["kind"] == "local"
    check_report(case, report, hub=False)


def test_big_weights_transfer_no_weight_bytes_and_few_requests(fake_hub):
    code, report, _ = run_cli("fetch-lab/big-weights")
    assert code == 0
    stats = fake_hub.stats
    assert stats.bytes_by_path["model.safetensors"] == 0
    api = [r.path.split("?")[0] for r in stats.log if r.kind == "api"]
    # one model_info for the repo; the only other call looks up the licence of the base model its card names
    assert api == ["/api/models/fetch-lab/big-weights", "/api/models/fetch-lab/base-1b"]
    small_files_read = len([a for a in report["artefacts"] if a["category"] != "weights"])
    assert stats.requests["head"] + stats.requests["get"] <= 2 * small_files_read
    assert report["components"]["weights"]["present"]


def test_gated_repo_without_access_is_audited_from_public_metadata(fake_hub):
    code, report, _ = run_cli(repo_id("gated"))
    assert code == 0
    assert report["verdict"]["gated"] is True
    gated = [f for f in report["findings"] if f["code"] == "gated-files-unread"]
    assert gated and "request access" in gated[0]["message"]
    assert "LICENSE.txt" in gated[0]["evidence"]
    hub = os.environ["HF_ENDPOINT"].rstrip("/")  # the Hub read, not the public one
    assert f"request access at {hub}/{repo_id('gated')} " in gated[0]["message"]


def test_reports_link_the_hub_the_repo_was_read_from(fake_hub):
    hub, repo = os.environ["HF_ENDPOINT"].rstrip("/"), repo_id("gated")
    sarif = json.loads(CliRunner().invoke(audit_model, [repo, "--format", "sarif"]).stdout)
    assert sarif["runs"][0]["versionControlProvenance"][0]["repositoryUri"] == f"{hub}/{repo}"
    bom = json.loads(CliRunner().invoke(audit_model, [repo, "--format", "cyclonedx"]).stdout)
    model = next(c for c in bom["components"] if c["type"] == "machine-learning-model")
    assert {ref["url"] for ref in model["externalReferences"] if ref["type"] == "website"} == {f"{hub}/{repo}"}


def test_gated_repo_with_a_granted_token_reads_the_licence(fake_hub):
    code, report, _ = run_cli(repo_id("gated"), "--token", "hf_fixture_granted")
    assert code == 0
    assert not [f for f in report["findings"] if f["code"] == "gated-files-unread"]
    assert any(m["source"] == "LICENSE.txt" and m["id"] == "llama3.2" for m in report["licences"])


def test_markdown_report_leads_with_the_verdict(fake_hub):
    result = CliRunner().invoke(audit_model, [repo_id("llama31-derivative"), "--format", "markdown"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# Audit of fixture-tuners/llama-3.1-8b-chat-tune")
    assert lines[2].startswith("**Verdict: restricted weights**")
    assert "700 million monthly active users" in result.stdout
    assert "## What was released" in result.stdout and "## Findings" in result.stdout


def test_output_file_and_batch_keep_every_result(fake_hub, tmp_path):
    out = tmp_path / "batch.json"
    result = CliRunner().invoke(audit_model, [repo_id("cc-by-nc"), "no-such-org/no-such-model", repo_id("gemma"), "-o", str(out)])
    assert result.exit_code == 3
    batch = json.loads(out.read_text())
    assert [r["verdict"]["openness"] for r in batch["results"]] == ["non-commercial", "restricted-weights"]
    assert batch["failures"][0]["target"] == "no-such-org/no-such-model"
    assert "not found" in batch["failures"][0]["error"]


def test_remote_scan_of_a_5_gb_pickle_reads_under_1_mib_and_finds_os_system(fake_hub):
    code, report, _ = run_cli(repo_id("unsafe-pickle-5gb"), "--scan-weights")
    assert code == 1  # with no policy, a file unsafe to load fails the run
    sent = fake_hub.stats.bytes_by_path["pytorch_model.bin"]
    assert 0 < sent < 1 << 20
    scan = report["facts"]["weight_scan"]
    assert scan["bytes_read"] == sent  # the report states what was transferred
    unsafe = [f for f in report["findings"] if f["code"] == "unsafe-pickle"]
    assert unsafe and "os.system" in unsafe[0]["message"]
    markdown = CliRunner().invoke(audit_model, [repo_id("unsafe-pickle-5gb"), "--scan-weights", "--format", "markdown"]).stdout
    assert "## Weight scan" in markdown and "pytorch_model.bin" in markdown


def test_hub_audit_scans_pickles_by_default_and_no_scan_reads_no_weight_bytes(fake_hub):
    code, report, _ = run_cli(repo_id("unsafe-pickle-5gb"))
    assert code == 1 and 0 < fake_hub.stats.bytes_by_path["pytorch_model.bin"] < 1 << 20
    assert [w["path"] for w in report["verdict"]["unsafe_to_load"]] == ["pytorch_model.bin"]
    assert "os.system" in report["verdict"]["unsafe_to_load"][0]["reason"]
    read_before = fake_hub.stats.bytes_by_path["pytorch_model.bin"]
    code, report, _ = run_cli(repo_id("unsafe-pickle-5gb"), "--no-scan-weights")
    assert fake_hub.stats.bytes_by_path["pytorch_model.bin"] == read_before  # only the first run read it
    assert "weight_scan" not in report["facts"]
    # the Hub's own scan costs nothing: model_info carries it; unread here, its flag decides
    flagged = [f for f in report["findings"] if f["code"] == "hub-security-scan"]
    assert flagged and flagged[0]["evidence"] == ["pytorch_model.bin"]
    assert code == 1
    assert [(w["path"], w["code"]) for w in report["verdict"]["unsafe_to_load"]] == [("pytorch_model.bin", "hub-security-scan")]
    unchecked = {(w["path"], w["code"]) for w in report["verdict"]["load_unchecked"]}
    assert unchecked == {("pytorch_model.bin", "weights-not-scanned")}


def test_batch_markdown_opens_with_a_summary_table_and_targets_can_come_from_a_file(fake_hub, tmp_path):
    listing = tmp_path / "models.txt"
    listing.write_text(f"# models to compare\n{repo_id('cc-by-nc')}\n\n{repo_id('open-science')}  # the open one\nnobody/missing\n")
    result = CliRunner().invoke(audit_model, ["--targets-from", str(listing), repo_id("gemma"), "--format", "markdown"])
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert lines[0] == "# Audit of 4 models"
    rows = [line for line in lines if line.startswith("| fixture-") or line.startswith("| nobody/")]
    verdicts = [row.split(" | ")[1] for row in rows]
    assert verdicts[:3] == ["restricted weights", "non-commercial", "open source"]  # arguments first, then the file
    assert verdicts[3].startswith("not audited") and "not found" in verdicts[3]
    assert "## Audit of fixture-research/speech-nc" in result.stdout and "### What was released" in result.stdout


def test_no_target_at_all_is_a_usage_error():
    result = CliRunner().invoke(audit_model, [])
    assert result.exit_code == 2 and "at least one TARGET" in result.stderr
