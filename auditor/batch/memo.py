"""Identification done once per distinct text across a census, and kept for the next one.

On the Hub the same licence texts, notices and policies sit in thousands of repos (and the
texts themselves are read once per blob: auditor.sources.blobs). `IdentificationMemo` keeps
what the licence identifier found in a text, keyed by a hash of the text (so local files share
it too), the path it was found at, the identifier, the auditor's version and the knowledge
base's fingerprint. Entries are small JSON files under the cache directory, written atomically;
one that cannot be read is a miss, and nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor import __version__
from auditor.cachedir import write_atomically
from auditor.model import LicenceFact, LicenceKind, LicenceMatch, MatchMethod

if TYPE_CHECKING:
    from auditor.identify import KnowledgeBase, LicenceIdentifier

_MEMORY_ENTRIES = 4096  # identifications kept in memory; past that the disk answers
_FORMAT = "1"


class IdentificationMemo:
    """A licence identifier's answers by (text, path, identifier, knowledge base), computed once."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self.hits = 0
        self.misses = 0
        self._memory: dict[str, tuple[LicenceMatch, ...]] = {}
        self._lock = threading.Lock()

    def identifier(self, identify: LicenceIdentifier) -> LicenceIdentifier:
        """`identify`, answering from the memo when the same text was identified at the same path before."""
        engine = f"{getattr(identify, '__module__', '')}.{getattr(identify, '__qualname__', repr(identify))}"

        def memoised(text: str, source: str, kb: KnowledgeBase, /) -> Iterable[LicenceMatch]:
            if kb.is_extended:  # it holds one target's own read licences: its answers are that target's
                return identify(text, source, kb)
            fingerprint = getattr(kb, "fingerprint", None) or f"memory-{id(kb)}"
            key = hashlib.sha256("\0".join((_FORMAT, __version__, engine, fingerprint, source, text)).encode(
                "utf-8", "surrogatepass")).hexdigest()
            found = self._recall(key, persistent=bool(getattr(kb, "fingerprint", None)))
            if found is not None:
                return found
            matches = tuple(identify(text, source, kb))
            self._keep(key, matches, persistent=bool(getattr(kb, "fingerprint", None)))
            return matches

        return memoised

    def _recall(self, key: str, persistent: bool) -> tuple[LicenceMatch, ...] | None:
        with self._lock:
            found = self._memory.get(key)
        if found is None and persistent and self.directory is not None:
            try:
                found = _decode(json.loads((self.directory / key[:2] / f"{key}.json").read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError, KeyError):
                found = None
            if found is not None:
                self._remember(key, found)
        with self._lock:
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        return found

    def _keep(self, key: str, matches: tuple[LicenceMatch, ...], persistent: bool) -> None:
        self._remember(key, matches)
        if persistent and self.directory is not None:
            encoded = json.dumps([_encode(m) for m in matches], ensure_ascii=False).encode("utf-8")
            write_atomically(self.directory / key[:2] / f"{key}.json", [encoded])

    def _remember(self, key: str, matches: tuple[LicenceMatch, ...]) -> None:
        with self._lock:
            if len(self._memory) >= _MEMORY_ENTRIES:
                self._memory.clear()  # a census's distinct texts are few; a flood of unique ones only costs disk reads
            self._memory[key] = matches


def _encode(match: LicenceMatch) -> dict[str, Any]:
    data = asdict(match)
    data["kind"], data["method"] = match.kind.value, match.method.value
    return data


def _decode(data: Any) -> tuple[LicenceMatch, ...] | None:
    if not isinstance(data, list):
        return None
    matches = []
    for item in data:
        if not isinstance(item, dict):
            return None
        span = item.get("span")
        matches.append(LicenceMatch(**{
            **item,
            "kind": LicenceKind(item["kind"]),
            "method": MatchMethod(item["method"]),
            "span": tuple(span) if isinstance(span, list) and len(span) == 2 else None,
            "facts": tuple(LicenceFact(**fact) for fact in item.get("facts") or ()),
        }))
    return tuple(matches)
