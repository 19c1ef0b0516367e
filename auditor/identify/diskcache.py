"""The knowledge base's parsed profiles and the matcher's index, kept on disk between processes.

Parsing ~130 YAML profiles and normalising their reference texts costs most of a short
audit, and gives the same result until the knowledge base changes. Both are kept in
`licence-index/` under the auditor's cache root (auditor.cachedir) under a fingerprint of the knowledge base's files, of the code that
shapes the index and of the interpreter (shingles are Python hashes of integer tuples,
stable for one Python version). Profiles are JSON; the index is a JSON header followed by
raw integer arrays: nothing is ever unpickled. Files are written atomically; a cache that
is missing, corrupt or cannot be written is ignored and everything is built in memory.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from auditor.cachedir import cache_root, write_atomically

_T = TypeVar("_T")
_FORMAT = "1"
# The code whose behaviour the cached index depends on: a change to it is a new fingerprint.
_CODE = ("index.py", "normalise.py", "equivalents.yaml", "kb.py", "engine.py", "markers.py", "phrases.py", "rules.yaml",
         "similarity.py", "unknown.py", "clauses.yaml")  # the verbatim answers are the engine's


def cache_dir() -> Path:
    """Where the licence index is kept: `licence-index/` under the auditor's cache root."""
    return cache_root() / "licence-index"


def fingerprint(root: Path) -> str:
    """A hash of every profile and text under `root`, of the index code and of the interpreter."""
    digest = hashlib.sha256(f"{_FORMAT} {sys.version} {sys.hash_info.algorithm} {sys.byteorder}".encode())
    package = resources.files("auditor.identify")
    for name in _CODE:
        digest.update(name.encode() + b"\0" + package.joinpath(name).read_bytes())
    for path in sorted([*root.glob("*.yaml"), *root.glob("texts/*")]):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _write_atomically(path: Path, chunks: list[bytes]) -> None:
    """Write `chunks` to `path` atomically, then drop the files of earlier fingerprints beside it."""
    if not write_atomically(path, chunks):
        return  # a read-only or full disk: the caller has its result in memory
    for stale in path.parent.glob(f"{path.name.split('-')[0]}-*{path.suffix}"):
        if stale != path:
            stale.unlink(missing_ok=True)


def read_profiles(key: str) -> list[tuple[str, Any]] | None:
    """The raw profile mappings cached under `key` as (file name, mapping) pairs, or None."""
    try:
        data = json.loads((cache_dir() / f"profiles-{key}.json").read_text(encoding="utf-8"))
        if isinstance(data, list) and all(isinstance(item, list) and len(item) == 2 for item in data):
            return [(str(name), raw) for name, raw in data]
    except (OSError, ValueError):
        pass
    return None


def write_profiles(key: str, profiles: list[tuple[str, Any]]) -> None:
    """Cache the raw profile mappings (dates and other YAML scalars as their text)."""
    try:
        text = json.dumps([[name, raw] for name, raw in profiles], default=str)
    except (TypeError, ValueError):
        return
    _write_atomically(cache_dir() / f"profiles-{key}.json", [text.encode("utf-8")])


def holds(key: str, names: tuple[str, ...]) -> bool:
    """Whether the disk cache holds the parsed profiles and each structure of `names` under `key`."""
    folder = cache_dir()
    return (folder / f"profiles-{key}.json").is_file() and all((folder / f"{name}-{key}.bin").is_file() for name in names)


def cached(key: str | None, name: str, build: Callable[[], _T], encode: Callable[[_T], list[bytes]],
           decode: Callable[[bytes], _T | None]) -> _T:
    """The structure `name` cached under `key` (a knowledge base's fingerprint) when the disk holds it, else built and cached.

    `decode` gives None, or raises, for bytes that are not a valid copy: the structure is then built anew.
    """
    if not key:
        return build()
    path = cache_dir() / f"{name}-{key}.bin"
    try:
        value = decode(path.read_bytes())
        if value is not None:
            return value
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        pass  # missing or corrupt: rebuilt below and written anew
    value = build()
    _write_atomically(path, encode(value))
    return value
