"""Every repo of the development corpus can be served by the fake Hub and fetched, from the Hub
and from a local checkout, with the same result (skipped when the corpus is absent)."""

from __future__ import annotations

import pytest
import yaml
from conftest import ADMIN_TOKEN, CORPUS_REPOS

from auditor.model import Target, TargetKind
from auditor.sources.hub import HubSource
from auditor.sources.local import LocalSource

CASES = sorted(p.parent.name for p in CORPUS_REPOS.glob("*/repo.yaml")) if CORPUS_REPOS.is_dir() else []
pytestmark = pytest.mark.skipif(not CASES, reason="development corpus not present")


@pytest.mark.parametrize("case", CASES)
def test_corpus_repo_fetches_alike_from_hub_and_checkout(case, fake_hub, local_checkout):
    meta = yaml.safe_load((CORPUS_REPOS / case / "repo.yaml").read_text(encoding="utf-8"))
    hub = HubSource(endpoint=fake_hub.endpoint, token=ADMIN_TOKEN).fetch(Target(TargetKind.HUB, repo_id=meta["id"]))
    assert hub.sha == meta["sha"]
    assert {(f.path, f.size) for f in hub.files} == {(s["path"], s["size"]) for s in meta["siblings"]}
    stored = {p.relative_to(CORPUS_REPOS / case / "files").as_posix() for p in (CORPUS_REPOS / case / "files").rglob("*") if p.is_file()}
    assert set(hub.texts) <= stored  # only real text is read, never a sibling served as zeros
    assert "README.md" in hub.texts
    for path, text in hub.texts.items():
        assert text == (CORPUS_REPOS / case / "files" / path).read_text(encoding="utf-8-sig", errors="replace")
    assert all(fake_hub.stats.bytes_by_path[f.path] == 0 for f in hub.files if f.lfs)  # no weight byte
    assert fake_hub.stats.bytes_sent <= 8 << 20
    assert fake_hub.stats.requests["api"] == 1

    local = LocalSource().fetch(Target(TargetKind.LOCAL, path=str(local_checkout(CORPUS_REPOS / case))))
    assert (local.files, local.texts, local.unread, local.sha) == (hub.files, hub.texts, hub.unread, hub.sha)
