"""Card metadata, licences pasted into card bodies, and SPDX expressions."""

import pytest

from auditor.identify import identify_card_licences, identify_readme_sections, load_knowledge_base, spdx_expression
from auditor.model import LicenceKind, LicenceMatch, MatchMethod, ModelCard

KB = load_knowledge_base()


def card(metadata=None, body=""):
    return ModelCard(path="README.md", metadata=metadata or {}, body=body)


def found(metadata):
    return [(m.id, m.source) for m in identify_card_licences(card(metadata), KB)]


def test_a_hub_licence_id():
    [match] = identify_card_licences(card({"license": "apache-2.0"}), KB)
    assert (match.id, match.spdx, match.method, match.source) == ("apache-2.0", "Apache-2.0", MatchMethod.METADATA, "card:license")
    assert match.confidence == 1.0 and match.kind is LicenceKind.LICENCE


def test_an_spdx_expression_and_a_list():
    assert found({"license": "Apache-2.0 OR MIT"}) == [("apache-2.0", "card:license"), ("mit", "card:license")]
    assert found({"license": ["mit", "cc-by-4.0"]}) == [("mit", "card:license"), ("cc-by-4.0", "card:license")]


def test_other_with_a_known_licence_name():
    assert found({"license": "other", "license_name": "llama3.1"}) == [("llama3.1", "card:license_name")]


def test_other_with_an_unknown_licence_name_is_kept_with_low_confidence():
    [match] = identify_card_licences(card({"license": "other", "license_name": "acme-model-licence-v9"}), KB)
    assert (match.id, match.spdx, match.confidence) == ("acme-model-licence-v9", "LicenseRef-acme-model-licence-v9", 0.3)


def test_other_alone_names_nothing():
    assert identify_card_licences(card({"license": "other"}), KB) == ()
    assert identify_card_licences(card({}), KB) == ()


def test_licence_tags_count_once():
    metadata = {"license": "mit", "tags": ["text-generation", "license:mit", "license:cc-by-4.0"]}
    assert found(metadata) == [("mit", "card:license"), ("cc-by-4.0", "card:tags")]


def test_license_link_to_a_known_url():
    url = next((u for p in KB for u in p.urls if p.id == "llama3.1"), None)
    if url is None:
        pytest.skip("llama3.1 has no URL")
    assert found({"license": "other", "license_link": url}) == [("llama3.1", "card:license_link")]


@pytest.mark.parametrize("value", ["((( AND ", "!!!", 42.5, {"a": 1}, None, True])
def test_garbage_never_raises(value):
    result = identify_card_licences(card({"license": value}), KB)
    assert all(m.confidence <= 1.0 for m in result)
    assert "apache-2.0" not in [m.id for m in result]


def test_full_licence_text_in_the_card_body_but_not_a_mention():
    text = KB.get("mit").reference_text()
    body = "# Model\n\nThis model is released under the MIT licence.\n\n## License\n\n" + text
    [match] = identify_readme_sections(card({"license": "mit"}, body), KB)
    assert (match.id, match.source, match.method) == ("mit", "README.md", MatchMethod.SIMILARITY)
    mention = card({}, "# Model\n\nLicensed under the Apache License, Version 2.0.\n")
    assert identify_readme_sections(mention, KB) == ()


def _m(licence_id, spdx, kind=LicenceKind.LICENCE):
    return LicenceMatch(licence_id, licence_id, spdx, kind, "LICENSE", 1.0, MatchMethod.EXACT)


def test_spdx_expression_joins_deduplicates_and_skips_policies():
    matches = [_m("mit", "MIT"), _m("apache-2.0", "Apache-2.0"), _m("mit", "MIT"),
               _m("llama3.1-aup", "LicenseRef-llama3.1-aup", LicenceKind.POLICY), _m("custom thing", None)]
    assert spdx_expression(matches) == "MIT AND Apache-2.0 AND LicenseRef-custom-thing"
    assert spdx_expression([]) is None
