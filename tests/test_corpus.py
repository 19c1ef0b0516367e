"""The development corpus beside the project (../shared/corpus), when present: no crash, the
reviewers' verdicts for every repo both over the fake Hub and from local checkouts (a known miss is
listed with its reason), every snapshot's commercial use and required findings, every scored
derivative's verdict, and no error or warning beyond those tests/data/corpus_findings.yaml allows.
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


ALLOWED = yaml.safe_load((Path(__file__).parent / "data" / "corpus_findings.yaml").read_text(encoding="utf-8"))


def _repos():
    return sorted(p for p in (CORPUS / "repos").iterdir() if (p / "repo.yaml").is_file()) if CORPUS.is_dir() else []


def _verdict(target: str, name: str) -> str:
    return _report(target, name)["verdict"]["openness"]


def test_corpus_repos_get_the_reviewers_verdicts(fake_hub, local_checkout):
    """No miss: a snapshot whose verdict is known to be wrong is listed with its reason, and the
    test fails when it starts getting the reviewer's verdict (the listing is then out of date)."""
    repos = _repos()
    missed = {}
    for repo in repos:
        want = yaml.safe_load((repo / "expected.yaml").read_text())["openness"]
        hub = _verdict(yaml.safe_load((repo / "repo.yaml").read_text())["id"], repo.name)
        local = _verdict(str(local_checkout(repo)), repo.name)
        assert hub == local, repo.name
        if hub != want:
            missed[repo.name] = hub
    known = {name for name in ALLOWED["known_misses"] if (CORPUS / "repos" / name).is_dir()}
    assert set(missed) == known, f"missed: {missed}; listed as known misses: {sorted(known)}"


def _report(target: str, name: str) -> dict:
    """The JSON report; exit 0, or 1 only for files not to load whose findings the snapshot is
    allowed (a stand-in for a file the snapshot does not store cannot be scanned)."""
    result = CliRunner().invoke(audit_model, [target, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    unsafe = {entry["code"] for entry in report["verdict"]["unsafe_to_load"]}
    assert (result.exit_code == 1) == bool(unsafe), result.stderr
    assert unsafe <= set(ALLOWED["allowed"].get(name) or ()), result.stderr
    return report


def _answers(report: dict) -> tuple[str, str | None, set[str], set[str]]:
    """The verdict, commercial use, every finding code, and the codes of errors and warnings."""
    findings = report["findings"]
    return (report["verdict"]["openness"], report["terms"].get("commercial_use", {}).get("value"), {f["code"] for f in findings},
            {f["code"] for f in findings if f["severity"] in ("error", "warning")})


@pytest.mark.parametrize("folder", ["repos", "derivatives"])
def test_corpus_snapshots_get_the_reviewers_answers(folder, fake_hub, local_checkout):
    """derivatives/: verdict; both: commercial use, the findings the reviewer requires, and no other
    error or warning unless tests/data/corpus_findings.yaml says why a reviewer accepts it."""
    scored = sorted(p.parent for p in (CORPUS / folder).glob("*/expected.yaml"))
    assert scored
    wrong = []
    for repo in scored:
        want = yaml.safe_load((repo / "expected.yaml").read_text())
        required = set(want.get("findings") or ())
        allowed = required | set(ALLOWED["allowed"].get(repo.name) or ())
        for target, local in ((yaml.safe_load((repo / "repo.yaml").read_text())["id"], False), (str(local_checkout(repo)), True)):
            verdict, commercial, codes, raised = _answers(_report(target, repo.name))
            if "commercial_use" in want and commercial != str(want["commercial_use"]):
                wrong.append((target, "commercial_use", commercial))
            if folder == "derivatives" and verdict != want["openness"] and repo.name not in ALLOWED["known_misses"]:
                wrong.append((target, "verdict", verdict))
            if not required <= codes:
                wrong.append((target, "findings missing", sorted(required - codes)))
            extra = raised - allowed - (set(ALLOWED["local"]) if local else set())
            if extra:
                wrong.append((target, "findings not expected", sorted(extra)))
    assert not wrong


def test_every_allowed_extra_finding_names_a_snapshot_and_a_declared_code():
    from auditor.findings import declared

    for name, codes in ALLOWED["allowed"].items():
        assert any((CORPUS / folder / name / "expected.yaml").is_file() for folder in ("repos", "derivatives")), name
        assert set(codes) <= set(declared()) and all(str(why).strip() for why in codes.values()), name
    assert set(ALLOWED["local"]) <= set(declared())


def test_every_corpus_licence_file_is_read_without_error():
    kb = load_knowledge_base()
    for path in sorted((CORPUS / "licences" / "files").iterdir()):
        matches = identify_text(path.read_text(encoding="utf-8", errors="replace"), path.name, kb)
        assert all(0 < m.confidence <= 1 for m in matches)
