"""Unit tests of the chain of ancestors and the effective terms, with lookups handed in as data."""

from __future__ import annotations

from auditor.identify import identify_text, load_knowledge_base
from auditor.judge.effective import effective_terms
from auditor.judge.licences import Terms, TermsLevel
from auditor.judge.lineage import Link, card_links, hub_repo_id, release_links, tag_links, trace_lineage
from auditor.model import AncestorRecord, LicenceKind, LicenceMatch, MatchMethod

KB = load_knowledge_base()


def record(repo_id: str, licence: str | None = None, base=None) -> AncestorRecord:
    card = {k: v for k, v in (("license", licence), ("base_model", base)) if v}
    return AncestorRecord(repo_id, readable=True, card=card)


def trace(records: dict[str, AncestorRecord], links: list[Link], **options):
    asked = []

    def lookup(repo_id: str) -> AncestorRecord:
        asked.append(repo_id)
        return records.get(repo_id) or AncestorRecord(repo_id, readable=False, reason="not found on the Hub")

    chain, findings = trace_lineage("me/model", links, lookup, identify_text, KB, **options)
    return chain, {f.code for f in findings}, asked


def test_repo_ids_are_read_from_urls_and_local_paths_are_not():
    assert hub_repo_id("https://huggingface.co/org/name") == "org/name"
    assert hub_repo_id("org/name@main") == "org/name"
    assert hub_repo_id("./checkpoints/base") is None and hub_repo_id("/models/x") is None and hub_repo_id("") is None


def test_card_tags_and_configs_name_parents_with_their_relation():
    assert card_links({"base_model": ["a/one", "b/two"]}) == [Link("a/one", "merge", "card:base_model"), Link("b/two", "merge", "card:base_model")]
    assert card_links({"base_model": "a/one", "base_model_relation": "quantized"})[0].relation == "quantized"
    assert release_links({"base_model": "a/one"}, {}, (), ["base_model:finetune:a/one"]) == [Link("a/one", "finetune", "hub:tags")]
    assert tag_links(["base_model:finetune:a/one", "base_model:b/two", "license:mit"]) == [
        Link("a/one", "finetune", "hub:tags"), Link("b/two", "derived", "hub:tags")]
    texts = {"adapter_config.json": '{"base_model_name_or_path": "a/one"}',
             "mergekit_config.yml": "models:\n  - model: b/two\n  - model: ./local\nbase_model: c/three\n"}
    links = release_links({}, texts, [{"base_models": ["https://huggingface.co/d/four"]}], ["base_model:adapter:a/one", "base_model:quantized:e/five"])
    assert [(l.repo_id, l.relation) for l in links] == [("a/one", "adapter"), ("e/five", "quantized"), ("c/three", "merge"), ("b/two", "merge"), ("d/four", "quantized")]


def test_a_diamond_is_looked_up_once_and_a_cycle_ends_with_a_finding():
    records = {"p/a": record("p/a", "mit", ["p/c"]), "p/b": record("p/b", "mit", "p/c"), "p/c": record("p/c", "apache-2.0", "p/a")}
    chain, codes, asked = trace(records, [Link("p/a", "merge", "card"), Link("p/b", "merge", "card")])
    assert sorted(asked) == ["p/a", "p/b", "p/c"]
    assert "lineage-cycle" in codes and [a.repo_id for a in chain if a.status.value == "cycle"] == ["p/a"]


def test_depth_is_bounded_and_unreadable_ancestors_are_findings():
    records = {f"p/{n}": record(f"p/{n}", "mit", f"p/{n + 1}") for n in range(10)}
    chain, codes, asked = trace(records, [Link("p/0", "finetune", "card")], max_depth=4)
    assert len(asked) == 4 and "ancestor-unreadable" in codes and chain[-1].status.value == "too-deep"
    chain, codes, _ = trace({}, [Link("gone/base", "finetune", "card")])
    assert chain[0].status.value == "unreadable" and chain[0].reason == "not found on the Hub"


def _own(licence_id: str) -> Terms:
    profile = KB.get(licence_id)
    match = LicenceMatch(profile.id, profile.name, profile.spdx, LicenceKind.LICENCE, "card:license", 1.0, MatchMethod.METADATA)
    return Terms(TermsLevel.OPEN, (match,))


def test_effective_terms_take_the_most_restrictive_reading_and_say_why():
    chain, _, _ = trace({"meta/base": record("meta/base", "llama3.1")}, [Link("meta/base", "finetune", "card")])
    effective = effective_terms(_own("mit"), (), chain, (TermsLevel.UNKNOWN, ()), "README.md", KB)
    assert effective.terms.level is TermsLevel.RESTRICTED
    assert effective.facts["commercial_use"].value == "capped" and effective.facts["commercial_use"].because == ("meta/base",)
    assert effective.facts["naming"].value == "yes"
    assert "cannot widen it" in effective.notes[0]
    # a RAIL base passes on its use restrictions only; the card's own words can only restrict further
    chain, _, _ = trace({"s/base": record("s/base", "openrail++")}, [Link("s/base", "finetune", "card")])
    effective = effective_terms(_own("apache-2.0"), (), chain, (TermsLevel.NON_COMMERCIAL, ("non-commercial use only",)), "README.md", KB)
    assert effective.facts["use_restrictions"].value == "yes" and effective.facts["use_restrictions"].sources == ("openrail++",)
    assert effective.facts["commercial_use"].value == "no" and effective.facts["commercial_use"].sources == ("card-text",)
    assert effective.terms.level is TermsLevel.NON_COMMERCIAL
