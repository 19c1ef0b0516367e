"""LocalSource on checkouts of the fixture repos: the same snapshot as the Hub gives, LFS
pointers standing for their files, symlinks kept inside the root, and range reads."""

from __future__ import annotations

import os

import pytest
from conftest import ADMIN_TOKEN

from auditor.errors import NotFound, SourceError
from auditor.model import FileEntry, SkipKind, Skipped, Target, TargetKind
from auditor.sources.hub import HubSource
from auditor.sources.lfs import NOT_CHECKED_OUT
from auditor.sources.local import LocalSource, git_head


def local_target(path) -> Target:
    return Target(TargetKind.LOCAL, path=str(path))


@pytest.mark.parametrize("case, repo_id", [
    ("fetch-big-weights", "fetch-lab/big-weights"),
    ("fetch-gated", "fetch-lab/gated-3b"),
    ("pickle-only", "fixture-student/bert-sentiment"),
    ("apache-weights-only", "fixture-co/apache-7b"),
    ("remote-code", None),
])
def test_a_checkout_gives_the_same_snapshot_as_the_hub(case, repo_id, fake_hub, local_checkout):
    from conftest import fixture_case

    from fakehub import FixtureRepo

    repo_id = repo_id or FixtureRepo.load(fixture_case(case)).id
    hub = HubSource(endpoint=fake_hub.endpoint, token=ADMIN_TOKEN).fetch(Target(TargetKind.HUB, repo_id=repo_id))
    local = LocalSource().fetch(local_target(local_checkout(case)))
    assert local.files == hub.files
    assert local.texts == hub.texts
    assert local.unread == hub.unread
    assert local.sha == hub.sha


def test_lfs_pointers_stand_for_their_files(local_checkout):
    root = local_checkout("fetch-big-weights")
    assert (root / "model.safetensors").stat().st_size < 200
    snapshot = LocalSource().fetch(local_target(root))
    weights = snapshot.file("model.safetensors")
    assert (weights.size, weights.lfs, len(weights.sha256)) == (5_000_000_000, True, 64)
    assert "model.safetensors" not in snapshot.texts
    with pytest.raises(SourceError, match=NOT_CHECKED_OUT):
        LocalSource().read_range(snapshot, "model.safetensors", 0, 8)


def test_odd_files_peeks_and_caps(local_checkout):
    snapshot = LocalSource().fetch(local_target(local_checkout("fetch-odd-files")))
    assert snapshot.file("README.md") == FileEntry("README.md", 50_000_000, lfs=True, sha256=snapshot.file("README.md").sha256)
    assert snapshot.file("pytorch_model.bin").lfs and snapshot.file("pytorch_model.bin").size == 4600
    assert snapshot.file("tokenizer.json") == FileEntry("tokenizer.json", 2_100_000)  # under 10 MB: a real file
    assert Skipped("README.md", "larger than 1 MiB", SkipKind.TOO_LARGE) in snapshot.unread
    assert Skipped("LICENSE", "binary", SkipKind.BINARY) in snapshot.unread
    assert snapshot.texts["Responsible-Use-Guide.md"].startswith("# Responsible use guide")  # found by peeking
    assert "docs/notes.md" not in snapshot.texts
    assert snapshot.texts["LICENSES/MIT.txt"].endswith("Caf\ufffd Lab\n")


def test_an_lfs_pointer_chosen_by_name_is_unread(tmp_path):
    (tmp_path / "LICENSE").write_text(f"version https://git-lfs.github.com/spec/v1\noid sha256:{'b' * 64}\nsize 2048\n")
    snapshot = LocalSource().fetch(local_target(tmp_path))
    assert snapshot.files == (FileEntry("LICENSE", 2048, lfs=True, sha256="b" * 64),)
    assert snapshot.unread == (Skipped("LICENSE", NOT_CHECKED_OUT, SkipKind.NOT_CHECKED_OUT),)


def test_symlinks_never_lead_out_of_the_repository(tmp_path, local_checkout):
    root = local_checkout("fetch-big-weights")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not read")
    os.symlink(outside / "secret.txt", root / "LICENSE-extra")
    os.symlink(outside, root / "linked-folder")
    os.symlink("LICENSE", root / "COPYING")
    os.symlink("../../nowhere", root / "NOTICE")
    snapshot = LocalSource().fetch(local_target(root))
    assert Skipped("LICENSE-extra", "symlink outside the repository") in snapshot.unread
    assert Skipped("linked-folder", "symlink outside the repository") in snapshot.unread
    assert Skipped("NOTICE", "symlink outside the repository") in snapshot.unread
    assert snapshot.file("LICENSE-extra") is None and "do not read" not in "".join(snapshot.texts.values())
    assert snapshot.texts["COPYING"] == snapshot.texts["LICENSE"]  # a link inside the root is an ordinary file
    with pytest.raises(SourceError, match="outside the repository"):
        LocalSource().read_range(snapshot, "LICENSE-extra", 0, 4)
    with pytest.raises(SourceError, match="outside the repository"):
        LocalSource().read_range(snapshot, "../outside/secret.txt", 0, 4)


def test_range_reads_are_counted(tmp_path):
    (tmp_path / "weights.gguf").write_bytes(b"GGUF" + bytes(range(100)))
    source = LocalSource()
    snapshot = source.fetch(local_target(tmp_path))
    assert source.read_range(snapshot, "weights.gguf", 0, 4) == b"GGUF"
    assert source.read_range(snapshot, "weights.gguf", 100, 50) == bytes(range(96, 100))
    assert source.read_range(snapshot, "weights.gguf", 500, 10) == b""
    assert source.bytes_read() == 8


def test_git_folder_is_ignored_and_its_head_gives_the_commit(tmp_path):
    sha = "0123456789abcdef0123456789abcdef01234567"
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "LICENSE").write_text("not a file of the repo")
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "packed-refs").write_text(f"# pack-refs with: peeled\n{sha} refs/heads/main\n")
    (tmp_path / "README.md").write_text("# card\n")
    snapshot = LocalSource().fetch(local_target(tmp_path))
    assert [f.path for f in snapshot.files] == ["README.md"]
    assert snapshot.sha == sha
    (tmp_path / ".git" / "refs" / "heads").mkdir(parents=True)
    (tmp_path / ".git" / "refs" / "heads" / "main").write_text("f" * 40 + "\n")
    assert git_head(tmp_path) == "f" * 40
    assert git_head(tmp_path / "missing") is None


def test_missing_path_and_plain_file_are_not_found(tmp_path):
    with pytest.raises(NotFound, match="no such directory"):
        LocalSource().fetch(local_target(tmp_path / "nope"))
    (tmp_path / "model.safetensors").write_bytes(b"x")
    with pytest.raises(NotFound, match="is a file"):
        LocalSource().fetch(local_target(tmp_path / "model.safetensors"))
