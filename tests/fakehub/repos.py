"""A fixture repository as the fake Hub sees it: `repo.yaml` plus the small files in `files/`.

The format is the development corpus's (id, sha, gated, private, siblings with real sizes)
plus optional test knobs: `revisions: {name: sha}`, `tokens: [...]` that may read a private
or gated repo, `security: {...}` (the Hub's securityRepoStatus), `blobs: {path: spec}` (see
fakehub.blobs) and `fail: {status, times, requests: [api, head, get]}` to answer the first `times`
matching requests with an error. Which files are LFS follows the Hub's rule: 10 MB or more,
or a pattern of the default .gitattributes (lfs.gitattributes next to this module).
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from fakehub.blobs import Blob, FileBlob, ZeroBlob, blob_from_spec

LFS_THRESHOLD = 10_000_000
POINTER_VERSION = "https://git-lfs.github.com/spec/v1"
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)^---[ \t]*$", re.S | re.M)
_TIMESTAMP = "2025-01-15T12:00:00.000Z"


@lru_cache(maxsize=1)
def _lfs_patterns() -> tuple[str, ...]:
    text = (Path(__file__).with_name("lfs.gitattributes")).read_text(encoding="utf-8")
    return tuple(line.split()[0] for line in text.splitlines() if "filter=lfs" in line and not line.startswith("#"))


def is_lfs(path: str, size: int) -> bool:
    """Whether the Hub would store this file in Git LFS."""
    if size >= LFS_THRESHOLD:
        return True
    name = PurePosixPath(path).name
    for pattern in _lfs_patterns():
        # gitattributes: a pattern without a slash matches the base name, one with a slash the path
        target = path if "/" in pattern else name
        if fnmatch.fnmatchcase(target, pattern.replace("**/", "*")):
            return True
    return False


def pointer_text(sha256: str, size: int) -> str:
    """A Git LFS pointer file, as `GIT_LFS_SKIP_SMUDGE=1 git clone` leaves one."""
    return f"version {POINTER_VERSION}\noid sha256:{sha256}\nsize {size}\n"


def _digest(blob: Blob, algorithm: str, prefix: bytes = b"") -> str:
    digest = hashlib.new(algorithm, prefix)
    chunk = 1 << 20
    for start in range(0, blob.size, chunk):
        digest.update(blob.read(start, chunk))
    return digest.hexdigest()


@dataclass
class Sibling:
    repo_id: str
    path: str
    blob: Blob
    stored: bool
    lfs: bool

    @property
    def size(self) -> int:
        return self.blob.size

    @cached_property
    def sha256(self) -> str | None:
        """The LFS oid: the real digest of stored content; a stable stand-in for generated content."""
        if not self.lfs:
            return None
        if self.stored:
            return _digest(self.blob, "sha256")
        return hashlib.sha256(f"fakehub:{self.repo_id}:{self.path}".encode()).hexdigest()

    @cached_property
    def pointer(self) -> str | None:
        return pointer_text(self.sha256, self.size) if self.lfs else None

    @cached_property
    def blob_id(self) -> str:
        """The git object id: of the pointer for LFS files, of the content otherwise."""
        if self.lfs:
            data = self.pointer.encode()
            return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        return _digest(self.blob, "sha1", b"blob %d\0" % self.size)

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.blob_id

    def listing(self, blobs: bool) -> dict[str, Any]:
        entry: dict[str, Any] = {"rfilename": self.path}
        if blobs:
            entry.update(size=self.size, blobId=self.blob_id)
            if self.lfs:
                entry["lfs"] = {"size": self.size, "sha256": self.sha256, "pointerSize": len(self.pointer)}
        return entry


@dataclass
class FailRule:
    status: int
    times: int
    kinds: tuple[str, ...] = ("api", "head", "get")


@dataclass
class FixtureRepo:
    root: Path
    id: str
    sha: str
    gated: bool | str
    private: bool
    siblings: dict[str, Sibling]
    tokens: tuple[str, ...] = ()
    revisions: dict[str, str] = field(default_factory=dict)
    security: dict[str, Any] | None = None
    fail: tuple[FailRule, ...] = ()
    repo_type: str = "model"  # "dataset" for dataset repos (repo.yaml `type: dataset`)

    @classmethod
    def load(cls, root: Path) -> FixtureRepo:
        root = Path(root)
        meta = yaml.safe_load((root / "repo.yaml").read_text(encoding="utf-8")) or {}
        specs = meta.get("blobs") or {}
        siblings = {}
        for entry in meta.get("siblings") or []:
            path, size = str(entry["path"]), int(entry["size"])
            stored = root / "files" / path
            if path in specs:
                blob, is_stored = blob_from_spec(str(specs[path]), size), False
            elif stored.is_file():
                blob, is_stored = FileBlob(stored), True
            else:
                blob, is_stored = ZeroBlob(size), False
            siblings[path] = Sibling(meta["id"], path, blob, is_stored, is_lfs(path, blob.size))
        fail = meta.get("fail") or ()
        rules = tuple(_fail_rule(root, rule) for rule in ([fail] if isinstance(fail, dict) else fail))
        gated = meta.get("gated") or False
        return cls(
            root=root,
            id=str(meta["id"]),
            sha=str(meta["sha"]),
            gated=gated if gated in ("auto", "manual") else bool(gated),
            private=bool(meta.get("private", False)),
            siblings=dict(sorted(siblings.items())),
            tokens=tuple(meta.get("tokens") or ()),
            revisions={str(k): str(v) for k, v in (meta.get("revisions") or {}).items()},
            security=meta.get("security"),
            fail=rules,
            repo_type=str(meta.get("type", "model")),
        )

    def at(self, sha: str) -> FixtureRepo:
        """The repo as it was at commit `sha` (the same files at every revision, unless it has a history)."""
        return self

    def resolve(self, revision: str | None) -> str | None:
        """The commit a revision names, or None when the repo has no such revision."""
        if revision in (None, "main", self.sha):
            return self.sha
        if revision in self.revisions:
            return self.revisions[revision]
        if revision in self.revisions.values():
            return revision
        # like the Hub, a unique prefix of at least 7 hex digits names a commit
        if revision and re.fullmatch(r"[0-9a-f]{7,39}", revision):
            commits = {self.sha, *self.revisions.values()}
            matches = [sha for sha in commits if sha.startswith(revision)]
            return matches[0] if len(matches) == 1 else None
        return None

    @cached_property
    def card_data(self) -> dict[str, Any] | None:
        """The README's front matter, parsed the way the Hub fills `cardData` (None when unparsable)."""
        readme = self.siblings.get("README.md")
        if readme is None or not readme.stored:
            return None
        text = readme.blob.read(0, readme.size).decode("utf-8", "replace")
        match = _FRONT_MATTER.match(text)
        if not match:
            return None
        try:
            data = yaml.safe_load(match.group(1))
        except yaml.YAMLError:
            return None
        return data if isinstance(data, dict) else None

    def tags(self) -> list[str]:
        card = self.card_data or {}
        tags = [str(t) for t in _as_list(card.get("tags"))]
        if card.get("library_name"):
            tags.insert(0, str(card["library_name"]))
        tags += [f"license:{value}" for value in _as_list(card.get("license"))]
        tags += [f"dataset:{value}" for value in _as_list(card.get("datasets"))]
        tags += [f"base_model:{value}" for value in _as_list(card.get("base_model"))]
        return list(dict.fromkeys(tags + ["region:us"]))

    def info(self, sha: str, blobs: bool, security: bool) -> dict[str, Any]:
        """The JSON body of GET /api/models/{id}[/revision/{rev}] (or /api/datasets/... for a dataset)."""
        card = self.card_data
        body: dict[str, Any] = {
            "_id": hashlib.sha1(self.id.encode()).hexdigest()[:24],
            "id": self.id,
            **({"modelId": self.id} if self.repo_type == "model" else {}),
            "author": self.id.split("/")[0] if "/" in self.id else None,
            "sha": sha,
            "lastModified": _TIMESTAMP,
            "createdAt": _TIMESTAMP,
            "private": self.private,
            "gated": self.gated,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": self.tags(),
            "siblings": [s.listing(blobs) for s in self.siblings.values()],
            "spaces": [],
        }
        if card is not None:
            body["cardData"] = card
            for key in ("library_name", "pipeline_tag"):
                if card.get(key):
                    body[key] = card[key]
        if blobs:
            body["usedStorage"] = sum(s.size for s in self.siblings.values())
        if security:
            body["securityRepoStatus"] = self.security or {"scansDone": True, "filesWithIssues": []}
        return body


def _fail_rule(root: Path, rule: dict) -> FailRule:
    # a misspelt knob would silently inject nothing: refuse it (YAML reads a bare `on:` as True)
    unknown = set(rule) - {"status", "times", "requests"}
    kinds = tuple(rule.get("requests") or ("api", "head", "get"))
    if unknown or not set(kinds) <= {"api", "head", "get"}:
        raise ValueError(f"{root}/repo.yaml: bad fail rule {rule!r}: use status, times, requests: [api, head, get]")
    return FailRule(int(rule["status"]), int(rule.get("times", 1)), kinds)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def load_roots(roots) -> dict[str, FixtureRepo]:
    """Every fixture repo under the given roots (each a folder of <case>/repo.yaml or <case>/history.yaml), by repo id."""
    from fakehub.history import HistoryRepo

    repos: dict[str, FixtureRepo] = {}
    for root in roots:
        cases = sorted([*Path(root).glob("*/repo.yaml"), *Path(root).glob("*/history.yaml")])
        for case in cases:
            repo = FixtureRepo.load(case.parent) if case.name == "repo.yaml" else HistoryRepo.load_history(case.parent)
            if repo.id in repos:
                raise ValueError(f"{case}: repo id {repo.id} already served from {repos[repo.id].root}")
            repos[repo.id] = repo
    return repos
