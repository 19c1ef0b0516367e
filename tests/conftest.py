"""Shared pytest fixtures: the fake Hub every Hub test talks to, and local checkouts of fixtures.

`fake_hub` serves tests/fixtures/repos (and the development corpus, repos/ and derivatives/, when present) over
real HTTP for the whole session; each test gets its own scope of it (an endpoint of its own,
so its counters never see another test's requests, even one still in flight), with
HF_ENDPOINT pointing there, a fresh HF_HOME and no token. `local_checkout(case)` writes a fixture
repo as `GIT_LFS_SKIP_SMUDGE=1 git clone` would leave it and returns the directory.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from fakehub import FakeHub, materialise

FIXTURE_REPOS = Path(__file__).parent / "fixtures" / "repos"
FIXTURE_DATASETS = Path(__file__).parent / "fixtures" / "datasets"  # dataset repos the model cards name
FIXTURE_HISTORIES = Path(__file__).parent / "fixtures" / "histories"  # repos with a history of commits (history.yaml)
CORPUS_REPOS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "repos"  # ../shared beside the project
CORPUS_DERIVATIVES = CORPUS_REPOS.parent / "derivatives"  # derivatives of the corpus repos, and their dataset repos
ADMIN_TOKEN = "hf_fakehub_admin"  # reads every repo the fake Hub serves, gated or private
_SCOPES = itertools.count(1)  # one fake Hub scope per test that asks for the fake Hub


def fixture_case(case: str | Path) -> Path:
    """A fixture repo folder: a case name under tests/fixtures/repos or the corpus, or a path."""
    for candidate in (Path(case), FIXTURE_REPOS / str(case), CORPUS_REPOS / str(case), CORPUS_DERIVATIVES / str(case)):
        if (candidate / "repo.yaml").is_file():
            return candidate
    raise LookupError(f"no fixture repo {case!r}")


_CACHE_DIR = tempfile.mkdtemp(prefix="auditor-test-cache-")


def pytest_configure(config) -> None:
    """The licence index's disk cache goes to a temporary folder, never the real home (also for CLI subprocesses)."""
    os.environ["AUDITOR_CACHE_DIR"] = _CACHE_DIR


def pytest_unconfigure(config) -> None:
    shutil.rmtree(_CACHE_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_code_host(monkeypatch):
    """Tests never reach GitHub: link licence look-ups go to a closed local port and fail at once."""
    monkeypatch.setenv("AUDITOR_GITHUB_API", "http://127.0.0.1:9")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    # nor the real Hub: without the fake Hub, look-ups of base models and datasets find nothing at once
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")


@pytest.fixture(autouse=True)
def own_cache_dir(monkeypatch, tmp_path_factory):
    """The result cache of census runs lives in a fresh directory, never in the real home.

    The licence index, the same for every test, stays in the session's folder (built once)."""
    fresh = tmp_path_factory.mktemp("auditor-cache")
    shared_index = Path(_CACHE_DIR) / "licence-index"
    shared_index.mkdir(exist_ok=True)
    (fresh / "licence-index").symlink_to(shared_index, target_is_directory=True)
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(fresh))


@pytest.fixture(scope="session")
def fake_hub_server():
    roots = [FIXTURE_REPOS, FIXTURE_DATASETS, FIXTURE_HISTORIES] + [root for root in (CORPUS_REPOS, CORPUS_DERIVATIVES) if root.is_dir()]
    with FakeHub(roots, admin_tokens=[ADMIN_TOKEN]) as hub:
        yield hub


@pytest.fixture
def fake_hub(fake_hub_server, monkeypatch, tmp_path_factory):
    """This test's own scope of the session's fake Hub; huggingface_hub sees it as HF_ENDPOINT, with no token."""
    import huggingface_hub.constants as hf_constants

    hub = fake_hub_server.scoped(f"t{next(_SCOPES)}")
    home = tmp_path_factory.mktemp("hf_home")
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "5")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    # huggingface_hub read these at import time: point them at the fresh home as well
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(hf_constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    yield hub


@pytest.fixture
def local_checkout(tmp_path):
    """local_checkout(case, lfs_content=False) -> Path of a fresh checkout of that fixture repo."""

    def make(case: str | Path, **options) -> Path:
        source = fixture_case(case)
        return materialise(source, tmp_path / "checkouts" / source.name, **options)

    return make
