"""The terms that actually govern the weights: the release's own licences, its card's own
words, unknown licence texts read for their clauses, and what its ancestors' licences bind
derivatives to (effective.yaml, lineage.yaml). Where sources disagree the most restrictive
reading wins, and each term names the licences and places it comes from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from auditor.identify.names import match_from_profile
from auditor.judge.licences import Terms, TermsLevel, profile_level, strictest
from auditor.judge.lineage import rule_for
from auditor.judge.tables import rule_table
from auditor.model import Ancestor, AncestorStatus, LicenceKind, LicenceMatch, MatchMethod, TermFact

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase


FACT_KEYS = (
    "commercial_use", "user_cap", "use_restrictions", "attribution", "naming", "share_alike",
    "output_restrictions", "patent_grant", "termination", "territory",
)


def _rules() -> Mapping[str, Any]:
    return rule_table("effective.yaml")


@dataclass(frozen=True)
class Binding:
    """A licence that governs the weights, why (a file, the card, an ancestor), and which of its terms bind (None: all)."""

    licence_id: str
    because: str
    keys: tuple[str, ...] | None = None
    inherited: bool = False


@dataclass(frozen=True)
class _Candidate:
    value: str
    source: str
    because: str
    clause: str | None
    name: str


@dataclass(frozen=True)
class EffectiveTerms:
    """The weights' governing terms: their level, the licences behind them, one TermFact per fact key, and why."""

    terms: Terms
    facts: Mapping[str, TermFact]
    bindings: tuple[Binding, ...]
    notes: tuple[str, ...]


def _because(match: LicenceMatch) -> str:
    return "the card" if match.source.startswith("card:") else match.source


def own_bindings(weights: Terms, policies: Iterable[LicenceMatch]) -> list[Binding]:
    """The release's own licences (files and card) and the use policies they incorporate."""
    bindings = [Binding(m.id, _because(m)) for m in weights.matches]
    keys = tuple(_rules()["policy_keys"])
    bindings += [Binding(p.id, _because(p), keys) for p in policies]
    return bindings


def inherited_bindings(lineage: Iterable[Ancestor], kb: KnowledgeBase) -> list[Binding]:
    """What each checked ancestor's licences bind derivatives to, by its lineage rule."""
    inherits = _rules()["inherits"]
    bindings = []
    for ancestor in lineage:
        if ancestor.status not in (AncestorStatus.CHECKED, AncestorStatus.UNREADABLE):
            continue  # an unreadable ancestor binds by the licences inferred from its id, if any
        for licence_id in ancestor.licences:
            profile = kb.get(licence_id)
            passed = inherits.get(rule_for(profile)["rule"]) if profile is not None else None
            if passed is None:
                continue
            keys = None if passed == "all" else tuple(passed)
            bindings.append(Binding(licence_id, ancestor.repo_id, keys, inherited=True))
    return bindings


def effective_terms(
    weights: Terms,
    policies: Iterable[LicenceMatch],
    lineage: Iterable[Ancestor],
    card_clauses: tuple[TermsLevel, tuple[str, ...]],
    card_path: str,
    kb: KnowledgeBase,
    model_names: Iterable[str] = (),
) -> EffectiveTerms:
    """Combine own terms, inherited terms and the card's own restrictive words; the strictest reading wins.

    A fact that concerns only some models (`applies_to`) is left out when `model_names` (the
    release's repo id, its bases, its config's model type) name none of them; with no names, it stays.
    """
    names = tuple(model_names)
    lineage = tuple(lineage)
    own = own_bindings(weights, policies)
    inherited = [b for b in inherited_bindings(lineage, kb) if b.licence_id not in {o.licence_id for o in own}]
    bindings = own + _unique(inherited)
    candidates: dict[str, list[_Candidate]] = {key: [] for key in FACT_KEYS}
    for binding in bindings:
        profile = kb.get(binding.licence_id)
        if profile is None:
            continue
        for key, fact in (profile.facts or {}).items():
            if key in candidates and (binding.keys is None or key in binding.keys) and fact is not None and fact.value not in (None, "") \
                    and _concerns(fact.applies_to, names):
                candidates[key].append(_Candidate(str(fact.value), profile.id, binding.because, fact.clause, profile.name))
    card_level, card_labels = card_clauses
    for label in card_labels:
        _add_clause(candidates, label, "card-text", card_path, "the card's own words")
    for label in weights.clauses:
        _add_clause(candidates, label, "licence-text", "an unidentified licence text", "an unidentified licence text")
    levels = [weights.level, card_level if card_labels else TermsLevel.UNKNOWN]
    for binding in inherited:
        profile = kb.known(binding.licence_id)
        levels.append(profile_level(profile) if binding.keys is None else TermsLevel.RESTRICTED)
    level = _combined_level(weights.level, levels)
    facts = {key: _decide(key, found) for key, found in candidates.items() if found}
    _no_grant(facts, level)
    if "use_restrictions" in facts:
        facts["use_restrictions"] = replace(facts["use_restrictions"], listed=prohibited_uses(facts["use_restrictions"].sources, kb))
    matches = weights.matches + tuple(_inherited_match(b, kb) for b in _unique(inherited) if b.keys is None)
    terms = Terms(level, matches, tuple(dict.fromkeys(weights.clauses + (card_labels if card_level is not TermsLevel.OPEN else ()))))
    return EffectiveTerms(terms, facts, tuple(bindings), tuple(_notes(weights, _unique(inherited), card_level, card_labels, card_path, kb)))


def prohibited_uses(licence_ids: Iterable[str], kb: KnowledgeBase) -> tuple[str, ...]:
    """The uses the licences (or the use policies they incorporate) list as prohibited, each once, in order."""
    listed: list[str] = []
    for licence_id in licence_ids:
        profile = kb.get(licence_id)
        policy = kb.get(profile.policy) if profile is not None and profile.policy else None
        for source in (profile, policy):
            listed += list(source.prohibited_uses) if source is not None else []
    return tuple(dict.fromkeys(listed))


def _concerns(applies_to: str | None, names: tuple[str, ...]) -> bool:
    """Whether a fact that concerns only the models `applies_to` matches concerns this release (unknown: yes)."""
    return applies_to is None or not names or any(re.search(applies_to, name, re.IGNORECASE) for name in names)


def model_names(target_label: str, metadata: Mapping[str, Any], texts: Mapping[str, str], lineage: Iterable[Ancestor]) -> tuple[str, ...]:
    """What names the model: its repo id or path, the card's base models, config.json's model type and
    architectures, and its ancestors' ids; what a fact's `applies_to` is matched against."""
    names = [target_label, *(a.repo_id for a in lineage)]
    bases = metadata.get("base_model") if isinstance(metadata, Mapping) else None
    names += [str(b) for b in (bases if isinstance(bases, list) else [bases]) if isinstance(b, str)]
    try:
        config = json.loads(texts.get("config.json", "") or "{}")
    except ValueError:
        config = {}
    if isinstance(config, dict):
        names += [str(config.get("model_type") or "")] + [str(a) for a in config.get("architectures") or [] if isinstance(a, str)]
    return tuple(n for n in names if n)


def _unique(bindings: list[Binding]) -> list[Binding]:
    seen, unique = set(), []
    for binding in bindings:
        if binding.licence_id not in seen:
            seen.add(binding.licence_id)
            unique.append(binding)
    return unique


def _add_clause(candidates: dict[str, list[_Candidate]], label: str, source: str, because: str, name: str) -> None:
    meaning = _rules()["clause_facts"].get(label)
    if meaning:
        candidates[meaning["key"]].append(_Candidate(str(meaning["value"]), source, because, label, name))


def _combined_level(own: TermsLevel, levels: list[TermsLevel]) -> TermsLevel:
    """The strictest level; an unidentified or absent own licence stays so unless something stricter than restricted binds."""
    stricter = strictest(levels)
    if own in (TermsLevel.UNKNOWN, TermsLevel.NONE):
        return stricter if stricter in (TermsLevel.NON_COMMERCIAL, TermsLevel.NO_RIGHTS) and own is TermsLevel.UNKNOWN else own
    return stricter


def _decide(key: str, found: list[_Candidate]) -> TermFact:
    """The most restrictive value among the candidates, with every source that says it."""
    order = _rules()["order"]
    ranking = [str(v) for v in order.get(key, order["default"])]
    if key == "user_cap":
        chosen = [c for c in found if c.value not in ("None", "null")] or found
        return _fact(key, chosen[0].value, chosen)
    rank = lambda c: ranking.index(c.value.lower()) if c.value.lower() in ranking else -1  # noqa: E731
    worst = max(rank(c) for c in found)
    chosen = [c for c in found if rank(c) == worst]
    return _fact(key, chosen[0].value.lower(), chosen)


def _fact(key: str, value: str, chosen: list[_Candidate]) -> TermFact:
    """`sources`, `because` and `names` line up: one entry per licence, where it was found and its name."""
    first: dict[str, _Candidate] = {}
    for candidate in chosen:
        first.setdefault(candidate.source, candidate)
    return TermFact(key, value, tuple(first), tuple(c.because for c in first.values()),
                    next((c.clause for c in chosen if c.clause), None), tuple(c.name for c in first.values()))


def _no_grant(facts: dict[str, TermFact], level: TermsLevel) -> None:
    """Without an identified licence, commercial use is not granted: say so rather than leave it blank."""
    if level is TermsLevel.NONE:
        spec = _rules()["no_licence"]
    elif level is TermsLevel.UNKNOWN and "commercial_use" not in facts:
        spec = _rules()["unknown_licence"]
    elif "commercial_use" not in facts:
        spec = _rules()["commercial_use_unread"]
    else:
        return
    facts["commercial_use"] = TermFact("commercial_use", str(spec["value"]), (), (), spec["clause"])


def _inherited_match(binding: Binding, kb: KnowledgeBase) -> LicenceMatch:
    profile = kb.known(binding.licence_id)
    return match_from_profile(profile, f"base:{binding.because}", 1.0, MatchMethod.METADATA, kind=LicenceKind.LICENCE)


def _notes(weights: Terms, inherited: list[Binding], card_level: TermsLevel, card_labels: tuple[str, ...], card_path: str, kb: KnowledgeBase) -> list[str]:
    """Why the effective terms are what they are, in words for the verdict's reasons."""
    notes = []
    own_names = ", ".join(dict.fromkeys(m.name for m in weights.matches if m.kind is LicenceKind.LICENCE))
    for binding in inherited:
        profile = kb.known(binding.licence_id)
        what = "inherits the" if binding.keys is None else "carries over the " + ", ".join(k.replace("_", " ") for k in binding.keys) + " of the"
        widen = ""
        if own_names and binding.keys is None and strictest([weights.level, profile_level(profile)]) is not weights.level:
            widen = f"; the release's own {own_names} cannot widen it"
        notes.append(f"{what} {profile.name} from {binding.because}{widen}")
    if card_labels and card_level is not TermsLevel.OPEN and strictest([weights.level, card_level]) is not weights.level:
        notes.append(f"the card's own words restrict it further ({', '.join(card_labels)}, {card_path}): the stricter reading wins")
    return notes
