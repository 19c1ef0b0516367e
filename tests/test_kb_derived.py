"""The knowledge base's derived structures: built once, on first use, and shared by an extended one."""

from __future__ import annotations

from dataclasses import replace

from auditor.identify import load_knowledge_base
from auditor.identify.markers import tables
from auditor.identify.phrases import profile_for_url


def test_derived_tables_are_built_once_and_extended_bases_share_them():
    kb = load_knowledge_base()
    built = []
    probe = kb.derived("test-probe", lambda base: built.append(base) or object())
    assert tables(kb) is tables(kb) and kb.derived("test-probe", lambda base: object()) is probe and built == [kb]
    mit = kb.known("mit")
    read = replace(mit, id="licenseref-read", name="Read Licence", aliases=(), spdx="LicenseRef-read",
                   scancode_key=None, urls=("https://example.org/read-licence",), unidentified=True)
    wider = kb.extended([read])
    assert wider.get("licenseref-read") is read and kb.get("licenseref-read") is None
    # the tables of the base serve the extended one: as when they shared one cache
    assert tables(wider) is tables(kb) and wider.derived("test-probe", lambda base: object()) is probe
    assert profile_for_url("https://example.org/read-licence", wider) is None  # the base's URL table, built without it
    assert wider.by_scancode_key is kb.by_scancode_key


def test_url_and_scancode_tables_find_profiles():
    kb = load_knowledge_base()
    apache = kb.known("apache-2.0")
    assert any(profile_for_url(url.upper(), kb) is apache for url in apache.urls)  # found by its normalised form
    assert apache.scancode_key is None or kb.by_scancode_key[apache.scancode_key] is apache
