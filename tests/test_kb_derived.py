"""The knowledge base's derived structures: built once, on first use, and shared by an extended one."""

from __future__ import annotations

from dataclasses import replace

from auditor.identify import load_knowledge_base
from auditor.identify.phrases import profile_for_url


def test_derived_tables_are_built_once_and_extended_bases_share_them():
    kb = load_knowledge_base()
    assert kb.by_url is kb.by_url and kb.marker_tables is kb.marker_tables
    mit = kb.known("mit")
    read = replace(mit, id="licenseref-read", name="Read Licence", aliases=(), spdx="LicenseRef-read",
                   scancode_key=None, urls=("https://example.org/read-licence",), unidentified=True)
    wider = kb.extended([read])
    assert wider.get("licenseref-read") is read and kb.get("licenseref-read") is None
    # the tables of the base serve the extended one: as when they shared one cache
    assert wider.by_url is kb.by_url and wider.marker_tables is kb.marker_tables
    assert wider.by_scancode_key is kb.by_scancode_key


def test_url_and_scancode_tables_find_profiles():
    kb = load_knowledge_base()
    apache = kb.known("apache-2.0")
    assert any(profile_for_url(url.upper(), kb) is apache for url in apache.urls)  # found by its normalised form
    assert apache.scancode_key is None or kb.by_scancode_key[apache.scancode_key] is apache
