"""Short notices and references: text that applies or points to a licence without holding it.

Three rules, all over the marker form of the lines no licence text was found in:
- official licence headers (rules.yaml `notices`, e.g. Apache's "Licensed under the Apache
  License, Version 2.0 ... you may not use this file except in compliance") and
  `SPDX-License-Identifier:` lines apply that licence (kind licence, method phrase);
- a cue such as "licensed under", "subject to", "refer to" followed by a name the knowledge
  base knows is a reference to that licence (kind reference);
- a short file that only points to a link or a LICENSE file is a reference too, named when
  the link is one of a profile's `urls`.
"""

from __future__ import annotations

import bisect
import re

from auditor.identify.kb import KnowledgeBase, LicenceProfile
from auditor.identify.names import split_expression
from auditor.identify.normalise import Normalised
from auditor.identify.rules import rules

UNKNOWN_REFERENCE = "unknown-reference"  # the id of a pointer to a licence the KB cannot name
_SPDX_TAG = re.compile(r"spdx-license-identifier: *([^\n*]+)")
_URL = re.compile(r"https?://[^\s)\]>\"']+|\bwww\.[^\s)\]>\"']+")
_MAX_NAME_WORDS = 10
PHRASE_CHARS = 100_000  # phrase rules read this much unmatched text: notices and references sit near the top


class FreeText:
    """The marker form of some lines joined into one string, with a way back to line numbers."""

    def __init__(self, norm: Normalised, lines: list[int]):
        self.lines, self.texts, self.starts = [], [], []
        offset = 0
        for n in lines:
            text = norm.marker_lines[n - 1]
            if not text:
                continue
            if offset + len(text) > PHRASE_CHARS:
                break
            self.lines.append(n)
            self.texts.append(text)
            self.starts.append(offset)
            offset += len(text) + 1
        self.text = " ".join(self.texts)

    def line(self, offset: int) -> int:
        """The line number of a character offset into the joined text."""
        return self.lines[max(0, bisect.bisect_right(self.starts, offset) - 1)]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The (first, last) lines the characters [start, end) lie on."""
        return self.line(start), self.line(max(start, end - 1))


def url_key(url: str) -> str:
    """A URL in the form profiles are looked up by: no scheme, no www., no trailing punctuation."""
    url = re.sub(r"^https?://", "", url.strip().lower())
    url = re.sub(r"^www\.", "", url)
    return url.rstrip("/.,;:")


def profile_for_url(url: str, kb: KnowledgeBase) -> LicenceProfile | None:
    """The profile one of whose URLs `url` is."""
    return kb.derived("by_url", _by_url).get(url_key(url))


def _by_url(kb: KnowledgeBase) -> dict[str, LicenceProfile]:
    """Profiles by the normalised form of each of their URLs."""
    return {url_key(u): p for p in kb for u in p.urls}


def notices(free: FreeText, kb: KnowledgeBase) -> list[tuple[LicenceProfile, tuple[int, int], float]]:
    """Official headers and SPDX tags: (profile, span, confidence)."""
    found = []
    for licence_id, pattern in rules().notices:
        match = pattern.search(free.text)
        profile = kb.lookup(licence_id) if match else None
        if profile is not None and match is not None:
            found.append((profile, free.span(match.start(), match.end()), 0.9))
    for line, text in zip(free.lines, free.texts, strict=True):
        match = _SPDX_TAG.search(text) if "spdx-license-identifier" in text else None
        for name in split_expression(match.group(1)) if match else ():
            profile = kb.lookup(name.strip(" \"'*/#-"))
            if profile is not None:
                found.append((profile, (line, line), 0.95))
    return found


def _name_after(window: str, kb: KnowledgeBase) -> LicenceProfile | None:
    """The longest run of words at the start of `window` that names a known licence."""
    window = re.split(r"[.;](?:\s|$)|\(|\n", window, maxsplit=1)[0]
    words = window.split()
    for count in range(min(len(words), _MAX_NAME_WORDS), 0, -1):
        candidate = " ".join(words[:count]).strip(" ,:;\"'")
        profile = kb.lookup(candidate) if candidate else None
        if profile is not None:
            return profile
    return None


def references(free: FreeText, kb: KnowledgeBase) -> list[tuple[LicenceProfile, tuple[int, int]]]:
    """Named references: a cue, then a licence's name or a link to it."""
    table = rules()
    found = []
    for cue in table.reference_cues.finditer(free.text):
        window = free.text[cue.end():cue.end() + table.name_window]
        profile = _name_after(window, kb)
        if profile is None:
            url = _URL.search(window)
            profile = profile_for_url(url.group(0), kb) if url else None
        if profile is not None:
            found.append((profile, free.span(cue.start(), cue.end() + len(window.split(".")[0]))))
    return found


def pointer(free: FreeText, kb: KnowledgeBase) -> tuple[LicenceProfile | None, str, tuple[int, int]] | None:
    """For a short text that only points elsewhere: (profile or None, what it points to, span)."""
    table = rules()
    if not free.text or not table.pointer_cues.search(free.text):
        return None
    target = table.pointer_targets.search(free.text)
    if target is None:
        return None
    url = _URL.search(free.text)
    profile = profile_for_url(url.group(0), kb) if url else None
    return profile, (url.group(0) if url else target.group(0)), (free.lines[0], free.lines[-1])
