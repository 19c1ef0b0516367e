"""The matcher's index over the knowledge base's reference texts, built once per KB.

Each reference text is normalised (normalise.py) into tokens and cut into overlapping word
n-grams (shingles). An inverted index maps every shingle to the references holding it, so
scoring a file only touches the references that share text with it; a hash of each whole
normalised text gives an exact fast path. Shingles are Python hashes of token tuples: they
are only compared within one process, so the hash seed does not matter. Building the index
for ~120 profiles takes a fraction of a second and happens on the first identification.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from auditor.identify.kb import KnowledgeBase, LicenceProfile
from auditor.identify.normalise import normalise

SHINGLE = 5  # words per shingle: long enough to be specific, short enough to survive small edits


@dataclass(frozen=True)
class Reference:
    """One profile's reference text in matchable form."""

    profile: LicenceProfile
    tokens: tuple[str, ...]
    shingles: frozenset[int]
    positions: dict  # shingle -> positions in the reference: keeps regions in order, finds removed text


@dataclass(frozen=True)
class Index:
    references: tuple[Reference, ...]
    postings: dict  # shingle -> tuple of reference numbers
    exact: dict  # digest of the normalised text -> tuple of reference numbers


def shingles_of(tokens: tuple[str, ...] | list[str]) -> list[int]:
    n = SHINGLE
    return [hash(tuple(tokens[i:i + n])) for i in range(len(tokens) - n + 1)]


def digest(tokens: tuple[str, ...] | list[str]) -> str:
    return hashlib.sha1(" ".join(tokens).encode("utf-8")).hexdigest()


def build_index(kb: KnowledgeBase) -> Index:
    references: list[Reference] = []
    postings: dict[int, list[int]] = {}
    exact: dict[str, list[int]] = {}
    for profile in kb:
        text = profile.reference_text()
        if not text:
            continue
        tokens = normalise(text).tokens
        if len(tokens) < SHINGLE:
            continue
        number = len(references)
        positions: dict[int, list[int]] = {}
        for position, shingle in enumerate(shingles_of(tokens)):
            if shingle not in positions:
                positions[shingle] = []
                postings.setdefault(shingle, []).append(number)
            positions[shingle].append(position)
        references.append(Reference(profile, tokens, frozenset(positions), positions))
        exact.setdefault(digest(tokens), []).append(number)
    return Index(
        references=tuple(references),
        postings=postings,
        exact=exact,
    )


def index_for(kb: KnowledgeBase) -> Index:
    """The index of `kb`, built on first use and kept with the KB."""
    index = kb.cache.get("index")
    if index is None:
        index = kb.cache["index"] = build_index(kb)
    return index
