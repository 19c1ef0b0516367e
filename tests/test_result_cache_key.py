"""The census's result cache answers only for the auditor that wrote it: a changed rule table,
licence file or module is a new key, so no old report is served after the judge changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def auditor_copy(tmp_path):
    """The auditor's package and its licences, copied where a test may change them."""
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "auditor", copy / "auditor", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "licences", copy / "licences")
    return copy


def _census(copy: Path, cache: Path, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(copy), "AUDITOR_CACHE_DIR": str(cache)}
    process = subprocess.run([sys.executable, "-m", "auditor", "fixture-lab/open-science-1b", "-q", "--no-check-links",
                              "-o", str(out)], env=env, capture_output=True, text=True, timeout=300, cwd=copy)
    assert process.returncode == 0, process.stderr
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    return record


@pytest.mark.parametrize("changed", ["auditor/judge/terms.yaml", "licences/mit.yaml", "auditor/judge/openness.py"])
def test_a_changed_auditor_is_not_answered_from_the_cache(changed, auditor_copy, fake_hub, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "census.jsonl"
    assert _census(auditor_copy, cache, out)["cached"] is False
    assert _census(auditor_copy, cache, out)["cached"] is True  # unchanged: the same key
    with open(auditor_copy / changed, "a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    assert _census(auditor_copy, cache, out)["cached"] is False
