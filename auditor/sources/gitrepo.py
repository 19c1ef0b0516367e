"""A local checkout as git sees it: which files it holds, whether they changed, where it came from.

Everything goes through the `git` command (never a library that parses .git itself), run only
when the audited folder is the top of its own work tree: a model folder inside some other
project is not that project's checkout, and GIT_CEILING_DIRECTORIES keeps git from finding
the project around it. Without git (not installed, or a `.git` that is not a repository),
`GitRepo.open` returns None and the caller falls back to reading the folder.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from auditor.errors import NotFound, SourceError
from auditor.sources.boundary import read_line, read_or_none

_HUB_HOSTS = ("huggingface.co", "hf.co")
# Config keys whose values are commands git runs while comparing a work tree with its index.
_COMMAND_KEY = re.compile(rb"^(filter\.|diff\..*\.textconv$|core\.fsmonitor$|core\.hookspath$|core\.sshcommand$)")
_GIT_ENTRIES_CHECKED = 200_000  # entries of a git folder checked for FIFOs, sockets and devices
_CONFIG_CAP = 1 << 20  # a git config is a few hundred bytes; a larger one is read this far only
_TIMEOUT = 60  # seconds for one git command: a local operation that never waits on the network


@dataclass(frozen=True)
class TreeBlob:
    """One file of a git tree: its path, blob id and size (of the blob, a pointer for LFS files)."""

    path: str
    oid: str
    size: int


class GitRepo:
    """The git work tree whose top is `root`."""

    def __init__(self, root: Path, git: str):
        self.root = root
        self._git = git

    @classmethod
    def open(cls, root: Path) -> GitRepo | None:
        """The repository when `root` is the top of a git work tree and git is installed, else None."""
        git = shutil.which("git")
        if git is None or not (root / ".git").exists() or not _plain_git_folder(root):
            return None
        repo = cls(root, git)
        try:
            top = repo._run("rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape").strip()
        except SourceError:
            return None
        return repo if top and os.path.realpath(top) == os.path.realpath(root) else None

    def _command(self, *args: str) -> tuple[list[str], dict[str, str]]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env["GIT_CEILING_DIRECTORIES"] = str(Path(os.path.realpath(self.root)).parent)
        env["GIT_OPTIONAL_LOCKS"] = "0"  # `git status` must not write to the audited repository
        # The audited repository's own config is not trusted to run anything: no fsmonitor hook.
        return [self._git, "-C", str(self.root), "-c", "core.quotePath=false", "-c", "core.fsmonitor=false", *args], env

    def _run(self, *args: str, stdin: bytes | None = None) -> bytes:
        command, env = self._command(*args)
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, env=env, timeout=_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SourceError(f"git {args[0]} failed in {self.root}: {error}") from error
        if done.returncode != 0:
            raise SourceError(f"git {args[0]} failed in {self.root}: {git_failure(done.stderr, done.returncode)}")
        return done.stdout

    def ignored(self) -> set[str]:
        """Untracked paths .gitignore (and .git/info/exclude) exclude; a wholly ignored folder as `dir/`.

        Tracked files stay in even when a pattern matches them, as git keeps them."""
        out = self._run("ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
        return {os.fsdecode(name) for name in out.split(b"\0") if name}

    def runs_own_commands(self) -> bool:
        """Whether the repository's own config names commands that `git status` could run.

        Filters (clean/smudge/process), an fsmonitor hook or a textconv driver set in the audited
        repository's config would run while git compares the work tree with the index; the
        repository is untrusted, so such a tree is not compared at all."""
        out = self._run("config", "--list", "--show-scope", "--includes", "-z")
        fields = out.split(b"\0")  # with -z: scope NUL key LF value NUL, for every setting
        for scope, setting in zip(fields[0::2], fields[1::2], strict=False):
            key = setting.split(b"\n", 1)[0].lower()
            if scope in (b"local", b"worktree") and _COMMAND_KEY.match(key):
                return True
        return False

    def changed_files(self) -> tuple[str, ...]:
        """Files whose content differs from HEAD, or that git does not track yet (a dirty tree)."""
        out = self._run("status", "--porcelain=v1", "-z", "--untracked-files=normal")
        changed = []
        entries = iter(out.split(b"\0"))
        for entry in entries:
            if len(entry) < 4:
                continue
            changed.append(os.fsdecode(entry[3:]))
            if entry[:1] in (b"R", b"C"):
                next(entries, None)  # a rename's second name is the old path
        return tuple(changed)

    def origin_url(self) -> str | None:
        """The `origin` remote's URL, or None when there is no such remote."""
        try:
            url = self._run("config", "--get", "remote.origin.url").decode("utf-8", "replace").strip()
        except SourceError:
            return None
        return url or None

    def resolve(self, revision: str) -> str:
        """The commit `revision` names (branch, tag, full or short sha); NotFound when none."""
        try:
            return self._run("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").decode().strip()
        except SourceError:
            raise NotFound(f"revision {revision} not found in the git repository {self.root}") from None

    def log(self, commit: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(commit, committer date, subject, paths it added, changed or deleted) down the first-parent line, newest first."""
        out = self._run("log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--name-only", "-z",
                        "--format=%x1e%H%x1f%cI%x1f%s", commit, "--")
        entries = []
        for record in out.split(b"\x1e")[1:]:
            header, _, names = record.partition(b"\0")
            sha, date, subject = (header.decode("utf-8", "replace").split("\x1f", 2) + ["", ""])[:3]
            paths = tuple(os.fsdecode(name.strip(b"\n")) for name in names.split(b"\0") if name.strip(b"\n"))
            entries.append((sha, date, subject, paths))
        return entries

    def tree(self, commit: str) -> tuple[TreeBlob, ...]:
        """Every file of `commit`'s tree with its blob id and size (submodules and links left out)."""
        out = self._run("ls-tree", "-r", "-l", "-z", "--full-tree", commit)
        blobs = []
        for line in out.split(b"\0"):
            if not line:
                continue
            meta, _, name = line.partition(b"\t")
            mode, kind, oid, size = meta.split()
            if kind == b"blob" and mode != b"120000":
                blobs.append(TreeBlob(os.fsdecode(name), oid.decode(), int(size)))
        return tuple(blobs)

    def read_blobs(self, oids: list[str]) -> dict[str, bytes]:
        """Several whole blobs in one `git cat-file --batch` (small files: pointers, texts)."""
        if not oids:
            return {}
        out = self._run("cat-file", "--batch", stdin="".join(f"{oid}\n" for oid in oids).encode())
        blobs: dict[str, bytes] = {}
        at = 0
        while at < len(out):
            end = out.index(b"\n", at)
            header = out[at:end].split()
            if len(header) < 3:  # "<oid> missing"
                at = end + 1
                continue
            size = int(header[2])
            blobs[header[0].decode()] = out[end + 1:end + 1 + size]
            at = end + 1 + size + 1
        return blobs

    def read_blob(self, oid: str, start: int = 0, length: int | None = None) -> bytes:
        """Bytes [start, start+length) of a blob (all of it from `start` when length is None)."""
        if not re.fullmatch(r"[0-9a-f]{40,64}", oid):
            raise SourceError(f"not a blob id: {oid!r}")
        command, env = self._command("cat-file", "blob", oid)
        # Streamed and cut short: a range of a large blob costs what precedes it, never the rest.
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        except OSError as error:
            raise SourceError(f"git cat-file failed in {self.root}: {error}") from error
        stdout = process.stdout
        assert stdout is not None  # stdout=PIPE
        try:
            skipped = 0
            while skipped < start:
                chunk = stdout.read(min(1 << 20, start - skipped))
                if not chunk:
                    return b""
                skipped += len(chunk)
            return stdout.read() if length is None else stdout.read(length)
        finally:
            process.kill()
            process.wait()


# What git's stderr says, matched only to pick one of our own reasons: git quotes the repository's
# files in its messages (`fatal: unknown date format <a config value>`), so its words are never shown.
_GIT_FAILURES = (
    (re.compile(rb"not a git repository"), "not a git repository"),
    (re.compile(rb"dubious ownership|safe\.directory"), "git refuses a repository owned by another user"),
    (re.compile(rb"config|date format"), "the repository's git config is not valid"),
    (re.compile(rb"bad object|bad revision|unknown revision|not a valid object|ambiguous argument|invalid object|not a tree"),
     "bad object or revision"),
    (re.compile(rb"corrupt|inflate|packfile|loose object|missing (blob|tree|commit)|broken"), "the repository's objects are damaged"),
)


def git_failure(stderr: bytes, returncode: int) -> str:
    """Why a git command failed, in our words: the kind of failure, or git's exit code."""
    said = stderr.lower()
    for pattern, reason in _GIT_FAILURES:
        if pattern.search(said):
            return reason
    return f"git failed with exit {returncode}"


def _plain_git_folder(root: Path) -> bool:
    """Whether the checkout's git folder holds only files and folders: git blocks forever reading a FIFO."""
    try:
        folder = git_dir(root)
    except OSError:
        return False
    seen = 0
    for base, dirs, names in os.walk(folder):
        for name in (*dirs, *names):
            seen += 1
            if seen > _GIT_ENTRIES_CHECKED:
                return True  # a huge git folder: checked this far
            try:
                mode = os.lstat(os.path.join(base, name)).st_mode
            except OSError:
                return False
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
                return False
    return True


def git_dir(root: Path) -> Path:
    """The git folder of a checkout: `.git`, or where a worktree's or submodule's `.git` file points."""
    git = root / ".git"
    if git.is_file():  # "gitdir: <path>", a line
        line = read_line(git, root)
        if line is None:
            raise OSError(f"{git}: not a regular file inside the checkout")
        git = (root / line.partition("gitdir:")[2].strip()).resolve()
    return git


def config_origin_url(root: Path) -> str | None:
    """The `origin` remote's URL read from the git config file itself, for when git cannot run."""
    try:
        git = git_dir(root)
    except OSError:
        return None
    data = read_or_none(git / "config", git, 0, _CONFIG_CAP)
    if data is None:
        return None
    text = data.decode("utf-8", "replace")
    section = None
    for line in text.splitlines():
        line = line.strip()
        header = re.fullmatch(r'\[\s*remote\s+"([^"]*)"\s*\]', line)
        if header or line.startswith("["):
            section = header.group(1) if header else None
            continue
        key, _, value = line.partition("=")
        if section == "origin" and key.strip().lower() == "url" and value.strip():
            return value.strip()
    return None


def hub_repo_from_url(url: str, endpoints: tuple[str, ...] = ()) -> str | None:
    """The Hub model repo (org/name) a git remote URL points at, or None when it is not one.

    Hub remotes are https://huggingface.co/org/name (hf.co too, with or without `.git` or
    credentials), git@hf.co:org/name and ssh://git@hf.co/org/name; `endpoints` adds other
    Hubs (HF_ENDPOINT), matched by their URL prefix. Dataset and Space remotes are not models.
    """
    url = url.strip()
    path = None
    for endpoint in endpoints:
        base = urlsplit(endpoint.rstrip("/"))
        parts = urlsplit(url)
        if base.hostname and parts.hostname == base.hostname and parts.port == base.port:
            if parts.path.startswith(base.path + "/"):
                path = parts.path[len(base.path):]
                break
    if path is None:
        scp = re.fullmatch(r"[\w.-]+@([\w.-]+):(.+)", url)  # git@hf.co:org/name
        if scp:
            host, path = scp.group(1), "/" + scp.group(2)
        else:
            parts = urlsplit(url)
            host, path = parts.hostname or "", parts.path
        if host.lower().removeprefix("www.") not in _HUB_HOSTS:
            return None
    pieces = [p for p in path.strip("/").removesuffix(".git").split("/") if p]
    if pieces and pieces[0] == "models":
        pieces = pieces[1:]
    if len(pieces) != 2 or pieces[0] in ("datasets", "spaces"):
        return None
    return "/".join(pieces)
