#!/usr/bin/env python3
"""Run the development corpus through the real CLI, over the fake Hub and as local checkouts.

Prints each repo's expected and audited verdict both ways, and every labelled licence file's
identification, so the figures in a closing note come from one reproducible run.

Usage: python bench/corpus.py [CORPUS_DIR]   (default: ../shared/corpus beside the project)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import yaml
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakehub import FakeHub, materialise  # noqa: E402

from auditor.cli import audit_model  # noqa: E402
from auditor.identify import identify_text, load_knowledge_base  # noqa: E402


def audit(target: str) -> tuple[int, dict | None]:
    result = CliRunner().invoke(audit_model, [target, "--format", "json"])
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip() else None)


def run_repos(corpus: Path) -> int:
    repos = sorted(p for p in (corpus / "repos").iterdir() if (p / "repo.yaml").is_file())
    right = 0
    print(f"{'repo':50} {'expected':20} {'hub':20} {'local':20}")
    with FakeHub([corpus / "repos"]) as hub, tempfile.TemporaryDirectory() as scratch:
        os.environ.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(Path(scratch) / "hf"), HF_HUB_DISABLE_TELEMETRY="1")
        for repo in repos:
            meta = yaml.safe_load((repo / "repo.yaml").read_text())
            want = yaml.safe_load((repo / "expected.yaml").read_text())["openness"]
            got = []
            for target in (meta["id"], str(materialise(repo, Path(scratch) / repo.name))):
                code, report = audit(target)
                got.append(report["verdict"]["openness"] if report else f"exit {code}")
            right += got[0] == want and got[1] == want
            print(f"{repo.name:50} {want:20} {got[0]:20} {got[1]:20}")
    print(f"\nrepos right both ways: {right}/{len(repos)}")
    return right


def run_licences(corpus: Path) -> None:
    kb = load_knowledge_base()
    labels = yaml.safe_load((corpus / "licences" / "labels.yaml").read_text())
    print(f"\n{'licence file':32} {'expected':50} found")
    for label in labels:
        text = (corpus / "licences" / "files" / label["file"]).read_text(encoding="utf-8", errors="replace")
        found = [f"{m.id}({m.kind.value},{m.confidence:.2f})" for m in identify_text(text, label["file"], kb)]
        print(f"{label['file']:32} {str(label['expected'])[:50]:50} {', '.join(found) or '-'}")


if __name__ == "__main__":
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus"
    run_repos(corpus)
    run_licences(corpus)
