"""The judge on licence matches built by hand, with the real knowledge base."""

from __future__ import annotations

import pytest

from auditor.identify import load_knowledge_base
from auditor.judge.licences import TermsLevel, assess_licences, card_terms_findings, custom_text_terms, profile_level
from auditor.judge.lineage import check_lineage
from auditor.model import LicenceKind, LicenceMatch, MatchMethod

KB = load_knowledge_base()


def match(licence_id: str, source: str, kind: LicenceKind = LicenceKind.LICENCE, confidence: float = 1.0) -> LicenceMatch:
    profile = KB.get(licence_id)
    method = MatchMethod.METADATA if source.startswith("card:") else MatchMethod.EXACT
    return LicenceMatch(licence_id, profile.name if profile else licence_id, profile.spdx if profile else None, kind, source, confidence, method)


def codes(assessment) -> set[str]:
    return {f.code for f in assessment.findings}


def test_licence_file_outweighs_the_card_and_a_disagreement_is_relabelling():
    result = assess_licences([match("apache-2.0", "card:license"), match("llama3.1", "LICENSE")], KB, ["LICENSE"], {}, "apache-2.0")
    assert result.weights.level is TermsLevel.RESTRICTED
    assert "licence-relabelled" in codes(result)


def test_a_generic_card_id_is_not_relabelling():
    result = assess_licences([match("cc", "card:license"), match("cc-by-4.0", "LICENSE")], KB, ["LICENSE"], {}, "cc")
    assert "licence-relabelled" not in codes(result)
    assert result.weights.level is TermsLevel.OPEN


def test_code_licence_files_do_not_govern_the_weights():
    result = assess_licences([match("deepseek", "LICENSE-MODEL"), match("mit", "LICENSE-CODE")], KB, ["LICENSE-MODEL", "LICENSE-CODE"], {}, None)
    assert result.weights.level is TermsLevel.RESTRICTED and result.weights.ids == ("deepseek",)
    assert result.code.ids == ("mit",)


def test_card_alternatives_take_the_mildest_and_conjunctions_the_strictest():
    either = assess_licences([match("mit", "card:license"), match("cc-by-nc-4.0", "card:license")], KB, [], {}, "mit OR cc-by-nc-4.0")
    both = assess_licences([match("mit", "card:license"), match("cc-by-nc-4.0", "card:license")], KB, [], {}, "mit AND cc-by-nc-4.0")
    assert (either.weights.level, both.weights.level) == (TermsLevel.OPEN, TermsLevel.NON_COMMERCIAL)


def test_community_licence_declared_without_its_text_is_flagged():
    assert "licence-text-missing" in codes_of(duties([match("llama3.1", "card:license")], [], {}))


def test_nothing_at_all_is_no_licence_and_other_is_unknown():
    assert assess_licences([], KB, [], {}, None).weights.level is TermsLevel.NONE
    other = assess_licences([], KB, [], {}, "other")
    assert other.weights.level is TermsLevel.UNKNOWN and "licence-unidentified" in codes(other)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("You may use the Model solely for non-commercial research purposes.", TermsLevel.NON_COMMERCIAL),
        ("If your products exceed 100 million monthly active users you must request a license.", TermsLevel.RESTRICTED),
        ("Permission is hereby granted, free of charge, to any person obtaining a copy", TermsLevel.OPEN),
        ("These are the terms.", TermsLevel.UNKNOWN),
    ],
)
def test_unknown_licence_texts_are_read_for_their_clauses(text, level):
    assert custom_text_terms(text)[0] is level


def test_unknown_custom_licence_file_gives_its_clauses():
    text = "ACME MODEL LICENSE\n\nYou may not use the Model for commercial purposes.\n"
    result = assess_licences([], KB, ["LICENSE"], {"LICENSE": text}, "other")
    assert result.weights.level is TermsLevel.NON_COMMERCIAL
    assert "non-commercial use only" in result.weights.clauses


@pytest.mark.parametrize(
    ("base", "derivative", "compatible"),
    [
        ("llama3.1", "apache-2.0", False),
        ("llama3.1", "llama3.1", True),
        ("apache-2.0", "mit", True),
        ("cc-by-nc-4.0", "apache-2.0", False),
        ("cc-by-nc-4.0", "cc-by-nc-sa-4.0", True),
        ("creativeml-openrail-m", "apache-2.0", False),
        ("creativeml-openrail-m", "openrail++", True),
        ("cc-by-sa-4.0", "cc-by-4.0", False),
    ],
)
def test_lineage(base, derivative, compatible):
    found = check_lineage({"org/base": [base]}, [derivative], KB)
    assert (not found) is compatible, found


def test_an_unknown_model_licence_beside_a_known_one_is_read_too():
    texts = {"LICENSE": "Apache", "LICENSE-MODEL": "The Model may be used for research purposes only."}
    result = assess_licences([match("apache-2.0", "LICENSE")], KB, ["LICENSE", "LICENSE-MODEL"], texts, None)
    assert result.weights.level is TermsLevel.NON_COMMERCIAL
    assert "licence-unidentified" in codes(result)


def test_a_card_whose_licence_section_forbids_commercial_use_conflicts_with_an_open_licence():
    open_terms = assess_licences([match("mit", "card:license")], KB, [], {}, "mit").weights
    body = "# Model\n\nGreat model for commercial chatbots.\n\n## License\n\nMIT, but for research purposes only.\n\n## Usage\n\nRun it.\n"
    (found,) = card_terms_findings(body, "README.md", open_terms)
    assert found.code == "card-terms-conflict" and "MIT" in found.message
    assert card_terms_findings("# Model\n\n## License\n\nMIT.\n", "README.md", open_terms) == []
    restricted = assess_licences([match("cc-by-nc-4.0", "card:license")], KB, [], {}, "cc-by-nc-4.0").weights
    assert card_terms_findings(body, "README.md", restricted) == []


@pytest.mark.parametrize("profile", [p for p in KB if p.text_path], ids=lambda p: p.id)
def test_clause_patterns_never_misread_a_known_licence(profile):
    """Read as if unknown, every reference text implies its own level or nothing: no false alarm."""
    level, clauses = custom_text_terms(profile.reference_text())
    assert level in (TermsLevel.UNKNOWN, profile_level(profile)), clauses


def test_a_known_licence_altered_to_be_research_only_counts_as_research_only():
    text = KB.get("apache-2.0").reference_text() + "\nThe Work may be used for research purposes only.\n"
    altered = LicenceMatch("apache-2.0", "Apache License 2.0", "Apache-2.0", LicenceKind.LICENCE, "LICENSE", 0.97, MatchMethod.SIMILARITY, modified=True)
    result = assess_licences([altered], KB, ["LICENSE"], {"LICENSE": text}, None)
    assert result.weights.level is TermsLevel.NON_COMMERCIAL
    assert "non-commercial use only" in result.weights.clauses


def test_terms_appended_after_a_complete_licence_are_read():
    text = KB.get("mit").reference_text()
    lines = len(text.splitlines())
    text += "\nADDITIONAL TERMS: the Model may be used for research purposes only.\n"
    whole = LicenceMatch("mit", "MIT License", "MIT", LicenceKind.LICENCE, "LICENSE", 1.0, MatchMethod.SIMILARITY, span=(1, lines))
    result = assess_licences([whole], KB, ["LICENSE"], {"LICENSE": text}, None)
    assert result.weights.level is TermsLevel.NON_COMMERCIAL
    assert "licence-modified" in codes(result)


def test_a_licence_file_that_could_not_be_read_is_not_a_missing_text():
    declared = [match("llama3.2", "card:license")]
    assert "licence-text-missing" not in codes_of(duties(declared, ["LICENSE.txt"], {}))  # shipped, even unread
    assert "licence-text-missing" in codes_of(duties(declared, [], {}))


def duties(matches, licence_files, texts):
    """The duty findings for a release with these own licence matches (no ancestors, no datasets)."""
    from auditor.judge.duties import Release, check_duties
    from auditor.judge.effective import Binding
    from auditor.model import ReleaseEvidence

    release = Release("model", tuple(licence_files), tuple(licence_files), texts, tuple(matches), "")
    return check_duties(release, [Binding(m.id, m.source) for m in matches], (), ReleaseEvidence(), KB)


def codes_of(findings):
    return {f.code for f in findings}


def test_the_hubs_own_security_scan_is_reported_when_it_flags_files():
    from auditor.scan.release import hub_security_findings

    flagged = {"scansDone": True, "filesWithIssues": [{"path": "pytorch_model.bin", "level": "unsafe"}]}
    (found,) = hub_security_findings(flagged)
    assert found.code == "hub-security-scan" and found.evidence == ("pytorch_model.bin",)
    assert hub_security_findings({"scansDone": True, "filesWithIssues": []}) == []
    assert hub_security_findings(None) == []
