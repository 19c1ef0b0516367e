"""A local directory as a source: a clone of a model repo (with or without its LFS content), a
Hugging Face cache folder, or an `hf download --local-dir` folder.

The walk skips `.git`, never follows a symlink out of its boundary (such a link is reported in
`unread`), and lists each Git LFS pointer file as the large file it stands for, never as
text. The same selection and caps as the Hub apply; in addition, other *.md / *.txt files are
peeked at, since a local read costs nothing. What the folder is decides how it is read:

- a Hugging Face cache: `models--org--name` (its snapshot: the one `--revision` or `refs/main`
  names, else the only or newest one) or `models--org--name/snapshots/<sha>`; its files are
  symlinks into `../../blobs/`, followed as long as they stay inside the `models--*` folder;
  the repo id and commit come from the path;
- an `hf download --local-dir` folder: `.cache/huggingface/` is the download tool's, not the
  model's, and is skipped; the commit comes from its metadata files when they agree;
- a git checkout: what `.gitignore` excludes is left out (through git, else `pathspec`), a
  dirty work tree is noted, `--revision` reads that commit from git itself, and when `origin`
  is a Hub repo (or `hub_repo` names one) its LFS pointers are read from the Hub at the
  checkout's commit.

A folder that cannot be listed is reported in `unread`, never silently left out.

Over 400 lines: the three kinds of folder are read through one walk under one boundary
(symlinks, Git LFS pointers, .gitignore), kept together so the boundary is checked in one place.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import NotFound, SourceError, UsageError
from auditor.model import FileEntry, RepoSnapshot, SkipKind, Skipped, Target, TargetKind
from auditor.sources.boundary import inside, not_regular, read_line, read_or_none
from auditor.sources.gitrepo import GitRepo, config_origin_url, git_dir, hub_repo_from_url
from auditor.sources.interface import RepoSource
from auditor.sources.lfs import NOT_CHECKED_OUT, POINTER_MAX, parse_pointer
from auditor.sources.selection import FILE_CAP, PEEK_BYTES, select
from auditor.sources.texts import collect
from auditor.targets import is_single_file

if TYPE_CHECKING:
    import pathspec

_SHA = re.compile(r"[0-9a-f]{40}")
OUTSIDE = "symlink outside the repository"
_DOWNLOAD_CACHE = ".cache/huggingface"  # what `hf download --local-dir` keeps beside the files


@dataclass
class _Opened:
    """One opened target: how its files are listed and read, and what the report says of it."""

    files: tuple[FileEntry, ...]
    unread: list[Skipped]
    read: Callable[[str, int, int | None], bytes | None]  # (path, start, length) -> bytes, None when unreadable
    sha: str | None
    checkout: dict[str, Any] = field(default_factory=dict)
    hub_mirror: str | None = None
    changed: frozenset[str] = frozenset()


class LocalSource(RepoSource):
    """Reads local folders. `hub` (a function giving a Hub source) lets Git LFS pointers of a
    checkout cloned from the Hub be read there; `hub_repo` names that Hub repo explicitly;
    `hub_endpoints` are the Hub URLs (besides huggingface.co and hf.co) an origin may point at."""

    def __init__(
        self,
        hub: Callable[[], RepoSource] | None = None,
        hub_repo: str | None = None,
        hub_endpoints: tuple[str, ...] = (),
    ) -> None:
        self._bytes_read = 0
        self._lock = threading.Lock()
        self._hub = hub
        self._hub_repo = hub_repo
        self._hub_endpoints = hub_endpoints
        self._opened: dict[Target, _Opened] = {}

    def fetch(self, target: Target) -> RepoSnapshot:
        """The snapshot of a local folder: listed, with its chosen small files read."""
        opened = self._open(target)
        by_path = {entry.path: entry for entry in opened.files}

        def peek(path: str) -> bytes | None:
            return opened.read(path, 0, PEEK_BYTES)

        selection = select(opened.files, peek=peek)
        results: list[tuple[str, bytes | Skipped]] = []
        for path in selection.read:
            if by_path[path].lfs:
                results.append((path, Skipped(path, NOT_CHECKED_OUT, SkipKind.NOT_CHECKED_OUT)))
            else:
                data = opened.read(path, 0, FILE_CAP + 1)
                results.append((path, data if data is not None else Skipped(path, "unreadable")))
        texts, failed = collect(results)
        unread = tuple(sorted((*opened.unread, *selection.unread, *failed), key=lambda s: s.path))
        return RepoSnapshot(
            target=target, sha=opened.sha, files=opened.files, texts=texts, unread=unread,
            hub_mirror=opened.hub_mirror, checkout=opened.checkout or None,
        )

    def read_range(self, snapshot: RepoSnapshot, path: str, start: int, length: int) -> bytes:
        """Bytes of `path` from the folder (or, for a Git LFS pointer, from the Hub)."""
        if start < 0 or length < 0:
            raise ValueError(f"bad range: start={start} length={length}")
        opened = self._open(snapshot.target)
        entry = next((f for f in opened.files if f.path == path), None)
        if entry is None:
            raise SourceError(f"{path}: not a file of {snapshot.target.label} (missing, ignored, or outside the repository)")
        if entry.lfs:
            return self._read_pointed(snapshot, opened, entry, start, length)
        head = opened.read(path, 0, POINTER_MAX) if entry.size < POINTER_MAX else b""
        if head is not None and parse_pointer(head) is not None:
            raise SourceError(f"{path}: {NOT_CHECKED_OUT}")
        data = opened.read(path, start, length)
        if data is None:
            raise SourceError(f"{path}: unreadable")
        with self._lock:
            self._bytes_read += len(data)
        return data

    def read_file(self, target: Target, path: str) -> bytes | None:
        """A small file of the folder (at most FILE_CAP bytes), read within its boundary as the audit reads its
        files: the repo's own policy file. None when the folder lists no such file, or only its Git LFS pointer."""
        opened = self._open(target)
        entry = next((f for f in opened.files if f.path == path), None)
        if entry is None or entry.lfs:
            return None
        data = opened.read(path, 0, FILE_CAP + 1)
        if data is not None and len(data) > FILE_CAP:
            raise SourceError(f"{path}: over {FILE_CAP} bytes, not read")
        return data

    def bytes_read(self) -> int:
        """Bytes of file content read through read_range so far."""
        return self._bytes_read

    def _read_pointed(self, snapshot: RepoSnapshot, opened: _Opened, entry: FileEntry, start: int, length: int) -> bytes:
        """A Git LFS pointer's content, read from the Hub repo the checkout mirrors at its commit."""
        if self._hub is None or not opened.hub_mirror:
            raise SourceError(f"{entry.path}: {NOT_CHECKED_OUT}")
        if not opened.sha:
            raise SourceError(f"{entry.path}: {NOT_CHECKED_OUT}, and no commit to read it at on the Hub")
        if entry.path in opened.changed:
            raise SourceError(f"{entry.path}: {NOT_CHECKED_OUT}, and changed since commit {opened.sha[:12]}: the Hub's copy is another file")
        remote = Target(TargetKind.HUB, repo_id=opened.hub_mirror, revision=opened.sha)
        return self._hub().read_range(RepoSnapshot(remote, opened.sha, (entry,)), entry.path, start, length)

    # --- opening a target: which kind of folder it is
    def _open(self, target: Target) -> _Opened:
        if target not in self._opened:
            self._opened[target] = self._open_new(target)
        return self._opened[target]

    def _open_new(self, target: Target) -> _Opened:
        if target.kind is TargetKind.LOCAL and target.path and is_single_file(target.path) and Path(target.path).expanduser().is_file():
            return _open_file(Path(target.path).expanduser())
        root = _root(target)
        cache = hf_cache_snapshot(root, target.revision)
        if cache is not None:
            snapshot_dir, boundary, sha, repo_id = cache
            opened = _open_folder(snapshot_dir, boundary)
            opened.sha = sha
            opened.checkout = {"kind": "hf-cache", "repo": repo_id}
            return opened
        repo = GitRepo.open(root)
        if target.revision is not None:
            if repo is None:
                raise UsageError(f"--revision {target.revision}: {root} is not a git checkout (nor a Hugging Face cache folder), so it has no revisions to read")
            opened = _open_revision(repo, target.revision)
        elif (root / _DOWNLOAD_CACHE).is_dir():
            opened = _open_folder(root, root, skip=(_DOWNLOAD_CACHE,), ignore=_gitignore_filter(root, repo))
            opened.sha = _local_dir_commit(root / _DOWNLOAD_CACHE / "download") or git_head(root)
            opened.checkout["kind"] = "hf-local-dir"
        else:
            opened = _open_folder(root, root, ignore=_gitignore_filter(root, repo))
            opened.sha = git_head(root)
            if (root / ".git").exists():
                opened.checkout["kind"] = "git"
        if repo is not None and target.revision is None:
            opened.changed, opened.checkout["dirty"] = _changes(repo)
        opened.hub_mirror = self._hub_repo or _origin_hub_repo(root, repo, self._hub_endpoints)
        if opened.hub_mirror:
            opened.checkout["hub_repo"] = opened.hub_mirror
        return opened


def _root(target: Target) -> Path:
    if target.kind is not TargetKind.LOCAL or not target.path:
        raise UsageError(f"{target.label} is not a local directory")
    root = Path(target.path).expanduser()
    if not root.exists():
        raise NotFound(f"{root}: no such directory")
    if not root.is_dir():
        raise NotFound(f"{root} is a file, not a repository directory")
    return root


# --- Hugging Face cache folders
def hf_cache_snapshot(root: Path, revision: str | None) -> tuple[Path, Path, str, str | None] | None:
    """(snapshot folder, `models--*` folder, commit, repo id) when root is a cache folder or snapshot, else None.

    A snapshot folder (named, or chosen by a ref) whose real location is outside its
    `models--*` folder is refused: its files are not the cached model's."""
    lexical = Path(os.path.abspath(root))
    if lexical.parent.name == "snapshots" and lexical.parent.parent.name.startswith("models--"):
        models = lexical.parent.parent
    elif root.resolve().parent.name == "snapshots" and root.resolve().parent.parent.name.startswith("models--"):
        models = root.resolve().parent.parent
    elif root.name.startswith("models--") and (root / "snapshots").is_dir():
        models = root
    else:
        return None
    if models != root:
        if not inside(models, root):
            raise SourceError(f"{root}: a cache snapshot folder leading outside its {models.name} folder (not read)")
        if revision is None:
            return root, models, root.resolve().name, _cache_repo_id(models.name)
    sha = _cache_commit(models, revision)
    snapshot = models / "snapshots" / sha
    if not inside(models, snapshot):
        raise SourceError(f"{models}: the snapshot {sha[:12]} leads outside the cache folder (not read)")
    return snapshot, models, sha, _cache_repo_id(models.name)


def _cache_repo_id(folder: str) -> str | None:
    parts = folder.split("--")
    return f"{parts[1]}/{parts[2]}" if len(parts) == 3 and all(parts) else None


def _cache_commit(models: Path, revision: str | None) -> str:
    """The snapshot `revision` names (a ref, a commit or its prefix), else `refs/main`'s, else the only or newest."""
    snapshots = sorted(p for p in (models / "snapshots").iterdir() if p.is_dir())
    names = [p.name for p in snapshots]
    wanted = revision or "main"
    ref = models / "refs" / wanted
    if ".." not in Path(wanted).parts and (ref.is_file() or ref.is_symlink()):
        sha = read_line(ref, models)  # its first bytes only, and never through a link out of the cache folder
        if sha is None:
            raise SourceError(f"{models}: refs/{wanted} is not a readable file inside the cache folder (not read)")
        if not _SHA.fullmatch(sha):
            raise NotFound(f"{models}: refs/{wanted} does not hold a commit id")
        if sha in names:
            return sha
        raise NotFound(f"{models}: refs/{wanted} names {sha[:12]}, which is not in the cache's snapshots")
    if revision is not None:
        found = [name for name in names if name.startswith(revision.lower())] if len(revision) >= 7 else []
        if len(found) == 1:
            return found[0]
        raise NotFound(f"revision {revision} is not in the cache folder {models} (snapshots: {', '.join(n[:12] for n in names) or 'none'})")
    if not snapshots:
        raise NotFound(f"{models}: a Hugging Face cache folder without snapshots")
    return max(snapshots, key=lambda p: p.stat().st_mtime).name


def _local_dir_commit(metadata: Path) -> str | None:
    """The commit `hf download --local-dir` recorded (first line of each .metadata file) when all agree."""
    commits = set()
    for folder, _, names in os.walk(metadata):
        for name in names:
            if name.endswith(".metadata"):
                line = (_read_file(os.path.join(folder, name), metadata, 0, 128) or b"").split(b"\n", 1)[0].strip()
                commits.add(line.decode("ascii", "replace"))
    if len(commits) == 1:
        commit = commits.pop()
        return commit if _SHA.fullmatch(commit) else None
    return None


# --- a folder on disk
def _open_file(path: Path) -> _Opened:
    """A single file (a GGUF) audited as a release of one file: listed alone, read from where it is."""
    real = os.path.realpath(path)
    size = os.stat(real).st_size
    name = path.name

    def read(wanted: str, start: int, length: int | None) -> bytes | None:
        return _read_file(real, real, start, length) if wanted == name else None

    return _Opened((_entry(name, _read_file(real, real, 0, POINTER_MAX) if size < POINTER_MAX else None, size),), [], read, None)


def _open_folder(root: Path, boundary: Path, skip: tuple[str, ...] = (), ignore: _Ignore | None = None) -> _Opened:
    files, real_paths, skipped, ignored = _walk(root, boundary, skip, ignore)

    def read(path: str, start: int, length: int | None) -> bytes | None:
        real = real_paths.get(path)
        return None if real is None else _read_file(real, boundary, start, length)

    opened = _Opened(files, skipped, read, None)
    if ignored:
        opened.checkout["ignored"] = ignored
    return opened


class _Ignore:
    """Which walked paths `.gitignore` excludes: git's own list, or pathspec over the .gitignore files."""

    def __init__(self, listed: set[str] | None, root: Path):
        self._listed = listed  # git's ignored paths (folders end in "/"), or None to use pathspec
        self._root = root
        self._specs: dict[str, list[tuple[str, Any]]] = {}

    def folder(self, rel: str) -> bool:
        return self._ignored(rel, folder=True)

    def file(self, rel: str) -> bool:
        return self._ignored(rel, folder=False)

    def _ignored(self, rel: str, folder: bool) -> bool:
        if self._listed is not None:
            return (rel + "/" if folder else rel) in self._listed
        verdict = None  # the last .gitignore with a matching pattern decides, the innermost one last
        for base, spec in self._specs_for(rel.rpartition("/")[0]):
            inner = rel[len(base) + 1:] if base else rel
            result = spec.check_file(inner + "/" if folder else inner)
            if result.include is not None:
                verdict = result.include
        return bool(verdict)

    def _specs_for(self, folder: str) -> list[tuple[str, Any]]:
        """The .gitignore specs that apply in `folder`: its ancestors' and its own, outermost first."""
        if folder not in self._specs:
            outer = self._specs_for(folder.rpartition("/")[0]) if folder else []
            own = _gitignore_spec(self._root / folder / ".gitignore", self._root)
            self._specs[folder] = outer + ([(folder, own)] if own is not None else [])
        return self._specs[folder]


def _gitignore_spec(path: Path, boundary: Path) -> pathspec.GitIgnoreSpec | None:
    if not path.is_file():
        return None
    import pathspec  # only folders with a .gitignore and no usable git pay for the import

    text = _read_file(str(path), boundary, 0, FILE_CAP) or b""
    return pathspec.GitIgnoreSpec.from_lines(text.decode("utf-8", "replace").splitlines())


def _gitignore_filter(root: Path, repo: GitRepo | None) -> _Ignore | None:
    """What .gitignore leaves out of a checkout: from git, else from its .gitignore files (pathspec).

    Only a checkout has files .gitignore keeps out of the repository; in a download every file
    came from the repository, ignored pattern or not."""
    if not (root / ".git").exists():
        return None
    if repo is not None:
        try:
            return _Ignore(repo.ignored(), root)
        except SourceError:
            pass
    return _Ignore(None, root)


def _walk(
    root: Path, boundary: Path, skip: tuple[str, ...] = (), ignore: _Ignore | None = None
) -> tuple[tuple[FileEntry, ...], dict[str, str], list[Skipped], int]:
    """Every file under root (sorted), where to read each, what could not be listed, and how many were ignored."""
    real_boundary = os.path.realpath(boundary)
    files: list[FileEntry] = []
    real_paths: dict[str, str] = {}
    skipped: list[Skipped] = []
    ignored = 0

    def unreadable(error: OSError) -> None:
        rel = _rel(root, error.filename) if error.filename else "."
        skipped.append(Skipped(rel, f"folder unreadable ({error.strerror or error}): its files were not audited"))

    for folder, dirs, names in os.walk(root, followlinks=False, onerror=unreadable):
        kept = []
        for name in sorted(dirs):
            rel = _rel(root, os.path.join(folder, name))
            if name == ".git" or rel in skip:
                continue
            if ignore is not None and ignore.folder(rel):
                ignored += 1
                continue
            kept.append(name)
        dirs[:] = kept
        for name in [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            dirs.remove(name)  # os.walk would not descend either: say why the folder is missing
            full = os.path.join(folder, name)
            inside = _inside(real_boundary, os.path.realpath(full))
            skipped.append(Skipped(_rel(root, full), "symlink to a folder, not followed" if inside else OUTSIDE))
        for name in sorted(names):
            full = os.path.join(folder, name)
            rel = _rel(root, full)
            if name == ".git":
                continue  # a worktree's or submodule's pointer to its git folder
            if ignore is not None and ignore.file(rel):
                ignored += 1
                continue
            real = os.path.realpath(full)
            if not _inside(real_boundary, real):  # a link, or a file of a folder reached through one
                skipped.append(Skipped(rel, OUTSIDE))
                continue
            problem = not_regular(real)
            if problem is not None:
                skipped.append(Skipped(rel, problem))
                continue
            size = os.stat(real).st_size
            files.append(_entry(rel, _read_file(real, real_boundary, 0, POINTER_MAX) if size < POINTER_MAX else None, size))
            real_paths[rel] = real
    return tuple(sorted(files, key=lambda f: f.path)), real_paths, skipped, ignored


def _entry(rel: str, head: bytes | None, size: int) -> FileEntry:
    """A listed file; a Git LFS pointer (given its first bytes) stands for the file it points to."""
    pointer = parse_pointer(head) if head is not None else None
    if pointer is not None:
        return FileEntry(rel, pointer.size, lfs=True, sha256=pointer.sha256)
    return FileEntry(rel, size)


def _inside(real_root: str, real: str) -> bool:
    return os.path.commonpath([real_root, real]) == real_root


def _rel(root: Path, full: str) -> str:
    return Path(os.path.relpath(full, root)).as_posix()


def _read_file(path: str, boundary: str | Path, start: int, length: int | None) -> bytes | None:
    """At most `length` bytes (FILE_CAP without one) of a regular file inside `boundary`; None otherwise."""
    return read_or_none(path, boundary, start, FILE_CAP + 1 if length is None else length)


# --- a git revision, read from git itself
def _open_revision(repo: GitRepo, revision: str) -> _Opened:
    commit = repo.resolve(revision)
    blobs = {blob.path: blob for blob in repo.tree(commit)}
    small = repo.read_blobs(sorted({b.oid for b in blobs.values() if b.size < POINTER_MAX}))
    files = tuple(sorted((_entry(b.path, small.get(b.oid), b.size) for b in blobs.values()), key=lambda f: f.path))

    def read(path: str, start: int, length: int | None) -> bytes | None:
        blob = blobs.get(path)
        if blob is None:
            return None
        if blob.oid in small:
            data = small[blob.oid][start:]
            return data if length is None else data[:length]
        try:
            return repo.read_blob(blob.oid, start, length)
        except SourceError:
            return None

    return _Opened(files, [], read, commit, {"kind": "git", "revision": revision})


def _changes(repo: GitRepo) -> tuple[frozenset[str], list[str] | None]:
    """Files changed since HEAD (None when git cannot tell): a dirty tree is not the commit it names."""
    try:
        if repo.runs_own_commands():
            return frozenset(), None  # comparing the tree would run the repository's own commands
        changed = repo.changed_files()
    except SourceError:
        return frozenset(), None
    return frozenset(changed), sorted(changed)


def _origin_hub_repo(root: Path, repo: GitRepo | None, endpoints: tuple[str, ...]) -> str | None:
    """The Hub repo a checkout's `origin` remote points at, if it is one."""
    if not (root / ".git").exists():
        return None
    url = repo.origin_url() if repo is not None else config_origin_url(root)
    return hub_repo_from_url(url, endpoints) if url else None


def git_head(root: Path) -> str | None:
    """The commit `.git/HEAD` names (detached, or through a branch ref), or None."""
    try:
        git = git_dir(root)
    except OSError:
        return None
    head = read_line(git / "HEAD", git) or ""  # a FIFO or a link out of the git folder is never read
    if _SHA.fullmatch(head):
        return head
    ref = head.partition("ref:")[2].strip()
    if not ref or ".." in Path(ref).parts:
        return None
    value = read_line(git / ref, git)
    if value is not None:
        return value if _SHA.fullmatch(value) else None
    packed = _read_file(str(git / "packed-refs"), git, 0, FILE_CAP) or b""
    for line in packed.decode("utf-8", "replace").splitlines():
        sha, _, name = line.partition(" ")
        if name.strip() == ref and _SHA.fullmatch(sha):
            return sha
    return None
