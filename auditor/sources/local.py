"""A local directory as a source: a clone of a model repo, with or without its LFS content.

The walk skips `.git`, never follows a symlink out of the root (such a link is reported in
`unread`), and lists each Git LFS pointer file as the large file it stands for, never as
text. The same selection and caps as the Hub apply; in addition, other *.md / *.txt files are
peeked at, since a local read costs nothing. The commit is read from `.git/HEAD` when there
is one.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from pathlib import Path

from auditor.errors import NotFound, SourceError, UsageError
from auditor.model import FileEntry, RepoSnapshot, Skipped, Target, TargetKind
from auditor.sources.interface import RepoSource
from auditor.sources.lfs import NOT_CHECKED_OUT, POINTER_MAX, parse_pointer
from auditor.sources.selection import FILE_CAP, PEEK_BYTES, select
from auditor.sources.texts import collect

_SHA = re.compile(r"[0-9a-f]{40}")
OUTSIDE = "symlink outside the repository"


class LocalSource(RepoSource):
    def __init__(self) -> None:
        self._bytes_read = 0
        self._lock = threading.Lock()

    def fetch(self, target: Target) -> RepoSnapshot:
        root = _root(target)
        files, real_paths, skipped = _walk(root)
        by_path = {entry.path: entry for entry in files}

        def peek(path: str) -> bytes | None:
            return _read(real_paths[path], PEEK_BYTES)

        selection = select(files, peek=peek)
        results = []
        for path in selection.read:
            if by_path[path].lfs:
                results.append((path, Skipped(path, NOT_CHECKED_OUT)))
            else:
                data = _read(real_paths[path], FILE_CAP + 1)
                results.append((path, data if data is not None else Skipped(path, "unreadable")))
        texts, failed = collect(results)
        unread = tuple(sorted((*skipped, *selection.unread, *failed), key=lambda s: s.path))
        return RepoSnapshot(target=target, sha=git_head(root), files=files, texts=texts, unread=unread)

    def read_range(self, snapshot: RepoSnapshot, path: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError(f"bad range: start={start} length={length}")
        entry = snapshot.file(path)
        if entry is not None and entry.lfs:
            raise SourceError(f"{path}: {NOT_CHECKED_OUT}")
        root = _root(snapshot.target).resolve()
        full = (root / path).resolve()
        if not full.is_relative_to(root):
            raise SourceError(f"{path}: outside the repository")
        if not full.is_file():
            raise SourceError(f"{path}: no such file in {root}")
        with open(full, "rb") as handle:
            if full.stat().st_size < POINTER_MAX and parse_pointer(handle.read(POINTER_MAX)) is not None:
                raise SourceError(f"{path}: {NOT_CHECKED_OUT}")
            handle.seek(start)
            data = handle.read(length)
        with self._lock:
            self._bytes_read += len(data)
        return data

    def bytes_read(self) -> int:
        return self._bytes_read


def _root(target: Target) -> Path:
    if target.kind is not TargetKind.LOCAL or not target.path:
        raise UsageError(f"{target.label} is not a local directory")
    root = Path(target.path).expanduser()
    if not root.exists():
        raise NotFound(f"{root}: no such directory")
    if not root.is_dir():
        raise NotFound(f"{root} is a file, not a repository directory")
    return root


def _walk(root: Path) -> tuple[tuple[FileEntry, ...], dict[str, str], list[Skipped]]:
    """Every file under root (sorted), where to read each, and what could not be listed."""
    real_root = os.path.realpath(root)
    files: list[FileEntry] = []
    real_paths: dict[str, str] = {}
    skipped: list[Skipped] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            dirs.remove(name)  # os.walk would not descend either: say why the folder is missing
            full = os.path.join(folder, name)
            inside = _inside(real_root, os.path.realpath(full))
            skipped.append(Skipped(_rel(root, full), "symlink to a folder, not followed" if inside else OUTSIDE))
        for name in sorted(names):
            full = os.path.join(folder, name)
            rel = _rel(root, full)
            if name == ".git":
                continue  # a worktree's or submodule's pointer to its git folder
            real = os.path.realpath(full)
            if os.path.islink(full) and not _inside(real_root, real):
                skipped.append(Skipped(rel, OUTSIDE))
                continue
            try:
                info = os.stat(real)
            except OSError:
                skipped.append(Skipped(rel, "broken symlink"))
                continue
            if not stat.S_ISREG(info.st_mode):
                skipped.append(Skipped(rel, "not a regular file"))
                continue
            files.append(_entry(rel, real, info.st_size))
            real_paths[rel] = real
    return tuple(sorted(files, key=lambda f: f.path)), real_paths, skipped


def _entry(rel: str, real: str, size: int) -> FileEntry:
    if size < POINTER_MAX:
        pointer = parse_pointer(_read(real, POINTER_MAX) or b"")
        if pointer is not None:
            return FileEntry(rel, pointer.size, lfs=True, sha256=pointer.sha256)
    return FileEntry(rel, size)


def _inside(real_root: str, real: str) -> bool:
    return os.path.commonpath([real_root, real]) == real_root


def _rel(root: Path, full: str) -> str:
    return Path(os.path.relpath(full, root)).as_posix()


def _read(path: str, limit: int) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


def git_head(root: Path) -> str | None:
    """The commit `.git/HEAD` names (detached, or through a branch ref), or None."""
    git = root / ".git"
    try:
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            git = (root / git.read_text(encoding="utf-8").partition("gitdir:")[2].strip()).resolve()
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        if _SHA.fullmatch(head):
            return head
        ref = head.partition("ref:")[2].strip()
        if not ref:
            return None
        if (git / ref).is_file():
            value = (git / ref).read_text(encoding="utf-8").strip()
            return value if _SHA.fullmatch(value) else None
        for line in (git / "packed-refs").read_text(encoding="utf-8").splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and _SHA.fullmatch(sha):
                return sha
    except OSError:
        return None
    return None
