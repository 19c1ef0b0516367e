"""Profile markers: settle a licence's version, and find licences by their title alone.

Versions of one licence (Llama 3 / 3.1 / 3.2, Gemma 2024 / 2025, CC 3.0 / 4.0) share most
of their words, and some versions have no reference text at all (Llama 3, the Llama
acceptable-use policies, Tencent Hunyuan). A region matched to one version is handed to a
sibling of its `family` (same kind) when the sibling's markers are in the region and its
own are not. When the matched profile's markers are absent, a profile whose markers are in
the region takes it over (a policy written after the Llama one, for example).
Outside any matched region, a marker on a title line is evidence by itself.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from auditor.identify.kb import KnowledgeBase, LicenceProfile
from auditor.identify.normalise import Normalised

_TITLE_WORDS = 16  # a line of at most this many words can be a title
_TITLE_LOOKBACK = 3  # titles sit just above the text they name


@dataclass(frozen=True)
class MarkerTables:
    """The profiles that carry version markers, and the profiles of each licence family."""

    marked: tuple[LicenceProfile, ...]  # profiles with markers
    families: dict  # family -> profiles


def tables(kb: KnowledgeBase) -> MarkerTables:
    """The knowledge base's marker tables, built once per knowledge base."""
    return kb.derived("marker_tables", _build_tables)


def _build_tables(kb: KnowledgeBase) -> MarkerTables:
    families: dict[str, list[LicenceProfile]] = {}
    for profile in kb:
        if profile.family:
            families.setdefault(profile.family, []).append(profile)
    return MarkerTables(tuple(p for p in kb if p.compiled_markers), families)


def marker_count(profile: LicenceProfile, text: str) -> int:
    """How many of the profile's version markers `text` holds."""
    return sum(1 for marker in profile.compiled_markers if marker.search(text))


def title_hits(norm: Normalised, lines: Iterable[int], kb: KnowledgeBase, anywhere: bool = False) -> list[tuple[LicenceProfile, int]]:
    """(profile, line) for markers found on title lines among `lines` (any line when `anywhere`)."""
    chosen = [n for n in lines if 1 <= n <= len(norm.marker_lines) and norm.marker_lines[n - 1]]
    if not chosen:
        return []
    texts = [norm.marker_lines[n - 1] for n in chosen]
    if not anywhere:
        keep = [i for i, t in enumerate(texts) if t.count(" ") < _TITLE_WORDS]
        chosen, texts = [chosen[i] for i in keep], [texts[i] for i in keep]
    joined = "\n".join(texts)
    starts, offset = [], 0
    for t in texts:
        starts.append(offset)
        offset += len(t) + 1
    found: list[tuple[LicenceProfile, int]] = []
    for profile in tables(kb).marked:
        for marker in profile.compiled_markers:
            match = marker.search(joined)
            if match:
                line = chosen[_line_at(starts, match.start())]
                found.append((profile, line))
                break
    found.sort(key=lambda item: (item[1], -marker_count(item[0], joined)))
    return found


def _line_at(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset) - 1


def settle(profile: LicenceProfile, norm: Normalised, first_line: int, last_line: int, recall: float, kb: KnowledgeBase) -> LicenceProfile:
    """The profile a region matched to `profile` (lines first..last) really is, by markers."""
    text = norm.marker_text(max(1, first_line - _TITLE_LOOKBACK), last_line)
    if profile.compiled_markers and marker_count(profile, text):
        return profile
    family = tables(kb).families.get(profile.family or "", [])
    siblings = [p for p in family if p is not profile and p.kind is profile.kind and p.compiled_markers]
    scored = [(count, p) for count, p in ((marker_count(p, text), p) for p in siblings) if count]
    if not scored and first_line > 1 + _TITLE_LOOKBACK:
        # a release of a shared licence names itself in the file's head (its release-date line), which may sit
        # further above than a title does when the text's first clauses differ from the reference's
        head = norm.marker_text(1, last_line)
        scored = [(count, p) for count, p in ((marker_count(p, head), p) for p in siblings) if count]
    if scored:
        # most markers first; then a sibling with no text of its own, which similarity could not reach
        scored.sort(key=lambda item: (-item[0], item[1].text_path is not None))
        return scored[0][1]
    if profile.compiled_markers or recall < 0.8:
        # its own markers are missing: another licence's markers inside the text name it better
        others = [(marker_count(p, text), p) for p in tables(kb).marked if p is not profile and p.kind is profile.kind]
        others = [(count, p) for count, p in others if count]
        if others:
            others.sort(key=lambda item: (-item[0], item[1].text_path is not None))
            return others[0][1]
    return profile
