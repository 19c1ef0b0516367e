"""The development corpus beside the project (../shared/corpus), when present: no crash, the
reviewers' verdicts for at least 11 of its 12 repos both over the fake Hub and from local checkouts,
every repo's commercial use, and every scored derivative's verdict, findings and commercial use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model
from auditor.identify import identify_text, load_knowledge_base

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
pytestmark = pytest.mark.skipif(not (CORPUS / "repos").is_dir(), reason="development corpus not present")


def _repos():
    return sorted(p for p in (CORPUS / "repos").iterdir() if (p / "repo.yaml").is_file()) if CORPUS.is_dir() else []


def _verdict(target: str) -> str:
    result = CliRunner().invoke(audit_model, [target, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["verdict"]["openness"]


def test_corpus_repos_get_the_reviewers_verdicts(fake_hub, local_checkout):
    repos = _repos()
    right = 0
    for repo in repos:
        want = yaml.safe_load((repo / "expected.yaml").read_text())["openness"]
        hub = _verdict(yaml.safe_load((repo / "repo.yaml").read_text())["id"])
        local = _verdict(str(local_checkout(repo)))
        assert hub == local, repo.name
        right += hub == want
    assert right >= len(repos) - 1


def _report(target: str) -> dict:
    result = CliRunner().invoke(audit_model, [target, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _answers(report: dict) -> tuple[str, str | None, set[str]]:
    return report["verdict"]["openness"], report["terms"].get("commercial_use", {}).get("value"), {f["code"] for f in report["findings"]}


@pytest.mark.parametrize("folder", ["repos", "derivatives"])
def test_corpus_snapshots_get_the_reviewers_answers(folder, fake_hub, local_checkout):
    """derivatives/: verdict, commercial use and findings; repos/: commercial use (verdicts above)."""
    scored = sorted(p.parent for p in (CORPUS / folder).glob("*/expected.yaml"))
    assert scored
    wrong = []
    for repo in scored:
        want = yaml.safe_load((repo / "expected.yaml").read_text())
        for target in (yaml.safe_load((repo / "repo.yaml").read_text())["id"], str(local_checkout(repo))):
            verdict, commercial, codes = _answers(_report(target))
            if "commercial_use" in want and commercial != str(want["commercial_use"]):
                wrong.append((target, "commercial_use", commercial))
            if folder == "derivatives" and verdict != want["openness"]:
                wrong.append((target, "verdict", verdict))
            if folder == "derivatives" and not set(want.get("findings") or ()) <= codes:
                wrong.append((target, "findings", sorted(set(want["findings"]) - codes)))
    assert not wrong


def test_every_corpus_licence_file_is_read_without_error():
    kb = load_knowledge_base()
    for path in sorted((CORPUS / "licences" / "files").iterdir()):
        matches = identify_text(path.read_text(encoding="utf-8", errors="replace"), path.name, kb)
        assert all(0 < m.confidence <= 1 for m in matches)
