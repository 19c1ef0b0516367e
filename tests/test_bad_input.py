"""Bad input is a clear one-line error with its own exit code, never an internal error (70):
offline Hub ids, empty or unreadable folders, a census listing that finds nothing, and the
Hugging Face cache root given as a model."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model
from fakehub.checkout import materialise

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
CACHED = "open-science"


def _cli(*args: str, env: dict | None = None):
    return CliRunner().invoke(audit_model, [*args, "--no-check-links"], env=env)


def _hf_cache(case: str) -> tuple[str, str, Path]:
    """The fixture as huggingface_hub caches it under $HF_HOME/hub: refs/main and its snapshot."""
    spec = yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())
    models = Path(os.environ["HF_HOME"]) / "hub" / ("models--" + spec["id"].replace("/", "--"))
    materialise(FIXTURES / case, models / "snapshots" / spec["sha"])
    shutil.rmtree(models / "snapshots" / spec["sha"] / ".git")
    (models / "refs").mkdir()
    (models / "refs" / "main").write_text(spec["sha"])
    return spec["id"], spec["sha"], models


def test_offline_a_hub_id_is_read_from_the_cache(fake_hub):
    repo, sha, _ = _hf_cache(CACHED)
    for revision in ((), ("--revision", sha)):
        result = _cli(repo, *revision, "--format", "json", env={"HF_HUB_OFFLINE": "1"})
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["sha"] == sha and report["verdict"]["openness"] == "open-weights"
    assert fake_hub.stats.total_requests == 0


def test_offline_a_hub_id_not_in_the_cache_is_exit_5_in_one_line(fake_hub):
    _hf_cache(CACHED)
    for args in (["fixture-lab/not-cached"], ["fixture-lab/open-science-1b", "--revision", "0123456789ab"]):
        result = _cli(*args, env={"HF_HUB_OFFLINE": "1"})
        assert result.exit_code == 5, result.stderr
        [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert "offline (HF_HUB_OFFLINE=1) and not in the cache" in line
    assert fake_hub.stats.total_requests == 0


def test_an_offline_census_reads_each_target_from_the_cache_or_fails_it(fake_hub, tmp_path):
    repo, sha, _ = _hf_cache(CACHED)
    out = tmp_path / "census.jsonl"
    result = _cli(repo, "fixture-lab/not-cached", "-q", "-o", str(out), env={"HF_HUB_OFFLINE": "1"})
    assert result.exit_code == 5
    records = {r["target"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert records[repo]["status"] == "audited" and records[repo]["report"]["sha"] == sha
    failed = records["fixture-lab/not-cached"]
    assert failed["exit_code"] == 5 and "not in the cache" in failed["error"]["message"]
    assert fake_hub.stats.total_requests == 0


def test_the_cache_root_is_refused_with_a_hint(fake_hub):
    repo, _, models = _hf_cache(CACHED)
    result = _cli(str(models.parent))
    assert result.exit_code == 2
    assert "a Hugging Face cache folder holding 1 model(s)" in result.stderr and repo in result.stderr


@pytest.mark.parametrize("files, words", [({}, "an empty folder"), ({"notes.txt": "hello"}, "no model files among its 1 file(s)")])
def test_a_folder_without_a_model_is_exit_3_in_one_line(files, words, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    for extra in ([], ["-o", str(tmp_path / "census.jsonl")]):
        result = _cli(str(folder), *extra)
        assert result.exit_code == 3, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr
    assert not result.stdout.strip() or "Verdict" not in result.stdout


def test_a_census_whose_listing_finds_nothing_is_exit_3_naming_the_filter(fake_hub):
    result = _cli("--author", "no-such-org", "--format", "jsonl")
    assert result.exit_code == 3
    assert "the Hub lists no model for --author no-such-org" in result.stderr


def _nobody() -> int | None:
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return None


def _can_run_python(user: int) -> bool:
    try:
        return subprocess.run([sys.executable, "-c", "pass"], user=user, capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


def test_an_unreadable_folder_is_exit_4_with_its_path(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "README.md").write_text("---\nlicense: mit\n---\n")
    folder.chmod(0o000)
    run_as: dict = {}
    prefix: list[str] = []
    if os.geteuid() == 0:  # root reads every folder: drop its power to override permissions, else ask as nobody
        if shutil.which("setpriv"):
            dropped = "-dac_override,-dac_read_search"
            prefix = ["setpriv", "--bounding-set", dropped, "--inh-caps", dropped, "--"]
        else:
            nobody = _nobody()
            if nobody is None or not _can_run_python(nobody):
                folder.chmod(0o755)
                pytest.skip("running as root with neither setpriv nor an unprivileged user able to run this Python")
            run_as = {"user": nobody}
            tmp_path.chmod(0o755)
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    env = {**os.environ, "AUDITOR_CACHE_DIR": str(cache), "HOME": str(cache)}
    try:
        process = subprocess.run([*prefix, sys.executable, "-m", "auditor", str(folder), "--no-check-links"], env=env,
                                 capture_output=True, text=True, timeout=120, **run_as)
    finally:
        folder.chmod(0o755)
    assert process.returncode == 4, process.stderr
    assert str(folder) in process.stderr and "permission denied" in process.stderr and "Traceback" not in process.stderr
