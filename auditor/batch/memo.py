"""Identification done once per distinct text across a census, and kept for the next one.

On the Hub the same licence texts, notices and policies sit in thousands of repos (and the
texts themselves are read once per blob: auditor.sources.blobs). `IdentificationMemo` keeps
what the licence identifier found in a text, keyed by a hash of the text (so local files share
it too), the path it was found at, the identifier, the auditor's version and the knowledge
base's fingerprint. Entries are small JSON files under the cache directory, written atomically;
one that cannot be read is a miss, and nothing is ever unpickled. `KeptAnswers` is that store,
which the weight-scan memo (auditor.batch.scan_memo) uses too.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from auditor import __version__
from auditor.bounded import load_json
from auditor.cachedir import write_atomically
from auditor.model import LicenceFact, LicenceKind, LicenceMatch, MatchMethod

if TYPE_CHECKING:
    from auditor.identify import KnowledgeBase, LicenceIdentifier

_MEMORY_ENTRIES = 4096  # answers kept in memory; past that the disk answers
_FORMAT = "1"
_ENTRY_DEPTH = 64  # an entry nests a few levels deep; the bound only stops a corrupted one
_T = TypeVar("_T")


class KeptAnswers(Generic[_T]):
    """Answers by key (a hex digest): in memory, and as JSON files under `directory` (None: in memory only).

    An answer goes to the disk only when its JSON gives it back exactly; an entry that cannot be
    read or decoded is a miss. Shared by the threads of a run."""

    def __init__(self, directory: Path | None, encode: Callable[[_T], Any], decode: Callable[[Any], _T | None],
                 in_memory: int = _MEMORY_ENTRIES):
        self.directory = directory
        self._in_memory = max(1, in_memory)
        self.hits = 0
        self.misses = 0
        self._encode = encode
        self._decode = decode
        self._memory: dict[str, _T] = {}
        self._lock = threading.Lock()

    def recall(self, key: str, persistent: bool = True) -> _T | None:
        """The answer kept under `key` (looked for on the disk too when `persistent`), else None."""
        with self._lock:
            found = self._memory.get(key)
        if found is None and persistent and self.directory is not None:
            try:
                found = self._decode(load_json((self.directory / key[:2] / f"{key}.json").read_bytes(), max_depth=_ENTRY_DEPTH))
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

    def keep(self, key: str, answer: _T, persistent: bool = True) -> None:
        """Keep `answer` under `key`: in memory, and on the disk when `persistent`."""
        self._remember(key, answer)
        if not persistent or self.directory is None:
            return
        try:
            encoded = json.dumps(self._encode(answer), ensure_ascii=False)
        except (TypeError, ValueError):
            return
        if self._decode(json.loads(encoded)) == answer:
            write_atomically(self.directory / key[:2] / f"{key}.json", [encoded.encode("utf-8")])

    def _remember(self, key: str, answer: _T) -> None:
        with self._lock:
            if len(self._memory) >= self._in_memory:
                self._memory.clear()  # a census's distinct files are few; a flood of unique ones only costs disk reads
            self._memory[key] = answer


class CountedMemo:
    """A memo over its KeptAnswers, saying how often it answered (hits) and how often not (misses)."""

    _kept: KeptAnswers[Any]

    @property
    def hits(self) -> int:
        """Look-ups the memo answered."""
        return self._kept.hits

    @property
    def misses(self) -> int:
        """Look-ups it could not answer."""
        return self._kept.misses


class IdentificationMemo(CountedMemo):
    """A licence identifier's answers by (text, path, identifier, knowledge base), computed once."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self._kept: KeptAnswers[tuple[LicenceMatch, ...]] = KeptAnswers(directory, _encode_all, _decode)

    def identifier(self, identify: LicenceIdentifier) -> LicenceIdentifier:
        """`identify`, answering from the memo when the same text was identified at the same path before."""
        engine = f"{getattr(identify, '__module__', '')}.{getattr(identify, '__qualname__', repr(identify))}"

        def memoised(text: str, source: str, kb: KnowledgeBase, /) -> Iterable[LicenceMatch]:
            if kb.is_extended:  # it holds one target's own read licences: its answers are that target's
                return identify(text, source, kb)
            fingerprint = getattr(kb, "fingerprint", None) or f"memory-{id(kb)}"
            key = hashlib.sha256("\0".join((_FORMAT, __version__, engine, fingerprint, source, text)).encode(
                "utf-8", "surrogatepass")).hexdigest()
            persistent = bool(getattr(kb, "fingerprint", None))
            found = self._kept.recall(key, persistent)
            if found is not None:
                return found
            matches = tuple(identify(text, source, kb))
            self._kept.keep(key, matches, persistent)
            return matches

        return memoised


def _encode_all(matches: tuple[LicenceMatch, ...]) -> list[dict[str, Any]]:
    return [_encode(m) for m in matches]


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
