"""The judge's one entry point: a release's reading in, one frozen Judgement out, decided once.

The expectations come from the licences' own terms: Apache-2.0 weights under a card that names
a base model nobody could check are not claimed open (the base's licence may bind them), and
the verdict says what went unchecked.
"""

from __future__ import annotations

import dataclasses

import pytest

from auditor.card import card_from_snapshot
from auditor.classify.classifier import classify, group_weights
from auditor.classify.evidence import gather_evidence
from auditor.identify import identify_card_licences, identify_text, load_knowledge_base
from auditor.judge.judgement import Judgement, ReleaseReading, judge_release
from auditor.judge.lineage import release_links, trace_lineage
from auditor.model import AncestorRecord, ComponentName, FileEntry, Openness, RepoSnapshot, Severity, Target, TargetKind

KB = load_knowledge_base()
APACHE = (KB.known("apache-2.0").reference_text() or "")
CARD = "---\nlicense: apache-2.0\nbase_model: nobody/unlisted-base\n---\n# A model\n"


def _reading(card: str = CARD) -> ReleaseReading:
    texts = {"README.md": card, "LICENSE": APACHE}
    files = (FileEntry("README.md", len(card)), FileEntry("LICENSE", len(APACHE)), FileEntry("model.safetensors", 10_000, lfs=True))
    snapshot = RepoSnapshot(Target(TargetKind.HUB, repo_id="org/model"), "a" * 40, files, texts)
    parsed = card_from_snapshot(snapshot)
    artefacts = classify(snapshot.files)
    matches = (*identify_card_licences(parsed, KB), *identify_text(APACHE, "LICENSE", KB)) if parsed else ()
    unreadable = lambda repo_id: AncestorRecord(repo_id, readable=False, reason="not found")  # noqa: E731
    lineage, found = trace_lineage("org/model", release_links(parsed.metadata if parsed else {}, texts), unreadable, identify_text, KB)
    return ReleaseReading(snapshot, parsed, artefacts, group_weights(artefacts), gather_evidence(parsed, texts), tuple(matches),
                          None, lineage, tuple(found))


def test_one_frozen_judgement_whose_parts_agree():
    judgement = judge_release(_reading(), KB)
    assert isinstance(judgement, Judgement)
    with pytest.raises(dataclasses.FrozenInstanceError):
        judgement.verdict = judgement.verdict  # type: ignore[misc]
    # the base model could not be checked and may bind the release: not claimed open, and provisional
    assert judgement.verdict.openness is Openness.UNKNOWN and judgement.verdict.provisional
    assert any("nobody/unlisted-base" in item for item in judgement.verdict.unverified)
    codes = [f.code for f in judgement.findings]
    assert "verdict-provisional" in codes and "ancestor-unreadable" in codes
    severities = [f.severity for f in judgement.findings]
    assert severities == sorted(severities, key=[Severity.ERROR, Severity.WARNING, Severity.INFO].index)
    assert judgement.terms["commercial_use"].value == "yes"  # Apache-2.0's own grant
    assert judgement.components[ComponentName.WEIGHTS].licence == "Apache-2.0"
    assert {item.label for item in judgement.mof_items} >= {"model card", "final parameters under an open licence"}


def test_the_same_reading_gives_the_same_judgement():
    assert judge_release(_reading(), KB) == judge_release(_reading(), KB)


def test_a_named_dataset_whose_licence_was_not_looked_up_leaves_the_verdict_provisional():
    card = "---\nlicense: apache-2.0\ndatasets: [org/data]\n---\n# A model\n"
    judgement = judge_release(_reading(card), KB, lookups_verified=False)
    assert judgement.verdict.openness is Openness.OPEN_WEIGHTS  # no training code: open weights at most
    assert judgement.verdict.unverified == ("dataset org/data",)
    assert any(reason.startswith("provisional: not checked: dataset org/data") for reason in judgement.verdict.reasons)
