"""The optional ScanCode engine: a clear error without it, ScanCode keys mapped to our profiles."""

import sys
import types

import pytest

from auditor.errors import UsageError
from auditor.identify import load_knowledge_base
from auditor.identify.scancode_engine import identify_text_scancode
from auditor.model import LicenceKind, MatchMethod

KB = load_knowledge_base()


def test_without_scancode_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "scancode.api", None)  # makes the import fail
    with pytest.raises(UsageError, match="scancode"):
        identify_text_scancode("MIT License", "LICENSE", KB)


def test_scancode_keys_become_profiles(monkeypatch):
    def get_licenses(path):
        assert open(path, encoding="utf-8").read() == "some licence text"
        return {"license_detections": [
            {"matches": [{"license_expression": "llama-3.1-license-2024 AND mit", "score": 100.0, "start_line": 1, "end_line": 40}]},
            {"matches": [{"license_expression": "unknown-license-reference", "score": 50.0, "start_line": 41, "end_line": 41}]},
        ]}

    fake = types.ModuleType("scancode.api")
    fake.get_licenses = get_licenses
    monkeypatch.setitem(sys.modules, "scancode.api", fake)
    matches = identify_text_scancode("some licence text", "LICENSE", KB)
    assert [m.id for m in matches] == ["llama3.1", "mit", "scancode:unknown-license-reference"]
    assert matches[0].method is MatchMethod.SCANCODE and matches[0].span == (1, 40) and matches[0].confidence == 1.0
    assert matches[2].kind is LicenceKind.REFERENCE
