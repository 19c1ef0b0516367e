"""The matcher's index over the knowledge base's reference texts, built once per KB.

Each reference text is normalised (normalise.py) into tokens, the tokens numbered through
one vocabulary, and the numbers cut into overlapping word n-grams (shingles). An inverted
index maps every shingle to the references holding it, so scoring a file only touches the
references that share text with it; a hash of each whole normalised text gives an exact
fast path. A shingle is the hash of a tuple of word numbers: Python hashes integers and
tuples of integers the same way in every process, so the index can be kept on disk
(diskcache.py) and a file's shingles computed later still meet it. A reference's table of
shingle positions is only built when a file shares text with it.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Callable, Iterable, Sequence

from auditor.identify.kb import KnowledgeBase, LicenceProfile
from auditor.identify.normalise import Normalised, normalise

SHINGLE = 5  # words per shingle: long enough to be specific, short enough to survive small edits
_INDEX_MAGIC = b"audit-model licence index\n"
_UNKNOWN_WORD = -1  # a word no reference text has: no shingle holding it is in the index


def shingle_hashes(ids: Sequence[int]) -> list[int]:
    """The shingles of a sequence of word numbers, in order (one per position)."""
    n = SHINGLE
    return list(map(hash, zip(*(ids[i:] for i in range(n)), strict=False))) if len(ids) >= n else []


class Reference:
    """One profile's reference text in matchable form; its shingle table is built on first use."""

    __slots__ = ("profile", "ids", "size", "_words", "_tokens", "_positions")

    def __init__(self, profile: LicenceProfile, ids: Sequence[int], size: int, words: Sequence[str]) -> None:
        self.profile = profile
        self.ids = ids  # word numbers of the normalised text
        self.size = size  # distinct shingles
        self._words = words
        self._tokens: tuple[str, ...] | None = None
        self._positions: dict[int, list[int]] | None = None

    @property
    def tokens(self) -> tuple[str, ...]:
        """The reference text's words, in order, built on first use."""
        if self._tokens is None:
            words = self._words
            self._tokens = tuple(words[i] for i in self.ids)
        return self._tokens

    @property
    def positions(self) -> dict[int, list[int]]:
        """shingle -> its positions in the reference: keeps regions in order, finds removed text."""
        if self._positions is None:
            positions: dict[int, list[int]] = {}
            for position, shingle in enumerate(shingle_hashes(self.ids)):
                positions.setdefault(shingle, []).append(position)
            self._positions = positions
        return self._positions


class Index:
    """The references, the vocabulary their words are numbered by, the inverted index and the exact digests."""

    def __init__(self, references: Sequence[Reference], words: Sequence[str], postings: dict[int, int],
                 groups: Sequence[tuple[int, ...]], exact: dict[str, tuple[int, ...]],
                 verbatim: dict[str, tuple[int, int, int]] | None = None) -> None:
        self.references = tuple(references)
        # raw_digest of a reference text -> (reference number, first line, last line): its answer, known in advance
        self.verbatim = verbatim or {}
        self.words = words
        self.vocabulary = {word: number for number, word in enumerate(words)}
        self.postings = postings  # shingle -> number of its group of references in `groups`
        self.groups = groups
        self.exact = exact  # digest of the normalised text -> reference numbers

    def shingles_of(self, tokens: Iterable[str]) -> list[int]:
        """A file's shingles, comparable with the references'."""
        vocabulary = self.vocabulary
        return shingle_hashes([vocabulary.get(t, _UNKNOWN_WORD) for t in tokens])


def digest(tokens: tuple[str, ...] | list[str]) -> str:
    """A stable digest of a token sequence (keys exact-text look-ups)."""
    return hashlib.sha1(" ".join(tokens).encode("utf-8")).hexdigest()


def raw_digest(text: str) -> str:
    """The digest of a text exactly as written: a verbatim copy of a reference text skips normalisation."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


_Answers = Callable[["KnowledgeBase", "Index", Sequence[Normalised]], dict[str, tuple[int, int, int]]]


def build_index(kb: KnowledgeBase, verbatim_answers: _Answers | None = None) -> Index:
    """The index of every reference text of `kb`, from the texts; `verbatim_answers` (the engine's) fills its verbatim answers."""
    vocabulary: dict[str, int] = {}
    texts: list[tuple[LicenceProfile, array, tuple[str, ...]]] = []
    normalised: list[Normalised] = []  # of each reference, kept for the verbatim answers
    for profile in kb:
        text = profile.reference_text()
        if not text:
            continue
        norm = normalise(text)
        tokens = norm.tokens
        if len(tokens) < SHINGLE:
            continue
        ids = array("i", [vocabulary.setdefault(t, len(vocabulary)) for t in tokens])
        texts.append((profile, ids, tokens))
        normalised.append(norm)
    words = list(vocabulary)
    holders: dict[int, list[int]] = {}
    references: list[Reference] = []
    exact: dict[str, list[int]] = {}
    for number, (profile, ids, tokens) in enumerate(texts):
        distinct = set(shingle_hashes(ids))
        for shingle in distinct:
            holders.setdefault(shingle, []).append(number)
        references.append(Reference(profile, ids, len(distinct), words))
        exact.setdefault(digest(tokens), []).append(number)
    group_numbers: dict[tuple[int, ...], int] = {}
    postings = {shingle: group_numbers.setdefault(tuple(numbers), len(group_numbers)) for shingle, numbers in holders.items()}
    index = Index(references, words, postings, tuple(group_numbers), {d: tuple(n) for d, n in exact.items()})
    if verbatim_answers is not None:
        index.verbatim = verbatim_answers(kb, index, normalised)
    return index


def encode_index(index: Index) -> list[bytes]:
    """The index as bytes for the disk cache: a JSON header, then raw integer arrays (nothing to unpickle)."""
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


def decode_index(data: bytes, kb: KnowledgeBase) -> Index | None:
    """The index `encode_index` wrote, over the profiles of `kb`; None when the bytes are not one."""
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
