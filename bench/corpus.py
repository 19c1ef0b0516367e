#!/usr/bin/env python3
"""Run the development corpus through the real CLI, over the fake Hub and as local checkouts.

Prints each repo's (repos/ and derivatives/) expected and audited verdict, commercial use and
missing finding codes both ways, and every labelled licence file's
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

from auditor.cli import audit_model  # noqa: E402
from auditor.identify import identify_text, load_knowledge_base  # noqa: E402
from fakehub import FakeHub, materialise  # noqa: E402


def audit(target: str) -> tuple[int, dict | None]:
    result = CliRunner().invoke(audit_model, [target, "--format", "json"])
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip() else None)


def audit_offline(target: str) -> tuple[str, str | None, bool]:
    """Verdict, commercial use and provisional flag of a local checkout audited with every look-up off."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        code, report = audit(target)
    finally:
        del os.environ["HF_HUB_OFFLINE"]
    if report is None:
        return f"exit {code}", None, False
    return report["verdict"]["openness"], ((report.get("terms") or {}).get("commercial_use") or {}).get("value"), report["verdict"]["provisional"]


def score(expected: dict, report: dict | None) -> dict[str, bool]:
    """Which of the reviewer's answers a report gives: verdict, commercial use, expected finding codes."""
    if report is None:
        return {"verdict": False, "commercial_use": False, "findings": False}
    codes = {f["code"] for f in report["findings"]}
    got_commercial = ((report.get("terms") or {}).get("commercial_use") or {}).get("value")
    return {
        "verdict": report["verdict"]["openness"] == expected.get("openness"),
        "commercial_use": "commercial_use" not in expected or got_commercial == str(expected["commercial_use"]),
        "findings": set(expected.get("findings") or ()) <= codes,
    }


def run_repos(corpus: Path) -> None:
    """Every scored snapshot of repos/ and derivatives/, served by one fake Hub, audited both ways."""
    roots = [corpus / "repos", corpus / "derivatives"]
    print(f"{'repo':48} {'expected':28} {'hub':28} {'local':28} offline")
    with FakeHub([r for r in roots if r.is_dir()]) as hub, tempfile.TemporaryDirectory() as scratch:
        os.environ.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(Path(scratch) / "hf"), HF_HUB_DISABLE_TELEMETRY="1")
        for root in roots:
            repos = sorted(p for p in root.glob("*/expected.yaml")) if root.is_dir() else []
            right = {"verdict": 0, "commercial_use": 0, "findings": 0, "all": 0, "offline": 0}
            for expected_path in repos:
                repo = expected_path.parent
                meta = yaml.safe_load((repo / "repo.yaml").read_text())
                want = yaml.safe_load(expected_path.read_text())
                cells, scores = [], []
                local = str(materialise(repo, Path(scratch) / repo.name))
                for target in (meta["id"], local):
                    code, report = audit(target)
                    scores.append(score(want, report))
                    if report is None:
                        cells.append(f"exit {code}")
                        continue
                    commercial = ((report.get("terms") or {}).get("commercial_use") or {}).get("value")
                    missing = set(want.get("findings") or ()) - {f["code"] for f in report["findings"]}
                    cells.append(f"{report['verdict']['openness']}/{commercial}" + (f" -{','.join(sorted(missing))}" if missing else ""))
                for key in ("verdict", "commercial_use", "findings"):
                    right[key] += all(s[key] for s in scores)
                right["all"] += all(all(s.values()) for s in scores)
                offline = audit_offline(local)
                right["offline"] += offline[0] == want.get("openness") and ("commercial_use" not in want or offline[1] == str(want["commercial_use"]))
                print(f"{repo.name:48} {want.get('openness', '-') + '/' + str(want.get('commercial_use', '-')):28} {cells[0]:28} {cells[1]:28} "
                      f"{offline[0]}/{offline[1]}{' (provisional)' if offline[2] else ''}")
            print(f"\n{root.name}: right both ways (verdict, commercial use, findings): {right['all']}/{len(repos)}"
                  f"  [verdict {right['verdict']}, commercial use {right['commercial_use']}, findings {right['findings']}]"
                  f"; offline (HF_HUB_OFFLINE=1, local checkout) verdict and commercial use: {right['offline']}/{len(repos)}\n")


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
