"""Licence names in one place: the cases where the copies that preceded identify/names.py disagreed."""

from __future__ import annotations

import pytest

from auditor.identify.names import licence_ref, name_key, names_a_licence, same_licence_name, split_expression


@pytest.mark.parametrize(("text", "commas", "names"), [
    ("Apache-2.0 AND MIT", False, ["Apache-2.0", "MIT"]),
    ("apache-2.0 or mit", False, ["apache-2.0", "mit"]),
    ("Apache-2.0 And MIT", False, ["Apache-2.0", "MIT"]),  # card metadata split only AND/and, not And
    ("(GPL-2.0 WITH Classpath-exception-2.0)", False, ["GPL-2.0", "Classpath-exception-2.0"]),
    ("mit, apache-2.0", True, ["mit", "apache-2.0"]),  # a card lists names with commas
    ("mit, apache-2.0", False, ["mit, apache-2.0"]),  # an SPDX expression does not
    ("  ", False, []),
])
def test_expressions_split_at_operators_in_any_case(text, commas, names):
    assert split_expression(text, commas=commas) == names


@pytest.mark.parametrize("word", ["", " ", "other", "Unknown", "NONE", "NOASSERTION"])
def test_words_that_name_no_licence(word):
    assert not names_a_licence(word)


def test_a_licence_name_names_one():
    assert names_a_licence("mit") and names_a_licence("llama3.1")


@pytest.mark.parametrize(("a", "b", "same"), [
    # the GGUF check read "agreement" as part of the name; the knowledge base's keys do not
    ("Apache License Agreement 2.0", "apache-2.0", True),
    ("Apache License, Version 2.0", "Apache-2.0", True),
    ("apache 2.0", "apache-2", True),  # the GGUF check kept ".0", the knowledge base does not
    ("llama3.1", "Llama 3.1 Community License", True),
    ("gpl", "gpl-3.0", False),
    ("mit", "mit-0", False),
    ("llama3.1", "llama3.2", False),
    ("", "mit", False),
])
def test_names_compare_by_their_name_key(a, b, same):
    assert same_licence_name(a, b) is same
    assert same_licence_name(b, a) is same


def test_name_keys_drop_licenseref_prefixes_and_filler():
    assert name_key("LicenseRef-scancode-llama-3.1-license-2024") == name_key("llama 3.1 license 2024")
    assert name_key("The MIT Licence") == "mit"


@pytest.mark.parametrize(("name", "ref"), [
    ("my licence v1.0", "LicenseRef-my-licence-v1.0"),
    ("Foo/Bar++", "LicenseRef-Foo-Bar"),
    ("***", "LicenseRef-unknown"),  # the expression builder's fallback, now everyone's
])
def test_licence_refs_hold_only_what_spdx_allows(name, ref):
    assert licence_ref(name) == ref
