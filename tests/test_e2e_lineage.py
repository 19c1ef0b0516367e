"""Lineage, effective terms, "What may I do?", duties and provisional verdicts, end to end:
the real CLI over the fake Hub and on local checkouts of the lineage fixtures.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
WITH_COMMERCIAL_USE = sorted(
    p.parent.name for p in FIXTURES.glob("*/expected.yaml") if "commercial_use" in (yaml.safe_load(p.read_text()) or {})
)


def repo_id(case: str) -> str:
    return yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())["id"]


def audit(*args: str) -> dict:
    result = CliRunner().invoke(audit_model, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def codes(report: dict) -> set[str]:
    return {f["code"] for f in report["findings"]}


def ancestors(report: dict) -> dict[str, dict]:
    return {a["repo_id"]: a for a in report["lineage"]}


@pytest.mark.parametrize("case", WITH_COMMERCIAL_USE)
def test_commercial_use_follows_the_effective_terms_over_the_hub_and_locally(case, fake_hub, local_checkout):
    want = str(yaml.safe_load((FIXTURES / case / "expected.yaml").read_text())["commercial_use"])
    for target in (repo_id(case), str(local_checkout(case))):
        terms = audit(target)["terms"]
        assert terms["commercial_use"]["value"] == want, target
        assert set(terms["commercial_use"]) == {"value", "from", "because", "clause"}


def test_relabelled_fine_tune_inherits_its_base_licence_and_says_where_from(fake_hub):
    report = audit(repo_id("lineage-relabelled-finetune"))
    assert report["verdict"]["openness"] == "restricted-weights"
    assert any("inherits the Llama 3.1 Community License Agreement from fixture-lineage/community-base" in r
               and "cannot widen it" in r for r in report["verdict"]["reasons"])
    commercial = report["terms"]["commercial_use"]
    assert commercial["value"] == "capped" and commercial["from"] == ["llama3.1"] and commercial["because"] == ["fixture-lineage/community-base"]
    assert report["terms"]["user_cap"]["value"] == "700 million monthly active users"
    base = ancestors(report)["fixture-lineage/community-base"]
    assert (base["relation"], base["status"], base["licences"]) == ("finetune", "checked", ["llama3.1"])
    assert base["licence_source"].startswith("licence file")
    assert "llama3.1" in report["components"]["weights"]["licence"].lower() or "llama-3.1" in report["components"]["weights"]["licence"]
    assert report["components"]["weights"]["open"] is False


def test_adapter_names_its_base_in_adapter_config_and_meets_every_duty(fake_hub, local_checkout):
    for target in (repo_id("lineage-adapter"), str(local_checkout("lineage-adapter"))):
        report = audit(target)
        base = ancestors(report)["fixture-lineage/community-base"]
        assert (base["relation"], base["signal"]) == ("adapter", "adapter_config.json")
        duties = {"licence-text-missing", "naming-duty-unmet", "notice-not-carried-over", "copyright-notice-missing"}
        assert not duties & codes(report)


def test_merge_of_two_parents_takes_the_stricter_one(fake_hub):
    report = audit(repo_id("lineage-merge"))
    parents = ancestors(report)
    assert {parents[p]["relation"] for p in ("fixture-lineage/apache-base", "fixture-lineage/nc-base")} == {"merge"}
    assert report["verdict"]["openness"] == "non-commercial"
    assert report["terms"]["commercial_use"]["because"] == ["fixture-lineage/nc-base"]


def test_a_quantisation_chain_is_followed_with_one_model_info_request_per_repo(fake_hub):
    report = audit(repo_id("lineage-chain-quant"))
    chain = ancestors(report)
    assert set(chain) == {"fixture-lineage/chain-merge", "fixture-lineage/chain-ft", "fixture-lineage/chain-ft2",
                          "fixture-lineage/community-base", "fixture-lineage/apache-base"}
    assert chain["fixture-lineage/chain-merge"]["relation"] == "quantized"
    assert chain["fixture-lineage/community-base"]["depth"] == 3
    # the Llama terms reach the quantisation through a merge and a fine-tune
    assert report["terms"]["commercial_use"]["value"] == "capped"
    api = Counter(r.path.split("?")[0] for r in fake_hub.stats.log if r.kind == "api")
    assert api == Counter({f"/api/models/{repo}": 1 for repo in [repo_id("lineage-chain-quant"), *chain]})
    # a quantisation converts a model: no naming duty
    assert "naming-duty-unmet" not in codes(report)


def test_a_cycle_ends_with_a_finding(fake_hub):
    report = audit(repo_id("lineage-cycle-a"))
    assert "lineage-cycle" in codes(report)
    statuses = {(a["repo_id"], a["status"]) for a in report["lineage"]}
    assert statuses == {("fixture-lineage/cycle-b", "checked"), ("fixture-lineage/cycle-a", "cycle")}


def test_an_unreadable_ancestor_makes_the_verdict_provisional_and_never_open(fake_hub):
    report = audit(repo_id("lineage-unreadable"))
    verdict = report["verdict"]
    assert verdict["provisional"] is True and verdict["openness"] == "unknown"
    assert any("fixture-lineage/deleted-base" in item for item in verdict["unverified"])
    assert ancestors(report)["fixture-lineage/deleted-base"]["status"] == "unreadable"
    assert "ancestor-unreadable" in codes(report)


def test_offline_nothing_is_looked_up_and_known_bases_are_inferred(fake_hub, local_checkout, monkeypatch):
    relabelled, orphan = local_checkout("lineage-llama-relabelled"), local_checkout("lineage-relabelled-finetune")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    report = audit(str(relabelled))
    assert fake_hub.stats.total_requests == 0
    base = ancestors(report)["meta-llama/Meta-Llama-3-8B"]
    assert (base["status"], base["licences"], base["licence_source"]) == ("unreadable", ["llama3"], "inferred from its id")
    assert report["verdict"]["openness"] == "restricted-weights" and report["verdict"]["provisional"] is True
    assert "licence-incompatible-with-base" in codes(report)
    # a base whose licence cannot be inferred: provisional, and not claimed open
    report = audit(str(orphan))
    assert report["verdict"]["provisional"] is True and report["verdict"]["openness"] == "unknown"
    assert fake_hub.stats.total_requests == 0


def test_no_check_links_marks_the_verdict_provisional_and_a_gate_can_refuse_it(fake_hub):
    report = audit(repo_id("lineage-relabelled-finetune"), "--no-check-links")
    assert report["verdict"]["provisional"] is True
    assert any("fixture-lineage/community-base" in item for item in report["verdict"]["unverified"])
    assert "verdict-provisional" in codes(report)
    gate = CliRunner().invoke(audit_model, [repo_id("lineage-relabelled-finetune"), "--no-check-links", "--fail-on", "verdict-provisional"])
    assert gate.exit_code == 1
    assert CliRunner().invoke(audit_model, [repo_id("lineage-adapter"), "--fail-on", "verdict-provisional"]).exit_code == 0


def test_card_words_stricter_than_the_declared_licence_win(fake_hub):
    report = audit(repo_id("lineage-card-terms"))
    commercial = report["terms"]["commercial_use"]
    assert commercial["value"] == "no" and commercial["from"] == ["card-text"] and commercial["clause"] == "non-commercial use only"
    assert any("stricter reading wins" in r for r in report["verdict"]["reasons"])


def test_card_declaring_another_version_than_the_shipped_text_is_relabelled(fake_hub):
    report = audit(repo_id("lineage-version-mismatch"))
    relabelled = [f for f in report["findings"] if f["code"] == "licence-relabelled"]
    assert relabelled and "another version" in relabelled[0]["message"]


def test_duties_unmet_are_findings_citing_their_clause(fake_hub):
    report = audit(repo_id("lineage-relabelled-finetune"))
    messages = {f["code"]: f["message"] for f in report["findings"]}
    assert "Llama" in messages["naming-duty-unmet"] and "“" in messages["naming-duty-unmet"]
    assert "fixture-lineage/community-base ships NOTICE" in messages["notice-not-carried-over"]
    assert "copyright-notice-missing" not in messages  # its MIT text names its holder
    template = audit(repo_id("duty-mit-template"))
    assert {"copyright-notice-missing", "dataset-attribution-missing"} <= codes(template)
    credited = audit(repo_id("lineage-apache-base"))
    assert not {"dataset-attribution-missing", "licence-text-missing", "copyright-notice-missing"} & codes(credited)
    merge = audit(repo_id("lineage-merge"))
    assert any(f["code"] == "licence-text-missing" and "Apache" in f["message"] for f in merge["findings"])


def test_markdown_opens_with_what_may_i_do(fake_hub):
    result = CliRunner().invoke(audit_model, [repo_id("lineage-relabelled-finetune"), "--format", "markdown"])
    assert result.exit_code == 0, result.stderr
    sections = [line for line in result.stdout.splitlines() if line.startswith("## ")]
    assert sections[0] == "## What may I do?"
    first = result.stdout.split("## What may I do?", 1)[1].split("\n## ", 1)[0]
    assert "**Commercial use: yes, under 700 million monthly active users**" in first
    assert "You must:" in first and "`licence-incompatible-with-base`" in first


def test_batch_table_has_a_commercial_use_column(fake_hub):
    result = CliRunner().invoke(audit_model, [repo_id("lineage-nc-base"), repo_id("lineage-apache-base"), "--format", "markdown"])
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| model |"))
    assert header.split(" | ")[2] == "commercial use"
    rows = [line.split(" | ") for line in lines if line.startswith("| fixture-lineage/")]
    assert [row[2] for row in rows] == ["no", "yes"]


def test_a_gguf_names_its_base_in_its_metadata(fake_hub, local_checkout):
    for target in ([repo_id("lineage-gguf"), "--scan-weights"], [str(local_checkout("lineage-gguf", lfs_content=True))]):
        base = ancestors(audit(*target))["fixture-lineage/community-base"]
        assert (base["relation"], base["signal"], base["licences"]) == ("quantized", "gguf:general.base_model", ["llama3.1"])


def test_markdown_lists_the_lineage_and_json_weights_notes_name_the_inherited_licence(fake_hub):
    result = CliRunner().invoke(audit_model, [repo_id("lineage-chain-quant"), "--format", "markdown"])
    lineage = result.stdout.split("## Lineage", 1)[1].split("\n## ", 1)[0]
    assert "| fixture-lineage/chain-merge | quantized | fixture-lineage/chain-q4 | llama3.1 |" in lineage
    notes = audit(repo_id("lineage-relabelled-finetune"))["components"]["weights"]["notes"]
    assert any(n.startswith("inherits the Llama 3.1 Community License Agreement") for n in notes)
