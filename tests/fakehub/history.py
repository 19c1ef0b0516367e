"""A fixture repository with a history: `history.yaml`, commits oldest first, each changing files.

    id: history/relicensed
    commits:
      - date: "2024-01-10T09:00:00Z"
        title: Initial release
        files:
          README.md: readme-1.md             # a file under files/ of the case
          NOTES.txt: {text: "step {n}"}      # inline text ({n}: the repeat number)
          model.safetensors: {size: 5000000000}  # generated content (zeros), stored in LFS
        delete: [OLD_LICENSE]
      - {repeat: 497, date: "2024-02-01T00:00:00Z", title: "Log {n}", files: {log.txt: {text: "{n}"}}}

A `repeat` entry stands for that many commits, one hour apart from `date`. Each commit's id is
a digest of its parent, date, title and tree, so it is stable. The fake Hub serves every
commit as a revision (its own files), the commit listing (`/api/models/{id}/commits/{rev}`,
50 a page, with a `Link` header as the Hub's) and `paths-info` with each file's last commit;
`write_git(history, dest)` writes the same history as a real git repository (through
`git fast-import`), each large file as its Git LFS pointer.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from fakehub.blobs import Blob, BytesBlob, FileBlob, ZeroBlob
from fakehub.repos import FixtureRepo, Sibling, is_lfs

PAGE_SIZE = 50  # commits per page of the listing, as the Hub pages them


@dataclass(frozen=True)
class Commit:
    id: str
    date: str  # ISO 8601, UTC
    title: str
    parent: str | None


class HistoryRepo(FixtureRepo):
    """A fixture repo whose every commit is a revision with its own files; the head is what `main` serves."""

    commits: list[Commit]  # oldest first
    trees: dict[str, FixtureRepo]  # commit id -> the repo as it was at that commit
    changed: dict[str, frozenset[str]]  # commit id -> the paths it added, changed or deleted

    @classmethod
    def load_history(cls, root: Path) -> HistoryRepo:
        meta = yaml.safe_load((root / "history.yaml").read_text(encoding="utf-8")) or {}
        repo_id = str(meta["id"])
        tree: dict[str, Sibling] = {}
        commits: list[Commit] = []
        trees: dict[str, FixtureRepo] = {}
        changed: dict[str, frozenset[str]] = {}
        for step in _expand(meta.get("commits") or []):
            touched = set()
            for path, spec in (step.get("files") or {}).items():
                blob, stored = _blob(root, spec, step["n"])
                tree[path] = Sibling(repo_id, path, blob, stored, is_lfs(path, blob.size))
                touched.add(path)
            for path in step.get("delete") or ():
                tree.pop(path, None)
                touched.add(path)
            parent = commits[-1].id if commits else None
            digest = hashlib.sha1(f"{parent}\n{step['date']}\n{step['title']}\n".encode())
            for path in sorted(tree):
                digest.update(f"{path}\0{tree[path].blob_id}\n".encode())
            commit = Commit(digest.hexdigest(), step["date"], step["title"], parent)
            commits.append(commit)
            changed[commit.id] = frozenset(touched)
            trees[commit.id] = FixtureRepo(root=root, id=repo_id, sha=commit.id, gated=False, private=False,
                                           siblings=dict(sorted(tree.items())))
        head = trees[commits[-1].id]
        repo = cls(root=root, id=repo_id, sha=head.sha, gated=False, private=False, siblings=head.siblings,
                   revisions={c.id: c.id for c in commits})
        repo.commits, repo.trees, repo.changed = commits, trees, changed
        return repo

    def at(self, sha: str) -> FixtureRepo:
        return self.trees[sha]

    def log(self, sha: str) -> list[dict[str, Any]]:
        by_id = {c.id: c for c in self.commits}
        entries = []
        commit = by_id.get(sha)
        while commit is not None:
            entries.append(_listed(commit))
            commit = by_id.get(commit.parent) if commit.parent else None
        return entries

    def last_commit(self, sha: str, path: str) -> Commit | None:
        by_id = {c.id: c for c in self.commits}
        commit = by_id.get(sha)
        while commit is not None:
            if path in self.changed[commit.id]:
                return commit
            commit = by_id.get(commit.parent) if commit.parent else None
        return None


def _listed(commit: Commit) -> dict[str, Any]:
    """One commit as the Hub's commit listing gives it."""
    return {"id": commit.id, "title": commit.title, "message": "", "date": commit.date,
            "authors": [{"user": "fixture", "avatar": ""}]}


def _expand(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every commit, `repeat` entries unrolled one hour apart, `{n}` filled in."""
    out = []
    for step in steps:
        count = int(step.get("repeat", 1))
        start = datetime.fromisoformat(str(step["date"]).replace("Z", "+00:00"))
        for n in range(1, count + 1):
            date = (start + timedelta(hours=n - 1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            out.append({**step, "n": n, "date": date, "title": str(step["title"]).replace("{n}", str(n))})
    return out


def _blob(root: Path, spec: Any, n: int) -> tuple[Blob, bool]:
    if isinstance(spec, str):
        return FileBlob(root / "files" / spec), True
    if "text" in spec:
        return BytesBlob(str(spec["text"]).replace("{n}", str(n)).encode()), True
    return ZeroBlob(int(spec["size"])), False


def commit_log_page(repo: FixtureRepo, sha: str, page: int) -> tuple[list[dict[str, Any]], bool]:
    """One page of the commit listing at `sha`, newest first, and whether another page follows."""
    entries = repo.log(sha) if isinstance(repo, HistoryRepo) else [_listed(Commit(repo.sha, "2025-01-15T12:00:00.000Z", "initial commit", None))]
    start = page * PAGE_SIZE
    return entries[start:start + PAGE_SIZE], start + PAGE_SIZE < len(entries)


def paths_info(repo: FixtureRepo, sha: str, paths: list[str], expand: bool) -> list[dict[str, Any]]:
    """The Hub's paths-info answer: each existing path with its blob id, LFS data and, expanded, its last commit."""
    tree = repo.at(sha)
    answer = []
    for path in paths:
        sibling = tree.siblings.get(path)
        if sibling is None:
            continue  # the Hub leaves out what does not exist
        entry: dict[str, Any] = {"type": "file", "path": path, "size": sibling.size, "oid": sibling.blob_id}
        if sibling.lfs:
            entry["lfs"] = {"oid": sibling.sha256, "size": sibling.size, "pointerSize": len(sibling.pointer)}
        if expand:
            last = repo.last_commit(sha, path) if isinstance(repo, HistoryRepo) else Commit(repo.sha, "2025-01-15T12:00:00.000Z", "initial commit", None)
            if last is not None:
                entry["lastCommit"] = {"id": last.id, "title": last.title, "date": last.date}
        answer.append(entry)
    return answer


def write_git(repo: HistoryRepo, dest: Path | str) -> Path:
    """The history as a git repository at `dest` (work tree checked out at the head), through fast-import."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    git = ["git", "-C", str(dest), "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false"]
    subprocess.run([*git, "init", "-q"], check=True, env=env)
    stream = bytearray()
    previous: dict[str, str] = {}
    for number, commit in enumerate(repo.commits, 1):
        tree = repo.trees[commit.id]
        when = int(datetime.fromisoformat(commit.date.replace("Z", "+00:00")).timestamp())
        message = commit.title.encode()
        stream += b"commit refs/heads/main\n"
        stream += b"mark :%d\n" % number
        stream += b"author Fixture <fixture@example.org> %d +0000\n" % when
        stream += b"committer Fixture <fixture@example.org> %d +0000\n" % when
        stream += b"data %d\n%s\n" % (len(message), message)
        current = {path: sibling.blob_id for path, sibling in tree.siblings.items()}
        for path in sorted(set(previous) - set(current)):
            stream += b"D %s\n" % path.encode()
        for path, sibling in tree.siblings.items():
            if previous.get(path) == current[path]:
                continue
            data = sibling.pointer.encode() if sibling.lfs else sibling.blob.read(0, sibling.size)
            stream += b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)
        previous = current
    subprocess.run([*git, "fast-import", "--quiet"], input=bytes(stream), check=True, env=env)
    subprocess.run([*git, "checkout", "-q", "-f", "main"], check=True, env=env)
    return dest
