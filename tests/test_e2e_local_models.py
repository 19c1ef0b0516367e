"""The real CLI on models as people have them on disk, and no gate passing on a check that could not run.

Every fixture is built here, in tmp_path: a Hugging Face cache folder with its symlinks into
blobs/, an `hf download --local-dir` folder, a git repository with a .gitignore and a dirty
file, an unreadable folder, an oversized card, and Git LFS pointer checkouts (one cloned from
the fake Hub, whose pointers are then read there by byte ranges).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from auditor.cli import audit_model
from auditor.identify import load_knowledge_base
from auditor.sources.gitrepo import hub_repo_from_url

FIXTURES = Path(__file__).parent / "fixtures" / "repos"
UNSAFE = "unsafe-pickle-5gb"  # a 5 GB torch zip on the fake Hub whose data.pkl imports os.system
CARD = "---\nlicense: apache-2.0\nlibrary_name: transformers\n---\n# Tiny\n\nA tiny test model.\n"
APACHE = load_knowledge_base().get("apache-2.0").reference_text()
MIT = load_knowledge_base().get("mit").reference_text()
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def run(*args: str) -> tuple[int, dict | None, str]:
    result = CliRunner().invoke(audit_model, [*args, "--no-check-links", "--format", "json"])
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, report, result.stderr


def markdown(*args: str) -> str:
    return CliRunner().invoke(audit_model, [*args, "--no-check-links", "--format", "markdown"]).stdout


def codes(report: dict) -> list[str]:
    return [f["code"] for f in report["findings"]]


def paths(report: dict) -> set[str]:
    return {a["path"] for a in report["artefacts"]}


def safetensors() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}).encode()
    return struct.pack("<Q", len(header)) + header + bytes(16)


def fixture_id(case: str) -> str:
    return yaml.safe_load((FIXTURES / case / "repo.yaml").read_text())["id"]


# --- no silent pass: pickles that could not be scanned
def test_a_pointer_pickle_is_unscanned_and_fails_the_unsafe_pickle_gate(local_checkout):
    root = local_checkout(UNSAFE)  # pytorch_model.bin is a Git LFS pointer, no origin
    code, report, stderr = run(str(root), "--fail-on", "unsafe-pickle")
    assert code == 1, stderr
    unscanned = [f for f in report["findings"] if f["code"] == "pickle-unscanned"]
    assert unscanned and unscanned[0]["evidence"] == ["pytorch_model.bin"] and "git lfs pull" in unscanned[0]["message"]
    assert "unsafe-pickle" not in codes(report)  # nothing was found: the gate fails because nothing was read
    failure = report["policy"]["failures"][0]
    assert failure["rule"] == "fail-on unsafe-pickle" and failure["message"].startswith("pickle-unscanned (could not be checked)")
    assert report["facts"]["weight_scan"]["not_checked_out"] == ["pytorch_model.bin"]


def test_a_checkout_cloned_from_the_hub_scans_its_pointers_by_range_reads(fake_hub, local_checkout):
    root = local_checkout(UNSAFE)
    (root / ".git" / "config").write_text(f'[remote "origin"]\n\turl = {fake_hub.endpoint}/{fixture_id(UNSAFE)}\n')
    code, report, stderr = run(str(root), "--fail-on", "unsafe-pickle")
    assert code == 1, stderr
    unsafe = [f for f in report["findings"] if f["code"] == "unsafe-pickle"]
    assert unsafe and "os.system" in unsafe[0]["message"] and "pickle-unscanned" not in codes(report)
    sent = fake_hub.stats.bytes_by_path["pytorch_model.bin"]
    assert 0 < sent < 1 << 20  # byte ranges of a 5 GB file, never the file
    assert {r.revision for r in fake_hub.stats.log if r.path == "pytorch_model.bin"} == {report["sha"]}  # at the checkout's commit
    scan = report["facts"]["weight_scan"]
    assert scan["read_from_hub"] == {"repo": fixture_id(UNSAFE), "files": ["pytorch_model.bin"]}
    assert scan["bytes_read"] == sent and scan["not_checked_out"] == []
    assert f"read by byte ranges from the Hub repo {fixture_id(UNSAFE)} at this commit: pytorch_model.bin" in markdown(str(root))


def test_hub_repo_flag_reads_pointers_of_a_checkout_without_a_hub_origin(fake_hub, local_checkout):
    root = local_checkout(UNSAFE)
    code, report, _ = run(str(root), "--hub-repo", fixture_id(UNSAFE))
    assert code == 1 and "unsafe-pickle" in codes(report)  # with no policy, a file unsafe to load fails the run
    assert report["facts"]["checkout"]["hub_repo"] == fixture_id(UNSAFE)
    code, report, _ = run(str(root), "--hub-repo", "fixture-threat/no-such-repo", "--fail-on", "unsafe-pickle")
    assert code == 1 and "pickle-unscanned" in codes(report)  # the Hub could not serve it: not scanned, gate fails
    assert run(str(root), "--hub-repo", "not a repo id")[0] == 2


def test_a_gate_on_unsafe_pickle_turns_the_hub_scan_on_and_refuses_no_scan(fake_hub):
    code, report, _ = run(fixture_id(UNSAFE), "--fail-on", "unsafe-pickle")
    assert code == 1 and "unsafe-pickle" in codes(report)
    assert 0 < fake_hub.stats.bytes_by_path["pytorch_model.bin"] < 1 << 20
    code, _, stderr = run(fixture_id(UNSAFE), "--fail-on", "unsafe-pickle", "--no-scan-weights")
    assert code == 2 and "--no-scan-weights" in stderr


@pytest.mark.parametrize("url, repo", [
    ("https://huggingface.co/org/name", "org/name"),
    ("https://user:hf_secret@huggingface.co/org/name.git", "org/name"),
    ("https://hf.co/org/name/", "org/name"),
    ("git@hf.co:org/name", "org/name"),
    ("ssh://git@hf.co/org/name.git", "org/name"),
    ("https://huggingface.co/datasets/org/name", None),
    ("https://huggingface.co/spaces/org/name", None),
    ("https://github.com/org/name", None),
    ("https://mirror.example/hub/org/name", "org/name"),
    ("https://mirror.example/org/name", None),
])
def test_hub_origins_are_recognised(url, repo):
    assert hub_repo_from_url(url, ("https://mirror.example/hub",)) == repo


# --- Hugging Face cache folders
def hf_cache(tmp_path: Path, shas: tuple[str, ...] = ("a" * 40,), main: str | None = None) -> Path:
    """A `models--acme--tiny` cache folder: one snapshot per sha, files symlinked into blobs/."""
    models = tmp_path / "hub" / "models--acme--tiny"
    (models / "blobs").mkdir(parents=True)
    (models / "refs").mkdir()
    (models / "refs" / "main").write_text(main or shas[-1])
    for index, sha in enumerate(shas):
        contents = {"README.md": CARD.encode(), "LICENSE": (APACHE if index == len(shas) - 1 else MIT).encode(),
                    "config.json": b'{"model_type": "bert"}', "model.safetensors": safetensors()}
        snapshot = models / "snapshots" / sha
        snapshot.mkdir(parents=True)
        for name, data in contents.items():
            blob = hashlib.sha256(data).hexdigest()
            (models / "blobs" / blob).write_bytes(data)
            os.symlink(f"../../blobs/{blob}", snapshot / name)
    return models


def test_a_hugging_face_cache_folder_is_audited_as_its_snapshot(tmp_path):
    models = hf_cache(tmp_path)
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of the model")
    os.symlink(outside, models / "snapshots" / ("a" * 40) / "NOTICE")
    for target in (models, models / "snapshots" / ("a" * 40)):
        code, report, stderr = run(str(target))
        assert code == 0, stderr
        assert report["sha"] == "a" * 40
        assert report["facts"]["checkout"]["kind"] == "hf-cache" and report["facts"]["checkout"]["repo"] == "acme/tiny"
        assert {"README.md", "LICENSE", "config.json", "model.safetensors"} <= paths(report)
        assert "card-missing" not in codes(report) and "weights-missing" not in codes(report)
        assert report["verdict"]["openness"] != "not-open"
        assert "apache-2.0" in {m["id"] for m in report["licences"]}
        assert report["facts"]["weight_scan"]["per_file"]["model.safetensors"]["tensors"] == 1  # read through the blob symlink
        assert {"path": "NOTICE", "reason": "symlink outside the repository"} in report["unread"]
    assert "Read from a Hugging Face cache snapshot of acme/tiny." in markdown(str(models))


def test_a_cache_folder_picks_the_snapshot_refs_main_names_or_the_revision(tmp_path):
    old, new = "1" * 40, "2" * 40
    models = hf_cache(tmp_path, (old, new), main=old)
    code, report, _ = run(str(models))
    assert code == 0 and report["sha"] == old and "mit" in {m["id"] for m in report["licences"]}
    code, report, _ = run(str(models), "--revision", new[:7])
    assert code == 0 and report["sha"] == new and "apache-2.0" in {m["id"] for m in report["licences"]}
    assert run(str(models), "--revision", "3" * 40)[0] == 3


def test_a_local_dir_download_skips_the_download_cache(tmp_path):
    root = tmp_path / "tiny"
    (root / ".cache" / "huggingface" / "download").mkdir(parents=True)
    (root / ".cache" / "huggingface" / ".gitignore").write_text("*\n")
    for name, data in {"README.md": CARD, "LICENSE": APACHE, "config.json": "{}"}.items():
        (root / name).write_text(data)
        (root / ".cache" / "huggingface" / "download" / f"{name}.metadata").write_text(f"{'c' * 40}\n\"etag\"\n1700000000.0\n")
    (root / "model.safetensors").write_bytes(safetensors())
    code, report, stderr = run(str(root))
    assert code == 0, stderr
    assert not any(path.startswith(".cache/") for path in paths(report))
    assert all(not m["source"].startswith(".cache/") for m in report["licences"])
    assert report["sha"] == "c" * 40 and report["facts"]["checkout"]["kind"] == "hf-local-dir"


# --- git checkouts
def git(root: Path, *args: str) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root.parent), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z"}
    return subprocess.run(["git", "-C", str(root), *args], env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def git_checkout(tmp_path) -> tuple[Path, str]:
    """A git repo: MIT in its first commit, Apache-2.0 in its second, a .gitignored .venv, and a dirty file."""
    root = tmp_path / "model"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text(CARD.replace("apache-2.0", "mit"))
    (root / "LICENSE").write_text(MIT)
    (root / "model.safetensors").write_bytes(safetensors())
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "MIT")
    first = git(root, "rev-parse", "HEAD")
    (root / "README.md").write_text(CARD)
    (root / "LICENSE").write_text(APACHE)
    (root / ".gitignore").write_text(".venv/\n*.log\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Apache")
    venv = root / ".venv" / "lib" / "site-packages" / "pkg"
    venv.mkdir(parents=True)
    (venv / "LICENSE").write_text(MIT)
    (venv / "weights.bin").write_bytes(b"\x80\x04N.")
    (root / "train.log").write_text("noise")
    (root / "config.json").write_text('{"model_type": "bert"}')  # untracked, not ignored: part of the work tree
    with open(root / "README.md", "a") as card:
        card.write("\nAn edit not yet committed.\n")
    return root, first


@needs_git
def test_a_git_checkout_respects_gitignore_and_marks_a_dirty_tree(git_checkout):
    root, _ = git_checkout
    code, report, stderr = run(str(root))
    assert code == 0, stderr
    assert not any(p.startswith(".venv/") for p in paths(report)) and "train.log" not in paths(report)
    assert "config.json" in paths(report)
    checkout = report["facts"]["checkout"]
    assert checkout["kind"] == "git" and checkout["dirty"] == ["README.md", "config.json"] and checkout["ignored"] == 2
    assert report["sha"] == git(root, "rev-parse", "HEAD")
    assert "**Uncommitted changes** in 2 path(s) (README.md, config.json)" in markdown(str(root))


@needs_git
def test_revision_on_a_checkout_reads_that_commit_from_git(git_checkout):
    root, first = git_checkout
    code, report, stderr = run(str(root), "--revision", first[:8])
    assert code == 0, stderr
    assert report["sha"] == first and report["target"]["revision"] == first[:8]
    assert "mit" in {m["id"] for m in report["licences"]} and "apache-2.0" not in {m["id"] for m in report["licences"]}
    assert paths(report) == {"README.md", "LICENSE", "model.safetensors"}  # the commit's files, not the work tree's
    assert report["facts"]["weight_scan"]["per_file"]["model.safetensors"]["tensors"] == 1
    assert "dirty" not in report["facts"]["checkout"]
    assert run(str(root), "--revision", "no-such-branch")[0] == 3


def test_revision_outside_git_is_a_usage_error(tmp_path):
    (tmp_path / "README.md").write_text(CARD)
    code, _, stderr = run(str(tmp_path), "--revision", "v1")
    assert code == 2 and "not a git checkout" in stderr


def test_gitignore_without_git_is_read_with_pathspec(local_checkout):
    root = local_checkout("open-science")  # its .git holds only HEAD: git does not take it for a repository
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    (root / "build" / "LICENSE").write_text(MIT)
    (root / "docs").mkdir()
    (root / "docs" / ".gitignore").write_text("*.txt\n!keep.txt\n")
    (root / "docs" / "drop.txt").write_text("x")
    (root / "docs" / "keep.txt").write_text("x")
    code, report, _ = run(str(root))
    assert code == 0 and not any(p.startswith("build/") for p in paths(report))
    assert "docs/keep.txt" in paths(report) and "docs/drop.txt" not in paths(report)  # the inner file decides there
    assert report["facts"]["checkout"]["ignored"] == 2


@needs_git
def test_the_audited_repositorys_git_config_runs_nothing(git_checkout, tmp_path):
    root, _ = git_checkout
    witness = tmp_path / "ran"
    git(root, "config", "core.fsmonitor", f"touch {witness}; echo")
    assert run(str(root))[0] == 0
    assert not witness.exists()


def test_a_filter_in_the_audited_repositorys_config_never_runs(git_checkout, tmp_path):
    root, _ = git_checkout
    witness = tmp_path / "ran"
    git(root, "config", "filter.evil.clean", f"touch {witness}; cat")
    (root / ".gitattributes").write_text("* filter=evil\n")
    for path in root.iterdir():  # stale stat data would make `git status` run the clean filter
        if path.is_file():
            os.utime(path, (1, 1))
    code, report, _ = run(str(root))
    assert code == 0 and not witness.exists()
    assert report["facts"]["checkout"]["dirty"] is None  # not compared, and the report says so
    assert "uncommitted changes could not be checked" in markdown(str(root))


# --- nothing silently missing
def unreadable_folder(root: Path) -> Path:
    """A folder the walk cannot list: no permissions, or (as root, whom chmod does not stop) a path too long to open."""
    if os.geteuid() != 0:
        folder = root / "private"
        folder.mkdir()
        (folder / "LICENSE").write_text(MIT)
        folder.chmod(0)
        return folder
    fd = os.open(root, os.O_RDONLY)
    name = "d" * 250
    try:
        for _ in range(18):  # past PATH_MAX (4096): the kernel refuses to open it by its path
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    return root / name


def test_an_unreadable_folder_is_a_finding_not_a_gap(tmp_path):
    root = tmp_path / "model"
    root.mkdir()
    (root / "README.md").write_text(CARD)
    (root / "LICENSE").write_text(APACHE)
    folder = unreadable_folder(root)
    try:
        code, report, stderr = run(str(root))
    finally:
        if folder.name == "private":
            folder.chmod(0o700)
    assert code == 0, stderr
    unread = [f for f in report["findings"] if f["code"] == "file-unread" and "folder unreadable" in f["message"]]
    assert unread, codes(report)


def test_a_too_large_card_is_card_unread_not_missing(tmp_path):
    (tmp_path / "README.md").write_text(CARD + "x" * (2 << 20))
    (tmp_path / "LICENSE").write_text(APACHE)
    code, report, _ = run(str(tmp_path))
    assert code == 0
    assert "card-unread" in codes(report) and "card-missing" not in codes(report)
    assert "larger than 1 MiB" in next(f["message"] for f in report["findings"] if f["code"] == "card-unread")


# --- the Action and the example workflow
def test_the_action_fails_an_unsafe_pickle_gate_on_a_pointer_it_could_not_scan(tmp_path):
    from test_action import run_audit_step

    process, summary, outputs = run_audit_step(tmp_path, UNSAFE, fail_on="unsafe-pickle")
    assert process.returncode == 1, process.stderr
    assert outputs["policy"] == "failed" and "pickle-unscanned" in summary


def test_the_example_workflow_pulls_every_file_that_can_run_code_before_auditing():
    from auditor.scan import code_file_globs

    root = Path(__file__).resolve().parent.parent
    steps = yaml.safe_load((root / "examples" / "workflows" / "audit-model.yml").read_text(encoding="utf-8"))["jobs"]["audit"]["steps"]
    order = [s.get("id") or s.get("uses", "").split("@")[0] or s["run"].split("--include")[0].strip() for s in steps]
    pull = next(s["run"] for s in steps if "git lfs pull" in s.get("run", ""))
    assert order.index("actions/checkout") < order.index("git lfs pull") < order.index("audit")
    included = set(pull.split("--include=", 1)[1].strip("\"'").split(","))
    assert included == set(code_file_globs())


@needs_git
def test_a_pointer_changed_since_the_commit_is_not_read_from_the_hub(fake_hub, tmp_path):
    from fakehub import pointer_text

    root = tmp_path / "clone"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "pytorch_model.bin").write_text(pointer_text("a" * 64, 5_000_000))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "weights")
    (root / "pytorch_model.bin").write_text(pointer_text("b" * 64, 6_000_000))  # a new version, not committed
    code, report, _ = run(str(root), "--hub-repo", fixture_id(UNSAFE), "--fail-on", "unsafe-pickle")
    assert code == 1
    unscanned = next(f for f in report["findings"] if f["code"] == "pickle-unscanned")
    assert "changed since commit" in unscanned["message"]
    assert fake_hub.stats.bytes_sent == 0  # the Hub's copy at that commit is another file: not asked for
