"""Licences the knowledge base does not know: named from their own title, read by their clauses.

A licence text no profile matches is still answered. Its title line ("The Foo Model
License", Chinese or English) names it, with a stable `LicenseRef-` id made from the title;
its sentences are read into the facts a profile holds (commercial use, user cap,
registration, use restrictions, territory, output restrictions, attribution, naming,
termination), each with the sentence it came from and a confidence (clauses.yaml). The
match is marked unidentified. `read_profile` turns such a match into a profile the judge
weighs like any other, so an unknown licence needs no special case downstream.

Titles also guard against false matches: `names_another_licence` tells when the title over a
similarity match names a licence, product or organisation the matched profile is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from auditor.identify.kb import KnowledgeBase, LicenceCategory, LicenceProfile
from auditor.identify.names import title_licence_ref
from auditor.identify.normalise import CJK, Normalised, marker_form, normalise
from auditor.model import LicenceFact, LicenceKind, LicenceMatch, MatchMethod
from auditor.yamlfile import load_yaml

_ASCII_WORD = re.compile(r"[a-z][a-z0-9]*|[0-9]+(?:\.[0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=\S)|(?<=[。；！？])")
_QUOTE_CHARS = 240  # a clause is quoted up to this long, around what matched
READ_CHARS = 60_000  # an unknown licence is read this far (the longest model licences are about 40,000 characters)
_TITLE_DECORATION = " \t#*_=\"'“”‘’`:-–—|"


@dataclass(frozen=True)
class FactRule:
    """One row of clauses.yaml: a fact, the value it sets and the patterns that find it."""

    fact: str
    value: str | None  # None: the value is the text the pattern captured (user_cap)
    confidence: float
    patterns: tuple[re.Pattern, ...]
    unless: re.Pattern | None


@dataclass(frozen=True)
class ClauseTable:
    """What reading an unknown licence text looks for: its title and its clauses (clauses.yaml)."""

    title: re.Pattern
    title_words: int
    title_cjk_chars: int
    english_title_end: re.Pattern
    title_lines: int
    generic_words: frozenset[str]
    grant: re.Pattern
    min_words: int
    min_sentence_words: int
    name_confidence: float
    rules: tuple[FactRule, ...]


@lru_cache(maxsize=1)
def clause_table() -> ClauseTable:
    """clauses.yaml, compiled once."""
    raw = load_yaml(resources.files("auditor.identify").joinpath("clauses.yaml").read_text(encoding="utf-8"))
    rules = tuple(
        FactRule(
            fact=row["fact"],
            value=None if row.get("value") is None else str(row["value"]),
            confidence=float(row["confidence"]),
            patterns=tuple(re.compile(p) for p in row["patterns"]),
            unless=re.compile(row["unless"]) if row.get("unless") else None,
        )
        for row in raw["facts"]
    )
    return ClauseTable(
        title=re.compile(raw["title"]),
        title_words=int(raw["title_words"]),
        title_cjk_chars=int(raw["title_cjk_chars"]),
        english_title_end=re.compile(raw["english_title_end"]),
        title_lines=int(raw["title_lines"]),
        generic_words=frozenset(raw["generic_words"]),
        grant=re.compile(raw["grant"]),
        min_words=int(raw["min_words"]),
        min_sentence_words=int(raw["min_sentence_words"]),
        name_confidence=float(raw["name_confidence"]),
        rules=rules,
    )


# ---------------------------------------------------------------- titles

def _marker(norm: Normalised, line: int) -> str:
    return norm.marker_lines[line - 1] if 1 <= line <= len(norm.marker_lines) else ""


def _is_title(marker_line: str) -> bool:
    table = clause_table()
    if not marker_line or len(marker_line.split()) > table.title_words or not table.title.search(marker_line):
        return False
    if CJK.search(marker_line) and (len(marker_line) > table.title_cjk_chars or re.search(r"[。，；：、]", marker_line)):
        return False
    # a sentence that mentions a licence is not a title
    return not re.search(r"[.;,]$|\b(?:you|your|is|are|shall|means|by|under)\b", marker_line)


_SMALL_WORDS = {"of", "and", "the", "for", "to", "in", "on", "a", "an", "or"}


def _title_text(norm: Normalised, line: int) -> str:
    """A title line as a name: decoration stripped, an all-capitals title in title case (acronyms kept)."""
    title = " ".join(norm.source_line(line).split()).strip(_TITLE_DECORATION)
    if re.search(r"[a-z]", title) or not re.search(r"[A-Z]", title):
        return title
    words = []
    for number, word in enumerate(title.split()):
        if word.lower() in _SMALL_WORDS and number:
            words.append(word.lower())
        elif len(word) <= 3 and word.isalpha():
            words.append(word)
        else:
            words.append(word[:1] + word[1:].lower())
    return " ".join(words)


def distinctive_words(text: str) -> set[str]:
    """The words of a name that identify it: no filler, no version numbers or dates."""
    generic = clause_table().generic_words
    return {w for w in _ASCII_WORD.findall(text.lower()) if w not in generic and not w[0].isdigit() and len(w) > 1}


def first_lines(norm: Normalised, lines: Iterable[int]) -> Iterable[tuple[int, str]]:
    """(line, marker form) of the first non-empty `lines`, as many as a title may sit among."""
    seen = 0
    for n in lines:
        marker = _marker(norm, n)
        if not marker:
            continue
        seen += 1
        if seen > clause_table().title_lines:
            return
        yield n, marker


def title_at(norm: Normalised, lines: Iterable[int]) -> tuple[int, str] | None:
    """(line, title) of the first title line among the first non-empty `lines`; an English title wins over a Chinese one."""
    found: list[tuple[int, str]] = []
    for n, marker in first_lines(norm, lines):
        if _is_title(marker):
            title = _title_text(norm, n)
            if distinctive_words(title) or CJK.search(title):
                found.append((n, title))
    english = [item for item in found if distinctive_words(item[1])]
    if not english and found:
        english = [(n, _title_text(norm, n)) for n in _english_titles(norm, lines)][:1]
    return (english or found)[0] if english or found else None


def heading_lines(norm: Normalised, lines: Iterable[int]) -> Iterable[tuple[int, str, bool]]:
    """(line, text, whether it reads as a licence title) of the short lines among the first non-empty
    `lines`: where a text names itself ("CodeML OpenRAIL-M 0.1" has no licence word, yet is a name)."""
    for n, marker in first_lines(norm, lines):
        if len(marker.split()) <= clause_table().title_words and not re.search(r"[.;,:]$", marker):
            yield n, _title_text(norm, n), _is_title(marker)


def _english_titles(norm: Normalised, lines: Iterable[int]) -> Iterable[int]:
    """Lines further down that read as an English licence title: the English half of a bilingual text."""
    ending = clause_table().english_title_end
    for n in lines:
        marker = _marker(norm, n)
        if marker and not CJK.search(marker) and _is_title(marker) and ending.search(marker.strip(_TITLE_DECORATION)):
            if distinctive_words(marker):
                yield n


def title_above(norm: Normalised, line: int, inclusive: bool = False) -> str | None:
    """The nearest title line above `line` (or on it when `inclusive`), within a few non-empty lines: the name a text gives itself."""
    table = clause_table()
    seen = 0
    for n in range(line if inclusive else line - 1, 0, -1):
        marker = _marker(norm, n)
        if not marker:
            continue
        seen += 1
        if seen > table.title_lines:
            return None
        if _is_title(marker):
            return _title_text(norm, n)
    return None


_QUOTED_NAME = re.compile(r"[\"“]([A-Z][\w.\- ]{2,80}? (?:License|Licence|Agreement|LICENSE|AGREEMENT))(?:,)?[\"”]")
_FILE_NAME = re.compile(r"(?i)\b(?:license|licence|agreement|terms)\b")


def _quoted_name(norm: Normalised, lines: list[int]) -> str | None:
    """A text without a title line often names itself in quotes ("the \"Foo Model License Agreement\"")."""
    for n in lines[:40]:
        for found in _QUOTED_NAME.finditer(norm.source_line(n)):
            if distinctive_words(found.group(1)):
                return found.group(1)
    return None


def _file_name(source: str) -> str | None:
    """The file's own name when it names the licence ("Foo Model License.md"); LICENSE names nothing."""
    stem = source.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("_", " ").strip()
    return stem if _FILE_NAME.search(stem) and distinctive_words(stem) else None


def _profile_words(profile: LicenceProfile) -> set[str]:
    return distinctive_words(" ".join([profile.id, profile.name, *profile.aliases, profile.family or ""]))


def names_another_licence(title: str, profile: LicenceProfile, kb: KnowledgeBase) -> bool:
    """Whether `title` names a licence other than `profile`: it shares none of the profile's words,
    and neither the profile's markers nor its family's find it."""
    words = distinctive_words(title)
    if not words:
        return False  # a Chinese or generic title: nothing to compare
    marker = " ".join(marker_form(title).split())
    relatives = [profile, *(p for p in kb if profile.family and p.family == profile.family)]
    if any(m.search(marker) for p in relatives for m in p.compiled_markers):
        return False
    return not any(words & _profile_words(p) for p in relatives)


def licence_named(title: str, kb: KnowledgeBase) -> LicenceProfile | None:
    """The profile a title names: by its name or alias, else by a marker of its version."""
    named = kb.lookup(title)
    if named is not None and named.kind is LicenceKind.LICENCE:
        return named
    marker, words = " ".join(marker_form(title).split()), distinctive_words(title)
    # a marker in the title, and a word of the title in the profile's names: a broad marker names nothing alone
    hits = [p for p in kb if p.kind is LicenceKind.LICENCE and any(m.search(marker) for m in p.compiled_markers)
            and words & _profile_words(p)]
    return hits[0] if len(hits) == 1 else None


# ---------------------------------------------------------------- clauses

def _sentences(norm: Normalised, lines: list[int]) -> list[str]:
    """The sentences of `lines` (paragraphs joined, split at sentence ends), in their own case."""
    sentences: list[str] = []
    paragraph: list[str] = []
    last = None
    for n in lines + [None]:
        text = norm.source_line(n).strip() if n is not None else ""
        if not text or (last is not None and n != last + 1):
            if paragraph:
                sentences.extend(s.strip() for s in _SENTENCE_END.split(" ".join(paragraph)) if s.strip())
            paragraph = []
        if text:
            paragraph.append(text)
        last = n
    return sentences


def _quote(sentence: str, start: int, end: int) -> str:
    if len(sentence) <= _QUOTE_CHARS:
        return sentence
    middle = (start + end) // 2
    first = max(0, min(middle - _QUOTE_CHARS // 2, len(sentence) - _QUOTE_CHARS))
    text = sentence[first:first + _QUOTE_CHARS].strip()
    return ("…" if first else "") + text + ("…" if first + _QUOTE_CHARS < len(sentence) else "")


def _is_clause(sentence: str) -> bool:
    """A sentence long enough to state a term (not a heading such as "4. Termination.")."""
    return len(sentence.split()) >= clause_table().min_sentence_words or len(CJK.findall(sentence)) >= 6


def read_facts(sentences: list[str]) -> tuple[LicenceFact, ...]:
    """The facts the sentences state, each with its sentence and confidence; commercial_use decided by the first row found."""
    sentences = [s for s in sentences if _is_clause(s)]
    forms = [" ".join(marker_form(s).split()) for s in sentences]
    facts: dict[str, LicenceFact] = {}
    for rule in clause_table().rules:
        if rule.fact in facts:
            continue
        for sentence, form in zip(sentences, forms, strict=True):
            if rule.unless is not None and rule.unless.search(form):
                continue
            hit = next((m for m in (p.search(form) for p in rule.patterns) if m), None)
            if hit is None:
                continue
            value = rule.value if rule.value is not None else " ".join((hit.group(1) if hit.groups() else hit.group(0)).split())
            facts[rule.fact] = LicenceFact(rule.fact, value, _quote(sentence, hit.start(), hit.end()), rule.confidence)
            break
    return tuple(facts.values())


def read_text_facts(text: str) -> tuple[LicenceFact, ...]:
    """The facts the sentences of a whole text state (terms added to a known licence, a card's section)."""
    norm = normalise(text)
    return read_facts(_sentences(norm, _leading(norm, list(range(1, len(norm.marker_lines) + 1)))))


def _leading(norm: Normalised, lines: list[int]) -> list[int]:
    """The first of `lines` up to READ_CHARS characters: a licence states its terms well within that."""
    kept, size = [], 0
    for n in lines:
        size += len(_marker(norm, n)) + 1
        if size > READ_CHARS:
            break
        kept.append(n)
    return kept


def read_unknown(norm: Normalised, lines: list[int], source: str, derived_from: str | None = None) -> LicenceMatch | None:
    """The licence `lines` of a file hold when no profile matched them: named from its title, read by its clauses.

    The name is the text's title line; else the name it gives itself in quotes; else its file's
    name when that names a licence. None when the lines are no licence: too short, granting
    nothing, or named nowhere.
    """
    table = clause_table()
    lines = _leading(norm, lines)
    if not lines:
        return None
    text = " ".join(_marker(norm, n) for n in lines)
    if len(text.split()) < table.min_words and len(CJK.findall(text)) < 3 * table.min_words:
        return None
    if not table.grant.search(text):
        return None
    titled = title_at(norm, lines)
    title = titled[1] if titled else (_quoted_name(norm, lines) or _file_name(source))
    if title is None:
        return None
    licence_id = title_licence_ref(title)
    facts = read_facts(_sentences(norm, lines))
    note = f"adapted from the text of {derived_from}" if derived_from else None
    return LicenceMatch(
        id=licence_id, name=title, spdx=licence_id, kind=LicenceKind.LICENCE, source=source,
        confidence=table.name_confidence, method=MatchMethod.READ, span=(lines[0], lines[-1]), changes=note,
        unidentified=True, facts=facts,
    )


# ---------------------------------------------------------------- for the judge

_RESTRICTING = ("use_restrictions", "territory", "output_restrictions", "naming", "registration")


def read_category(facts: Iterable[LicenceFact]) -> LicenceCategory | None:
    """The category the read facts put a licence in; None when they settle nothing."""
    values = {f.name: f.value for f in facts}
    commercial = values.get("commercial_use")
    if commercial == "no":
        return LicenceCategory.NON_COMMERCIAL
    if commercial in ("capped", "conditional", "yes") or any(values.get(name) == "yes" for name in _RESTRICTING):
        # a licence read as allowing commercial use is still a custom one: its other terms were not all read
        return LicenceCategory.CUSTOM_COMMUNITY
    return None


def read_profile(match: LicenceMatch) -> LicenceProfile | None:
    """A profile for an unidentified licence from the facts read from it; None when they settle no category."""
    category = read_category(match.facts) if match.unidentified else None
    if category is None:
        return None
    return LicenceProfile(
        id=match.id, name=match.name, aliases=(), spdx=match.spdx or match.id, scancode_key=None, kind=LicenceKind.LICENCE,
        family=None, version=None, category=category, osi_approved=False, urls=(), text_path=None,
        text_source=f"read from {match.source}", policy=None, markers=(),
        facts={f.name: f for f in match.facts}, unidentified=True,
    )


def with_read_licences(kb: KnowledgeBase, matches: Iterable[LicenceMatch]) -> KnowledgeBase:
    """`kb` and a profile for every unidentified licence whose facts settle its category."""
    read = {p.id: p for p in (read_profile(m) for m in matches) if p is not None and kb.get(p.id) is None}
    return kb.extended(list(read.values())) if read else kb
