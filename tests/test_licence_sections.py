"""Sections inside one licence file: a licence that follows another is its own licence, named from
its own title; third-party notices scope to their components, never to the weights; a text titled
as a licence the knowledge base lacks keeps its own name even when its body copies another's list."""

from __future__ import annotations

from pathlib import Path

from test_unknown_licence_variants import VARIANTS, licence_text

from auditor.identify import identify_text, load_knowledge_base
from auditor.identify.unknown import with_read_licences
from auditor.judge.licences import TermsLevel, assess_licences
from auditor.model import LicenceKind

KB = load_knowledge_base()
ROOT = Path(__file__).resolve().parents[1]


def _variant(name: str) -> str:
    return licence_text(next(v for v in VARIANTS if v["name"] == name))


def _assess(text: str):
    matches = identify_text(text, "LICENSE", KB)
    kb = with_read_licences(KB, matches)
    return matches, assess_licences(matches, kb, ["LICENSE"], {"LICENSE": text})


def test_a_licence_following_another_in_the_same_file_is_read_as_its_own_licence():
    matches, assessment = _assess(_variant("mit-then-community-licence"))
    assert [m.id for m in matches] == ["mit", "LicenseRef-pulsar-model-community-license"]
    second = matches[1]
    assert second.name == "Pulsar Model Community License" and second.unidentified
    assert ("commercial_use", "capped") in [(f.name, f.value) for f in second.facts]
    assert assessment.weights.level is TermsLevel.RESTRICTED
    # not "terms added to MIT": the MIT text is unaltered and its own lines are all it covers
    assert not [f for f in assessment.findings if f.code == "licence-modified"]


def test_third_party_notices_in_a_licence_are_references_for_their_components_not_the_weights_licence():
    matches, assessment = _assess(_variant("nc-licence-with-third-party-notice"))
    notices = [m for m in matches if m.id in ("apache-2.0", "mit")]
    assert notices and all(m.kind is LicenceKind.REFERENCE for m in notices)
    assert assessment.weights.ids == ("LicenseRef-nova-model-license",)
    assert assessment.weights.level is TermsLevel.NON_COMMERCIAL


def test_a_licence_titled_by_its_own_name_keeps_it_when_its_body_copies_another_producers_policy():
    policy = (ROOT / "licences" / "texts" / "llama4-aup.txt").read_text(encoding="utf-8").split("\n", 2)[2]
    text = ("Quasar Model License\n\n1. Grant. The Licensor grants you a non-exclusive licence to use and modify the Quasar model "
            "for non-commercial research purposes only, and you may not use it for any commercial purpose.\n\n2. Prohibited Uses.\n\n" + policy)
    matches, assessment = _assess(text)
    assert [m.id for m in matches] == ["LicenseRef-quasar-model-license"]
    assert matches[0].name == "Quasar Model License" and "Llama 4 Acceptable Use Policy" in (matches[0].changes or "")
    facts = {f.name: f.value for f in matches[0].facts}
    assert facts["commercial_use"] == "no" and facts["use_restrictions"] == "yes"  # the copied list still restricts
    assert assessment.weights.level is TermsLevel.NON_COMMERCIAL


def test_an_apache_notice_quoted_for_a_component_is_a_reference_and_the_licence_its_title_names_governs():
    matches, assessment = _assess(_variant("nc-licence-quoting-an-apache-notice"))
    assert [(m.id, m.kind) for m in matches if m.id == "apache-2.0"] == [("apache-2.0", LicenceKind.REFERENCE)]
    assert assessment.weights.ids == ("LicenseRef-orion-model-license",)
    assert assessment.weights.level is TermsLevel.NON_COMMERCIAL


def test_an_apache_notice_alone_still_names_apache():
    notice = "\n".join(_variant("nc-licence-quoting-an-apache-notice").splitlines()[10:22])
    matches, assessment = _assess(notice)
    assert assessment.weights.ids == ("apache-2.0",)
