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
from array import array
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.cachedir import cache_root, write_atomically

if TYPE_CHECKING:
    from auditor.identify.index import Index
    from auditor.identify.kb import KnowledgeBase

_FORMAT = "1"
_INDEX_MAGIC = b"audit-model licence index\n"
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


def _encode_index(index: Index) -> list[bytes]:
    ids = array("i")
    lengths, sizes, profiles = [], [], []
    for reference in index.references:
        ids.extend(reference.ids)
        lengths.append(len(reference.ids))
        sizes.append(reference.size)
        profiles.append(reference.profile.id)
    keys = array("q", index.postings.keys())
    groups = array("i", index.postings.values())
    header = {
        "profiles": profiles, "lengths": lengths, "sizes": sizes, "words": list(index.words),
        "groups": [list(g) for g in index.groups], "exact": {d: list(n) for d, n in index.exact.items()},
        "postings": len(keys), "verbatim": {d: list(answer) for d, answer in index.verbatim.items()},
    }
    return [_INDEX_MAGIC, json.dumps(header).encode("utf-8") + b"\n", ids.tobytes(), keys.tobytes(), groups.tobytes()]


def _decode_index(data: bytes, kb: KnowledgeBase) -> Index | None:
    from auditor.identify.index import Index, Reference  # noqa: PLC0415 - index imports this module

    if not data.startswith(_INDEX_MAGIC):
        return None
    start = len(_INDEX_MAGIC)
    end = data.index(b"\n", start)
    header = json.loads(data[start:end])
    words = header["words"]
    ids = array("i")
    total = sum(header["lengths"])
    position = end + 1
    ids.frombytes(data[position:position + total * ids.itemsize])
    position += total * ids.itemsize
    keys, groups = array("q"), array("i")
    count = header["postings"]
    keys.frombytes(data[position:position + count * keys.itemsize])
    position += count * keys.itemsize
    groups.frombytes(data[position:position + count * groups.itemsize])
    if len(ids) != total or len(keys) != count or len(groups) != count or position + count * groups.itemsize != len(data):
        return None
    references, offset = [], 0
    for licence_id, length, size in zip(header["profiles"], header["lengths"], header["sizes"], strict=False):
        profile = kb.get(licence_id)
        if profile is None:
            return None
        references.append(Reference(profile, ids[offset:offset + length], size, words))
        offset += length
    return Index(references, words, dict(zip(keys, groups, strict=True)), tuple(tuple(g) for g in header["groups"]),
                 {d: tuple(n) for d, n in header["exact"].items()}, {d: tuple(a) for d, a in header["verbatim"].items()})


def cached_index(kb: KnowledgeBase, build: Callable[[KnowledgeBase], Index]) -> Index:
    """The index of `kb` from the disk cache when it holds this KB's, else built (and cached)."""
    key = getattr(kb, "fingerprint", None)
    if not key:
        return build(kb)
    path = cache_dir() / f"index-{key}.bin"
    try:
        index = _decode_index(path.read_bytes(), kb)
        if index is not None:
            return index
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        pass  # missing or corrupt: rebuilt below and written anew
    index = build(kb)
    _write_atomically(path, _encode_index(index))
    return index
