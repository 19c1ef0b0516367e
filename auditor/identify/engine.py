"""identify_text: every licence, policy and reference in one file's text, cheapest test first.

1. Guards: binary data, undecodable or noisy text, and empty text give () at once.
2. Exact: the whole normalised file equals a reference text (confidence 1.0).
3. Similarity: regions of known texts (similarity.py), each settled to the right version by
   markers (markers.py) and checked for alterations (changes.py).
   A region under a title that names another licence, product or organisation than the
   profile (a research licence adapted from another lab's text) is not that licence.
4. In the lines no region covers: a licence the knowledge base knows without a text, when
   the file's own title names it and the profile's markers are in the body below (identified
   by its title and clauses: it may govern); marker titles of licences without a text, official
   notices and SPDX tags, references ("licensed under X"), and pointers in short files
   (phrases.py).
5. When no licence was found at all, a licence text is still named from its own title and
   read by its clauses (unknown.py).
Matches come back in the order they appear in the file, one per licence id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from auditor.identify import diskcache
from auditor.identify.changes import describe
from auditor.identify.index import SHINGLE, Index, build_index, decode_index, digest, encode_index, raw_digest
from auditor.identify.kb import KnowledgeBase, LicenceProfile, default_root
from auditor.identify.markers import marker_count, settle, tables, title_hits
from auditor.identify.names import match_from_profile
from auditor.identify.normalise import Normalised, looks_like_text, normalise
from auditor.identify.phrases import UNKNOWN_REFERENCE, FreeText, notices, pointer, references
from auditor.identify.rules import rules
from auditor.identify.similarity import Region, find_regions
from auditor.identify.unknown import (
    first_lines,
    heading_lines,
    licence_named,
    names_another_licence,
    read_unknown,
    title_above,
    title_at,
)
from auditor.model import LicenceKind, LicenceMatch, MatchMethod

_SETTLED_CONFIDENCE = 0.85  # family found by similarity, version by markers
_OWN_TITLE_CONFIDENCE = 0.85  # a licence without a text, named by the file's own title, its markers in the body
_TITLE_CONFIDENCE = 0.7
_REFERENCE_CONFIDENCE = 0.6
_POINTER_CONFIDENCE = 0.3


def _region_match(region: Region, exact: bool, norm: Normalised, source: str, kb: KnowledgeBase, claimed: set[int],
                  titled: LicenceProfile | None = None) -> LicenceMatch:
    """The match of one region; `titled` is the known licence the text's own title names, when not the region's."""
    span = (norm.token_lines[region.start], norm.token_lines[region.end])
    recall = 1.0 if exact else region.recall
    profile = titled or settle(region.reference.profile, norm, span[0], span[1], recall, kb)
    if profile is not region.reference.profile:
        # another version than the text that matched: its own text (if any) was not closer
        return match_from_profile(profile, source, max(_SETTLED_CONFIDENCE, min(recall, 0.95)), MatchMethod.SIMILARITY, span)
    if exact:
        return match_from_profile(profile, source, 1.0, MatchMethod.EXACT, span)
    changes = describe(region, norm.tokens, claimed - region.covered)
    if region.complete:
        confidence = 1.0
    else:
        size = region.end - region.start + 1
        confidence = min(0.99, 2 * len(region.matched) / (region.reference.size + max(1, size - SHINGLE + 1)))
    return match_from_profile(profile, source, confidence, MatchMethod.SIMILARITY, span, modified=changes is not None, changes=changes)


def _mislabelled(match: LicenceMatch, title: str) -> LicenceMatch:
    """A licence text under a title that names another known licence: the text's licence, modified, saying so."""
    said = f"titled “{title}”, which names another licence: the text is {match.name}'s"
    return replace(match, modified=True, changes=f"{said}; {match.changes}" if match.changes else said)


def _free_lines(norm: Normalised, spans: list[tuple[int, int]]) -> list[int]:
    taken: set[int] = set()
    for first, last in spans:
        taken.update(range(first, last + 1))
    return [n for n in range(1, len(norm.marker_lines) + 1) if n not in taken]


def _blocks_end(line: int, free: list[int]) -> int:
    """The last line of the run of free lines that starts at `line`."""
    end = line
    position = free.index(line)
    for n in free[position + 1:]:
        if n != end + 1:
            break
        end = n
    return end


def identify_normalised(norm: Normalised, source: str, kb: KnowledgeBase, index: Index | None = None) -> list[LicenceMatch]:
    """Every licence found in a normalised text, in the order found (before deduplication)."""
    index = index or index_for(kb)
    matches: list[LicenceMatch] = []
    exact = index.exact.get(digest(norm.tokens))
    if exact:
        reference = index.references[exact[0]]
        n = len(norm.tokens)
        # the whole text is the reference: its shingle table is not needed (and not built)
        regions = [Region(reference, 0, n - 1, set(range(n)), set())]
    else:
        regions = find_regions(norm.tokens, index)
    regions, titled, derived_from, adapted_lines = _own_titles_respected(regions, norm, kb)
    claimed: set[int] = set()
    for region in regions:
        claimed |= region.covered
    for region in regions:
        name = titled.get(id(region))
        if isinstance(name, str):  # titled as another known licence over this one's text: the text governs
            matches.append(_mislabelled(_region_match(region, bool(exact), norm, source, kb, claimed), name))
        else:
            matches.append(_region_match(region, bool(exact), norm, source, kb, claimed, name))

    free_lines = _free_lines(norm, [m.span for m in matches if m.span is not None])
    if not free_lines:
        return matches
    own = _own_title_match(norm, source, kb, [n for n in free_lines if n not in adapted_lines])
    own = own or _untitled_match(norm, source, kb, [n for n in free_lines if n not in adapted_lines])
    if own is not None:
        matches.append(own)
    _phrase_matches(norm, source, kb, [n for n in free_lines if n not in adapted_lines], matches)
    matches[:] = _component_notices(norm, free_lines, matches, kb)
    if not any(m.kind is not LicenceKind.REFERENCE for m in matches):
        read = read_unknown(norm, free_lines, source, derived_from)
        if read is not None:
            matches.append(read)
    else:
        matches.extend(_following_licences(norm, source, [n for n in free_lines if n not in adapted_lines], matches))
    return matches


def _component_notices(norm: Normalised, free_lines: list[int], matches: list[LicenceMatch], kb: KnowledgeBase) -> list[LicenceMatch]:
    """A text titled as its own licence that quotes another licence's notice for a component ("the
    tokenizer is derived from Foo: Licensed under the Apache License, Version 2.0"): the notice
    speaks for that component, so it is a reference, and the text is read as the licence it is titled."""
    titled = title_at(norm, free_lines)
    if titled is None or any(m.method not in (MatchMethod.PHRASE, MatchMethod.REFERENCE) for m in matches):
        return matches
    line, title = titled
    return [replace(m, kind=LicenceKind.REFERENCE, method=MatchMethod.REFERENCE)
            if m.kind is LicenceKind.LICENCE and m.span is not None and m.span[0] > line
            and names_another_licence(title, kb.known(m.id), kb) else m for m in matches]


def _following_licences(norm: Normalised, source: str, free_lines: list[int], matches: list[LicenceMatch]) -> list[LicenceMatch]:
    """Licences the knowledge base does not know that follow another licence in the same file, each
    under its own title: read as licences of their own, not as terms added to the one before."""
    taken = {n for m in matches if m.span is not None and m.kind is not LicenceKind.REFERENCE for n in range(m.span[0], m.span[1] + 1)}
    found = []
    for run in _runs(free_lines):
        if not run or any(n in taken for n in run) or not any(m.span and m.span[1] < run[0] for m in matches):
            continue
        read = read_unknown(norm, run, source)
        if read is not None and title_at(norm, run) is not None:
            found.append(read)
    return found


def _runs(lines: list[int]) -> list[list[int]]:
    """`lines` cut where they are not consecutive."""
    runs: list[list[int]] = []
    for n in lines:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def _own_titles_respected(regions: list[Region], norm: Normalised, kb: KnowledgeBase) -> tuple[list[Region], dict, str | None, set[int]]:
    """The regions whose text is not titled as another licence, and what the title of those titled as
    another known licence says (by id of region): the profile it names when the knowledge base knows
    that licence only by name, else the title itself (a mislabelled title over this text); for a text
    titled as a licence the knowledge base does not know, the name of the licence its text came from,
    and its lines.

    A region that opens as its reference does keeps the reference's own title: a heading above
    it ("LICENSE FOR component 1", "# Foo model licence") only introduces it.
    """
    kept: list[Region] = []
    titled: dict[int, LicenceProfile | str] = {}
    derived_from = None
    adapted_lines: set[int] = set()
    for region in regions:
        if norm.tokens[region.start:region.start + SHINGLE] == region.reference.tokens[:SHINGLE]:
            kept.append(region)
            continue
        first, last = norm.token_lines[region.start], norm.token_lines[region.end]
        # a title whose last words happen to be the reference's first words starts the region on its own line
        title = title_above(norm, first, inclusive=region.start > 0 and norm.token_lines[region.start - 1] == first)
        if title and names_another_licence(title, region.reference.profile, kb):
            named = licence_named(title, kb)
            if named is not None and named.text_path is None:
                # a licence the knowledge base knows only by name, written from this text; one with a
                # text of its own would have matched it, so a title naming it over this body is no proof
                titled[id(region)] = named
                kept.append(region)
                continue
            if named is not None:
                # a licence with a text of its own, which this text is not: the title is mislabelled, the text governs
                titled[id(region)] = title
                kept.append(region)
                continue
            derived_from = derived_from or region.reference.profile.name
            adapted_lines.update(range(first, last + 1))
            continue
        kept.append(region)
    return kept, titled, derived_from, adapted_lines


def _own_title_match(norm: Normalised, source: str, kb: KnowledgeBase, free_lines: list[int]) -> LicenceMatch | None:
    """The licence a text is, when its own title (among its first lines) names a profile known without
    a text, and that profile's markers are in the body below the title: evidence enough to govern.

    A bare mention, a pointer or a quoted title is no title line; a profile with a reference text
    would have matched by similarity, so a title naming one over another body proves nothing.
    """
    for line, title, licence_title in heading_lines(norm, free_lines):
        profile = kb.lookup(title) or (licence_named(title, kb) if licence_title else None)
        if profile is None or profile.text_path is not None or not profile.compiled_markers:
            continue
        body = [n for n in free_lines if n > line]
        if body and marker_count(profile, norm.marker_text(body[0], body[-1])):
            return match_from_profile(profile, source, _OWN_TITLE_CONFIDENCE, MatchMethod.TITLE, (line, body[-1]))
    return None


def _untitled_match(norm: Normalised, source: str, kb: KnowledgeBase, free_lines: list[int]) -> LicenceMatch | None:
    """The licence a text without a title line is (one opening with a disclaimer or a preamble): a profile
    known without a text whose markers are in the text's opening lines, with at least two of them in all,
    in a text too long to be a notice of it. Evidence enough to govern, as its own title would be."""
    opening = [n for n, _ in first_lines(norm, free_lines)]
    if not opening or len(FreeText(norm, free_lines).text.split()) <= rules().short_words:
        return None
    head, whole = norm.marker_text(opening[0], opening[-1]), norm.marker_text(free_lines[0], free_lines[-1])
    for profile in tables(kb).marked:
        if (profile.text_path is None and profile.kind is LicenceKind.LICENCE
                and marker_count(profile, head) and marker_count(profile, whole) >= 2):
            return match_from_profile(profile, source, _OWN_TITLE_CONFIDENCE, MatchMethod.TITLE, (opening[0], free_lines[-1]))
    return None


def _phrase_matches(norm: Normalised, source: str, kb: KnowledgeBase, free_lines: list[int], matches: list[LicenceMatch]) -> None:
    """Titles, notices, references and pointers in the lines no licence text covers, appended to `matches`."""
    if not free_lines:
        return
    free = FreeText(norm, free_lines)
    free_words = len(free.text.split())
    short = free_words <= rules().short_words and not matches
    pointed = pointer(free, kb) if short else None
    referred = references(free, kb)
    for profile, line in title_hits(norm, free.lines, kb, anywhere=short):
        if pointed is not None or (short and any(p is profile for p, _ in referred)):
            matches.append(match_from_profile(profile, source, _REFERENCE_CONFIDENCE, MatchMethod.REFERENCE, (line, line), LicenceKind.REFERENCE))
        else:
            matches.append(match_from_profile(profile, source, _TITLE_CONFIDENCE, MatchMethod.PHRASE, (line, _blocks_end(line, free_lines))))
    for profile, span, confidence in notices(free, kb):
        matches.append(match_from_profile(profile, source, confidence, MatchMethod.PHRASE, span, LicenceKind.LICENCE))
    for profile, span in referred:
        matches.append(match_from_profile(profile, source, _REFERENCE_CONFIDENCE, MatchMethod.REFERENCE, span, LicenceKind.REFERENCE))
    if pointed is not None and not matches:
        pointed_profile, target, span = pointed
        if pointed_profile is not None:
            matches.append(match_from_profile(pointed_profile, source, _REFERENCE_CONFIDENCE, MatchMethod.REFERENCE, span, LicenceKind.REFERENCE))
        else:
            matches.append(LicenceMatch(
                id=UNKNOWN_REFERENCE, name=f"licence kept elsewhere ({target})", spdx=None, kind=LicenceKind.REFERENCE,
                source=source, confidence=_POINTER_CONFIDENCE, method=MatchMethod.REFERENCE, span=span,
            ))


def _dedupe(matches: list[LicenceMatch]) -> tuple[LicenceMatch, ...]:
    """One match per licence id: the first found (texts before titles before references)."""
    seen: dict[str, LicenceMatch] = {}
    for match in matches:
        seen.setdefault(match.id, match)
    return tuple(sorted(seen.values(), key=lambda m: (m.span or (0, 0))[0]))


def identify_text(text: str, source: str, kb: KnowledgeBase) -> tuple[LicenceMatch, ...]:
    """All licences, policies and references found in one file's text; () when there is none."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            return ()
    if not isinstance(text, str) or not looks_like_text(text):
        return ()
    verbatim = index_for(kb).verbatim.get(raw_digest(text))
    if verbatim is not None:  # a reference text byte for byte: its answer was worked out when the index was built
        number, first, last = verbatim
        return (match_from_profile(index_for(kb).references[number].profile, source, 1.0, MatchMethod.EXACT, (first, last)),)
    norm = normalise(text)
    if not norm.tokens and not any(norm.marker_lines):  # a text in Chinese alone has no tokens, but titles
        return ()
    return _dedupe(identify_normalised(norm, source, kb))


def index_for(kb: KnowledgeBase) -> Index:
    """The matcher's index of `kb`, built (or read from the disk cache) on first use and kept with the KB."""
    return kb.derived("licence_index", _cached_index)


def index_on_disk() -> bool:
    """Whether the disk cache holds the shipped knowledge base's profiles and index (a process then loads them, not builds them)."""
    try:
        return diskcache.holds(diskcache.fingerprint(default_root()), ("index",))
    except OSError:
        return False


def _cached_index(kb: KnowledgeBase) -> Index:
    return diskcache.cached(kb.fingerprint, "index", lambda: build_index(kb, verbatim_answers), encode_index,
                            lambda data: decode_index(data, kb))


def verbatim_answers(kb: KnowledgeBase, index: Index, normalised: Sequence[Normalised]) -> dict[str, tuple[int, int, int]]:
    """raw_digest of each reference text -> (reference number, first line, last line), for the texts
    whose full identification is exactly their own licence, found whole: only those are answered by hash.
    `normalised` holds each reference's normalised text, in the order of `index.references`."""
    answers = {}
    for number, (reference, norm) in enumerate(zip(index.references, normalised, strict=True)):
        text = reference.profile.reference_text() or ""
        found = identify_normalised(norm, "", kb, index)
        if len(found) == 1 and found[0].span is not None and (found[0].id, found[0].method, found[0].confidence, found[0].modified) == (
                reference.profile.id, MatchMethod.EXACT, 1.0, False):
            answers[raw_digest(text)] = (number, *found[0].span)
    return answers
