"""The knowledge-base loader: profiles parsed and validated, names looked up forgivingly."""

from pathlib import Path

import pytest

from auditor.errors import KnowledgeBaseError
from auditor.identify import LicenceCategory, load_knowledge_base
from auditor.identify.kb import name_key, read_knowledge_base
from auditor.model import LicenceKind


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


def test_loads_every_profile_once(kb):
    assert len(kb) >= 2
    assert load_knowledge_base() is kb  # cached per process
    llama = kb.get("llama3.1")
    assert llama.kind is LicenceKind.LICENCE
    assert llama.category is LicenceCategory.CUSTOM_COMMUNITY
    assert llama.facts["commercial_use"].value == "capped"
    assert "700 million" in llama.facts["user_cap"].value
    assert llama.reference_text().startswith("LLAMA 3.1 COMMUNITY LICENSE AGREEMENT")


@pytest.mark.parametrize("name", ["Apache 2.0", "apache-2.0", "Apache-2.0", "Apache License, Version 2.0", "APACHE LICENSE 2.0"])
def test_lookup_forgives_spelling(kb, name):
    assert kb.lookup(name).id == "apache-2.0"


@pytest.mark.parametrize("name", [
    "llama3.1", "Llama 3.1 Community License", "LicenseRef-scancode-llama-3.1-license-2024", "llama-3.1-license-2024",
])
def test_lookup_by_alias_spdx_and_scancode_key(kb, name):
    assert kb.lookup(name).id == "llama3.1"


def test_lookup_keeps_versions_apart(kb):
    assert kb.lookup("CC BY 4.0").id == "cc-by-4.0"
    assert kb.lookup("cc-by-3.0").id == "cc-by-3.0"
    assert kb.lookup("GPL-2.0-only").id == "gpl-2.0"
    assert kb.lookup("no such licence") is None
    assert kb.lookup("") is None


def test_name_key_ignores_filler_words():
    assert name_key("Apache License, Version 2.0") == name_key("apache-2.0") == "apache 2"
    assert name_key("openrail++") != name_key("openrail")


def _write(root: Path, name: str, body: str) -> None:
    (root / name).write_text(body, encoding="utf-8")


GOOD = """id: demo
name: Demo Licence
spdx: LicenseRef-demo
kind: licence
category: permissive
osi_approved: false
facts:
  commercial_use: {value: "yes"}
"""


def test_reads_a_valid_profile_with_text(tmp_path):
    (tmp_path / "texts").mkdir()
    _write(tmp_path / "texts", "demo.txt", "Demo licence text.\n")
    _write(tmp_path, "demo.yaml", GOOD + "text: texts/demo.txt\nmarkers: ['demo licen[cs]e']\n")
    kb = read_knowledge_base(tmp_path)
    profile = kb.get("demo")
    assert profile.reference_text() == "Demo licence text.\n"
    assert profile.facts["commercial_use"].value == "yes"
    assert profile.compiled_markers[0].search("the demo license")


@pytest.mark.parametrize("change, problem", [
    (lambda s: s.replace("kind: licence", "kind: grant"), "grant"),
    (lambda s: s.replace("spdx: LicenseRef-demo\n", ""), "spdx"),
    (lambda s: s + "markers: ['(unclosed']\n", "marker"),
    (lambda s: s + "text: texts/missing.txt\n", "missing.txt"),
    (lambda s: s.replace("category: permissive", "category: freeware"), "freeware"),
    (lambda s: "- just\n- a list\n", "mapping"),
    (lambda s: s.replace('{value: "yes"}', "{value: yes}"), "YAML boolean"),  # one spelling: the quoted word
])
def test_malformed_profile_is_a_knowledge_base_error(tmp_path, change, problem):
    _write(tmp_path, "demo.yaml", change(GOOD))
    with pytest.raises(KnowledgeBaseError, match=problem):
        read_knowledge_base(tmp_path)


def test_duplicate_ids_are_rejected(tmp_path):
    _write(tmp_path, "demo.yaml", GOOD)
    _write(tmp_path, "demo2.yaml", GOOD)
    with pytest.raises(KnowledgeBaseError, match="duplicate"):
        read_knowledge_base(tmp_path)
