"""The on-disk cache of audited records, keyed by repo and commit.

Re-auditing an unchanged repo then costs its one model-info request: the commit it names is
the key, with what makes the report (`auditor_fingerprint`: the auditor's code, its rule
tables and its licence knowledge base, so a changed judge or licence file is never answered
from an older run) and the options that change a report (licence engine, weight scanning,
link checks, policy). Entries are small JSON files written atomically, each naming the
repo, commit and fingerprint it answers for; one that cannot be read, is cut short, or names
another key or schema is a miss, and the fresh audit's record replaces it. The default directory is $AUDITOR_CACHE_DIR, else
$XDG_CACHE_HOME/audit-model, else ~/.cache/audit-model.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.bounded import load_json
from auditor.cachedir import cache_root, write_atomically
from auditor.report.json_report import SCHEMA

if TYPE_CHECKING:
    from auditor.batch.options import BatchOptions


def default_cache_dir() -> Path:
    """The auditor's cache root (see auditor.cachedir); results go to `results/` under it."""
    return cache_root()


def cache_directory(options: BatchOptions) -> Path:
    """The cache root a census uses: --cache-dir, else the auditor's default."""
    return Path(options.cache_dir).expanduser() if options.cache_dir else default_cache_dir()


@functools.cache
def auditor_fingerprint() -> str:
    """A hash of every file the auditor's answers come from: its code and rule tables (the
    package's .py and .yaml files) and the licence knowledge base (profiles and texts)."""
    from auditor.identify.kb import default_root

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for root, files in ((package, [*package.rglob("*.py"), *package.rglob("*.yaml")]),
                        (default_root(), [*default_root().glob("*.yaml"), *default_root().glob("texts/*")])):
        for path in sorted(files):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


_ENTRY_DEPTH = 200  # a record nests some 12 deep; the bound only stops a corrupted entry


class ResultCache:
    """Records by (repo id, commit, fingerprint of the options)."""

    def __init__(self, directory: str | Path | None, fingerprint: str):
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.fingerprint = f"{auditor_fingerprint()}|{fingerprint}"
        self.hits = 0

    def _path(self, repo_id: str, sha: str) -> Path:
        key = hashlib.sha256(f"{repo_id}\0{sha}\0{self.fingerprint}".encode()).hexdigest()
        return self.directory / "results" / key[:2] / f"{key}.json"

    def _key(self, repo_id: str, sha: str) -> dict[str, str]:
        """What an entry answers for, written in it and checked on reading."""
        return {"repo": repo_id, "sha": sha, "version": self.fingerprint}

    def get(self, repo_id: str, sha: str | None) -> dict[str, Any] | None:
        """The cached record of `repo_id` at commit `sha`, or None (no sha, not cached, or unreadable)."""
        if not sha:
            return None
        try:
            entry = load_json(self._path(repo_id, sha).read_bytes(), max_depth=_ENTRY_DEPTH)
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("schema") != SCHEMA or entry.get("key") != self._key(repo_id, sha):
            return None
        record = entry.get("record")
        if not (isinstance(record, dict) and record.get("status") == "audited" and record.get("schema") == SCHEMA
                and isinstance(record.get("report"), dict) and isinstance(record.get("summary"), dict)):
            return None
        self.hits += 1
        return record

    def put(self, repo_id: str, sha: str | None, record: dict[str, Any]) -> None:
        """Store an audited record; a cache that cannot be written is only a slower next run."""
        if not sha or record.get("status") != "audited":
            return
        entry = {"schema": SCHEMA, "key": self._key(repo_id, sha), "record": record}
        encoded = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        write_atomically(self._path(repo_id, sha), [encoded])
