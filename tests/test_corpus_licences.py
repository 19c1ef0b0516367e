"""The development corpus's hand-labelled licence files, each scored against its label by the
benchmark's own scoring (bench/licences.py): every file right, no false match, no miss.
Skipped when ../shared is absent (a fresh clone)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from auditor.identify import identify_text, load_knowledge_base

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "licences"
LABELS = yaml.safe_load((CORPUS / "labels.yaml").read_text(encoding="utf-8")) if (CORPUS / "labels.yaml").is_file() else []


def _bench():
    spec = importlib.util.spec_from_file_location("bench_licences", ROOT / "bench" / "licences.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench() if LABELS else None


@pytest.mark.skipif(not LABELS, reason="the development corpus (../shared/corpus/licences) is not here")
def test_the_corpus_has_its_23_labelled_files():
    assert len(LABELS) == 23 and all((CORPUS / "files" / label["file"]).is_file() for label in LABELS)


@pytest.mark.skipif(not LABELS, reason="the development corpus (../shared/corpus/licences) is not here")
@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_each_labelled_licence_file_is_identified_as_its_label_says(label):
    kb = load_knowledge_base()
    text = (CORPUS / "files" / label["file"]).read_text(encoding="utf-8")
    found = [{"id": m.id, "spdx": m.spdx or "", "name": m.name, "reference": m.kind.value == "reference", "unidentified": m.unidentified}
             for m in identify_text(text, label["file"], kb)]
    assert BENCH.score_file(label, found) == "right", found
