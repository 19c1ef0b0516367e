"""Shared pytest fixtures: the fake Hub every Hub test talks to, and local checkouts of fixtures.

`fake_hub` serves tests/fixtures/repos (and the development corpus when it is present) over
real HTTP for the whole session; per test it resets its counters, points HF_ENDPOINT at it,
gives huggingface_hub a fresh HF_HOME and no token. `local_checkout(case)` writes a fixture
repo as `GIT_LFS_SKIP_SMUDGE=1 git clone` would leave it and returns the directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from fakehub import FakeHub, materialise

FIXTURE_REPOS = Path(__file__).parent / "fixtures" / "repos"
FIXTURE_DATASETS = Path(__file__).parent / "fixtures" / "datasets"  # dataset repos the model cards name
CORPUS_REPOS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "repos"  # ../shared beside the project
ADMIN_TOKEN = "hf_fakehub_admin"  # reads every repo the fake Hub serves, gated or private


def fixture_case(case: str | Path) -> Path:
    """A fixture repo folder: a case name under tests/fixtures/repos or the corpus, or a path."""
    for candidate in (Path(case), FIXTURE_REPOS / str(case), CORPUS_REPOS / str(case)):
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


@pytest.fixture(scope="session")
def fake_hub_server():
    roots = [FIXTURE_REPOS, FIXTURE_DATASETS] + ([CORPUS_REPOS] if CORPUS_REPOS.is_dir() else [])
    with FakeHub(roots, admin_tokens=[ADMIN_TOKEN]) as hub:
        yield hub


@pytest.fixture
def fake_hub(fake_hub_server, monkeypatch, tmp_path_factory):
    """The session's fake Hub with fresh counters; huggingface_hub sees it as HF_ENDPOINT, with no token."""
    import huggingface_hub.constants as hf_constants

    home = tmp_path_factory.mktemp("hf_home")
    monkeypatch.setenv("HF_ENDPOINT", fake_hub_server.endpoint)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "5")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    # huggingface_hub read these at import time: point them at the fresh home as well
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(hf_constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    fake_hub_server.reset()
    yield fake_hub_server
    fake_hub_server.reset()


@pytest.fixture
def local_checkout(tmp_path):
    """local_checkout(case, lfs_content=False) -> Path of a fresh checkout of that fixture repo."""

    def make(case: str | Path, **options) -> Path:
        source = fixture_case(case)
        return materialise(source, tmp_path / "checkouts" / source.name, **options)

    return make
