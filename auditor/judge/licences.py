"""Decide which licence governs the weights and which the code, from every licence match found.

A licence file in the repository outweighs the card's `license:` field; when the two
disagree the release is flagged as relabelled and the stricter of the two decides, because
a user relying on the milder claim is the one who gets hurt. A licence text the knowledge
base does not know is read for tell-tale clauses (terms.yaml) rather than given up on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from auditor.findings import finding
from auditor.identify.unknown import read_text_facts
from auditor.judge.scopes import card_code_scopes, file_scopes
from auditor.judge.tables import rule_table
from auditor.model import Finding, LicenceKind, LicenceMatch, MatchMethod

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase, LicenceProfile


class TermsLevel(str, Enum):
    """How open a component's terms are; order matters (see STRICTNESS)."""

    OPEN = "open"
    RESTRICTED = "restricted"
    NON_COMMERCIAL = "non-commercial"
    NO_RIGHTS = "no-rights"
    UNKNOWN = "unknown"
    NONE = "none"  # no licence at all: all rights reserved


STRICTNESS = (TermsLevel.OPEN, TermsLevel.RESTRICTED, TermsLevel.NON_COMMERCIAL, TermsLevel.NO_RIGHTS)
_CONFIDENT = 0.8


def governs(match: LicenceMatch) -> bool:
    """Whether a licence file's match is evidence enough to govern what it covers: its text matched
    (confidently), or its own title named a licence whose markers are in its body. A mention, a
    pointer or a quoted title is not."""
    if match.kind is not LicenceKind.LICENCE:
        return False
    return match.method is MatchMethod.TITLE or match.confidence >= _CONFIDENT


@dataclass(frozen=True)
class Terms:
    """The licence terms of one component and the matches they rest on."""

    level: TermsLevel
    matches: tuple[LicenceMatch, ...] = ()
    clauses: tuple[str, ...] = ()  # for custom texts: the clauses that set the level

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids of the matches, each once, in order."""
        return tuple(dict.fromkeys(m.id for m in self.matches))


@dataclass(frozen=True)
class LicenceAssessment:
    """The release's own licence terms (weights, code, policies) and the findings reading them gave."""

    weights: Terms
    code: Terms
    policies: tuple[LicenceMatch, ...]
    findings: tuple[Finding, ...]


def strictest(levels: Iterable[TermsLevel]) -> TermsLevel:
    """The most restrictive of `levels`."""
    ranked = [level for level in levels if level in STRICTNESS]
    return max(ranked, key=STRICTNESS.index) if ranked else TermsLevel.UNKNOWN


def mildest(levels: Iterable[TermsLevel]) -> TermsLevel:
    """The least restrictive of `levels`."""
    ranked = [level for level in levels if level in STRICTNESS]
    return min(ranked, key=STRICTNESS.index) if ranked else TermsLevel.UNKNOWN


def profile_level(profile: LicenceProfile) -> TermsLevel:
    """The terms level a licence profile grants, by its category and commercial-use fact (terms.yaml)."""
    table = rule_table("terms.yaml")
    level = TermsLevel(table["category_levels"][_value(profile.category)])
    commercial = profile.facts.get("commercial_use") if profile.facts else None
    if commercial is not None:
        stricter = table["commercial_use_levels"].get(str(commercial.value).lower())
        if stricter:
            level = strictest([level, TermsLevel(stricter)])
    return level


_READ_COMMERCIAL = {"no": (TermsLevel.NON_COMMERCIAL, "non-commercial use only"), "capped": (TermsLevel.RESTRICTED, "user cap"),
                    "conditional": (TermsLevel.RESTRICTED, "commercial use on conditions")}


_TEXT_TERMS: dict[bytes, tuple[TermsLevel, tuple[str, ...]]] = {}  # custom_text_terms by a digest of the text
_TEXT_TERMS_KEPT = 1024


def custom_text_terms(text: str) -> tuple[TermsLevel, tuple[str, ...]]:
    """The level an unknown licence text implies, and the clauses that imply it: its tell-tale phrases
    (terms.yaml), and the commercial-use clause the clause reader finds in its sentences (clauses.yaml).

    Read once per distinct text in a process: a census meets the same licence texts in repo after repo."""
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    found = _TEXT_TERMS.get(key)
    if found is None:
        found = _read_text_terms(text)
        if len(_TEXT_TERMS) >= _TEXT_TERMS_KEPT:
            _TEXT_TERMS.clear()
        _TEXT_TERMS[key] = found
    return found


def _read_text_terms(text: str) -> tuple[TermsLevel, tuple[str, ...]]:
    flat = re.sub(r"\s+", " ", text.lower())
    found = [
        (TermsLevel(row["level"]), row["label"])
        for row in rule_table("terms.yaml")["custom_clauses"]
        if any(re.search(pattern, flat) for pattern in row["patterns"])
    ]
    commercial = next((f for f in read_text_facts(text) if f.name == "commercial_use"), None)
    if commercial is not None and commercial.value in _READ_COMMERCIAL:
        level, label = _READ_COMMERCIAL[commercial.value]
        if label not in (known for _, known in found):
            found.append((level, label))
    restrictive = [(level, label) for level, label in found if level is not TermsLevel.OPEN]
    if restrictive:
        return strictest(level for level, _ in restrictive), tuple(label for _, label in restrictive)
    if found:
        return TermsLevel.OPEN, tuple(label for _, label in found)
    return TermsLevel.UNKNOWN, ()


def _value(enum_or_str: Any) -> str:
    return getattr(enum_or_str, "value", enum_or_str)


def _families(matches: Iterable[LicenceMatch], kb: KnowledgeBase) -> set[str]:
    families = set()
    for match in matches:
        profile = kb.get(match.id)
        families.add((profile.family or profile.id) if profile else match.id)
    return families


def _related(card_families: set[str], file_families: set[str]) -> bool:
    """Same family, or one names the other generically (the Hub's `cc` covers `cc-by`, `cc-by-nc`...)."""
    return any(a == b or b.startswith(a + "-") or a.startswith(b + "-") for a in card_families for b in file_families)


def _relabelling(card: list[LicenceMatch], files: list[LicenceMatch], kb: KnowledgeBase) -> str | None:
    """None when the card agrees with the files; else how the files' licence is introduced in the finding."""
    if not card:
        return None
    if not _related(_families(card, kb), _families(files, kb)):
        return ""
    return "another version: " if _other_version(card, files, kb) else None


def _other_version(card: list[LicenceMatch], files: list[LicenceMatch], kb: KnowledgeBase) -> bool:
    """The card and the files name the same licence family, but no file carries a version the card declares."""
    def versioned(matches: list[LicenceMatch]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for match in matches:
            profile = kb.get(match.id)
            if profile is not None and profile.family and profile.version:
                found.setdefault(profile.family, set()).add(profile.version)
        return found

    declared, shipped = versioned(card), versioned(files)
    return any(family in shipped and not (versions & shipped[family]) for family, versions in declared.items())


def _terms_of(matches: list[LicenceMatch], kb: KnowledgeBase, alternatives: bool) -> Terms:
    levels = [profile_level(kb.known(m.id)) for m in matches]
    level = mildest(levels) if alternatives else strictest(levels)
    return Terms(level=level, matches=tuple(matches), clauses=_read_terms(matches))


_LEVEL_FACTS = ("commercial_use", "user_cap", "registration", "use_restrictions", "territory", "output_restrictions")


def _read_terms(matches: list[LicenceMatch]) -> tuple[str, ...]:
    """For licences read from unknown texts, the facts that set their level: the verdict says they were read."""
    return tuple(dict.fromkeys(
        f"{fact.name.replace('_', ' ')}: {fact.value}" for match in matches if match.unidentified
        for fact in match.facts if fact.name in _LEVEL_FACTS
    ))


def assess_licences(
    matches: Iterable[LicenceMatch],
    kb: KnowledgeBase,
    licence_files: Iterable[str],
    texts: Mapping[str, str],
    card_expression: str | None = None,
    card_body: str = "",
) -> LicenceAssessment:
    """Weights and code terms from all matches; `licence_files` are the paths classified as licences.
    The card's sentences that assign licences to the code and the weights (scopes.py) set the
    scopes of the files and card fields that hold those licences."""
    matches, licence_files = tuple(matches), tuple(licence_files)
    findings: list[Finding] = []
    known = [m for m in matches if kb.get(m.id) is not None]
    policies = tuple(m for m in known if m.kind is LicenceKind.POLICY)
    grants = [m for m in known if m.kind is LicenceKind.LICENCE]
    scopes = file_scopes(dict.fromkeys([*licence_files, *(m.source for m in matches)]), texts)
    to_code = card_code_scopes(card_body, kb, grants, scopes, findings)
    card = [m for m in grants if scopes[m.source] == "card" and m.id not in to_code]
    files = [m for m in grants if scopes[m.source] in ("release", "weights") and governs(m) and m.id not in to_code]
    code = [m for m in grants if scopes[m.source] == "code" or m.id in to_code]
    references = [m for m in known if m.kind is LicenceKind.REFERENCE]
    alternatives = bool(card_expression and re.search(r"\bor\b", card_expression, re.I))

    for match in matches:
        if match.modified:
            findings.append(finding("licence-modified", f"{match.source}: {match.name} was altered" + (f" ({match.changes})" if match.changes else ""), [match.source]))
        if match.unidentified and kb.get(match.id) is not None:
            findings.append(finding("licence-unidentified", _read_licence_message(match), [match.source]))
        if match.kind is LicenceKind.REFERENCE:
            findings.append(finding("licence-reference-only", f"{match.source} only points to a licence kept elsewhere ({match.name})", [match.source]))
    for policy in policies:
        findings.append(finding("use-policy", f"{policy.name} applies ({policy.source})", [policy.source]))

    if files:
        weights = _terms_of(files, kb, alternatives=False)
        weights = _with_custom_files(weights, _unidentified_files(matches, kb, licence_files, texts), texts, findings)
        weights = _stricter_if_altered(weights, files, texts, findings)
        relabelled = _relabelling(card, files, kb)
        if relabelled is not None:
            card_terms = _terms_of(card, kb, alternatives)
            findings.append(finding(
                "licence-relabelled",
                f"the card declares {', '.join(dict.fromkeys(m.id for m in card))} but the licence text in "
                f"{', '.join(dict.fromkeys(m.source for m in files))} is {relabelled}{', '.join(dict.fromkeys(m.name for m in files))}",
                [m.source for m in card + files],
            ))
            weights = Terms(strictest([weights.level, card_terms.level]), tuple(files + card), weights.clauses)
    elif card:
        weights = _terms_of(card, kb, alternatives)  # a missing text is a duty (judge.duties), checked on the effective terms
    elif [m for m in references if kb.known(m.id).kind is not LicenceKind.REFERENCE]:
        weights = _terms_of(references, kb, alternatives=False)
    else:
        weights = _unidentified_terms(matches, kb, licence_files, texts, card_expression, findings)

    code_terms = _terms_of(code, kb, alternatives=False) if code else Terms(TermsLevel.NONE)
    return LicenceAssessment(weights=weights, code=code_terms, policies=policies, findings=tuple(findings))


def _read_licence_message(match: LicenceMatch) -> str:
    """What a finding says of a licence the knowledge base does not know, read from its own clauses."""
    read = ", ".join(f"{f.name} {f.value}" for f in match.facts)
    adapted = f"; {match.changes}" if match.changes else ""
    return (f"{match.source} holds '{match.name}', a licence the auditor does not know{adapted}: its terms were read "
            f"from its clauses ({read}); check them against the text")


def _unidentified_files(matches: Iterable[LicenceMatch], kb: KnowledgeBase, licence_files: Iterable[str], texts: Mapping[str, str]) -> list[str]:
    """Release licence files no known licence was found in: a licence match too weak to govern (a
    text that only resembles a known one) identifies nothing, so the file is read by its clauses."""
    identified = {m.source for m in matches if kb.get(m.id) is not None and (m.kind is not LicenceKind.LICENCE or governs(m))}
    scopes = file_scopes(licence_files, texts)
    return [p for p in licence_files if p in texts and p not in identified and scopes[p] in ("release", "weights")]


def _read_custom_files(paths: list[str], texts: Mapping[str, str], findings: list[Finding]) -> tuple[list[TermsLevel], list[str]]:
    """The levels and clauses unknown licence texts imply, with a finding for each text."""
    levels: list[TermsLevel] = []
    clauses: list[str] = []
    for path in paths:
        level, found = custom_text_terms(texts[path])
        findings.append(finding("licence-unidentified", f"{path} holds a licence text the auditor does not recognise" + (f"; it contains: {', '.join(found)}" if found else ""), [path]))
        if level is not TermsLevel.UNKNOWN:
            levels.append(level)
            clauses.extend(found)
    return levels, clauses


def _with_custom_files(terms: Terms, paths: list[str], texts: Mapping[str, str], findings: list[Finding]) -> Terms:
    """Known terms, made stricter by any unknown licence text beside them that restricts more."""
    levels, clauses = _read_custom_files(paths, texts, findings)
    return _tightened(terms, levels, clauses)


def _outside_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """The lines of a file no match covers: where added terms hide."""
    covered = {n for first, last in spans for n in range(first, last + 1)}
    return "\n".join(line for n, line in enumerate(text.splitlines(), 1) if n not in covered)


def _stricter_if_altered(terms: Terms, files: list[LicenceMatch], texts: Mapping[str, str], findings: list[Finding]) -> Terms:
    """A known licence edited, or followed by added terms, that restrict more than the licence counts as such.

    An altered text is read whole; an unaltered one only outside its matched lines.
    """
    levels: list[TermsLevel] = []
    clauses: list[str] = []
    by_source: dict[str, list[LicenceMatch]] = {}
    for match in files:
        by_source.setdefault(match.source, []).append(match)
    for source, found in by_source.items():
        text = texts.get(source, "")
        if not any(m.modified for m in found):
            spans = [m.span for m in found if m.span is not None]
            if len(spans) < len(found):
                continue
            text = _outside_spans(text, spans)
        level, labels = custom_text_terms(text)
        if level is not TermsLevel.UNKNOWN and strictest([terms.level, level]) is not terms.level:
            levels.append(level)
            clauses.extend(labels)
            findings.append(finding("licence-modified", f"{source}: terms added to {found[0].name} restrict it further: {', '.join(labels)}", [source]))
    return _tightened(terms, levels, clauses)


def _tightened(terms: Terms, levels: list[TermsLevel], clauses: list[str]) -> Terms:
    """`terms` made as strict as the strictest of `levels`, citing the clauses that made it so."""
    stricter = strictest([terms.level, *levels])
    if stricter is terms.level:
        return terms
    return Terms(stricter, terms.matches, tuple(dict.fromkeys(clauses)))


def _unidentified_terms(matches: Sequence[LicenceMatch], kb: KnowledgeBase, licence_files: Iterable[str], texts: Mapping[str, str],
                        card_expression: str | None, findings: list[Finding]) -> Terms:
    """No known licence grants rights: read unknown licence texts, or report no licence at all."""
    unknown_claims = [m for m in matches if kb.get(m.id) is None and not m.unidentified]
    custom_files = _unidentified_files(matches, kb, licence_files, texts)
    for claim in unknown_claims:
        findings.append(finding("licence-unidentified", f"{claim.source} names '{claim.name}', which is not a licence the auditor knows", [claim.source]))
    levels, clauses = _read_custom_files(custom_files, texts, findings)
    if levels:
        return Terms(strictest(levels), tuple(unknown_claims), tuple(dict.fromkeys(clauses)))
    declared_other = (card_expression or "").strip().lower() in ("other", "unknown")
    if declared_other and not unknown_claims and not custom_files:
        findings.append(finding("licence-unidentified", f"the card declares license: {(card_expression or '').strip()} and names no licence text", ["card:license"]))
    if unknown_claims or custom_files or declared_other:
        return Terms(TermsLevel.UNKNOWN, tuple(unknown_claims))
    findings.append(finding("no-licence", "neither the card nor any file names a licence: all rights are reserved"))
    return Terms(TermsLevel.NONE)


_TERMS_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+.*\b(licen[cs]e|licensing|terms|commercial)", re.I)
_ANY_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")


def card_section_terms(card_body: str) -> tuple[TermsLevel, tuple[str, ...]]:
    """The level and clauses the card's own licence or terms sections imply (UNKNOWN, () when they say nothing)."""
    section, inside = [], False
    for line in (card_body or "").splitlines():
        if _ANY_HEADING.match(line):
            inside = bool(_TERMS_HEADING.match(line))
            continue
        if inside:
            section.append(line)
    return custom_text_terms("\n".join(section))


def card_terms_findings(card_body: str, card_path: str, weights: Terms) -> list[Finding]:
    """A card whose licence section forbids commercial use while the declared licence is open."""
    if weights.level is not TermsLevel.OPEN or not card_body:
        return []
    level, clauses = card_section_terms(card_body)
    if level is not TermsLevel.NON_COMMERCIAL:
        return []
    names = ", ".join(dict.fromkeys(m.name for m in weights.matches))
    return [finding("card-terms-conflict", f"the card's licence section says {', '.join(clauses)}, but the declared licence is {names}", [card_path])]
