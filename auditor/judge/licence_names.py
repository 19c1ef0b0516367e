"""Licence names in a policy (`--allow-licence`, `--deny-licence`), checked against the knowledge base.

A name is one of our ids (`cc-by-nc-4.0`), an SPDX id (`CC-BY-NC-4.0`), a name or alias the
knowledge base knows ("Apache License 2.0"), a family (`llama`, `gemma`, `openrail`, `qwen`,
`stability`, `cc-by-nc`: every licence and version of it) or a pattern over ids, SPDX ids and
family names (`cc-by-nc-*`, `openrail*`). A name that stands for nothing is refused with the closest
known names, because a misspelt deny list would otherwise never match and a gate would pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from auditor.errors import UsageError

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase, LicenceProfile


_PATTERN_CHARS = set("*?[")


def _profiles(kb: KnowledgeBase) -> Iterator[LicenceProfile]:
    try:
        yield from iter(kb)
    except TypeError:  # a knowledge base that can only look names up
        return


def _ids(profile: LicenceProfile) -> set[str]:
    return {profile.id.lower(), (getattr(profile, "spdx", None) or "").lower()} - {""}


def _family(profile: LicenceProfile) -> str:
    return (getattr(profile, "family", None) or "").lower()


def _families(wanted: str, kb: KnowledgeBase) -> set[str]:
    """The families `wanted` names: one spelt so, else the one family it starts ("stability" for
    stability-ai), never several ("meta" names none of meta-aup, meta-research...)."""
    families = {_family(profile) for profile in _profiles(kb)} - {""}
    if wanted in families:
        return {wanted}
    started = {family for family in families if family.startswith(wanted + "-")}
    return started if len(started) == 1 else set()


def licence_keys(name: str, kb: KnowledgeBase) -> set[str]:
    """The lower-case ids and SPDX ids `name` stands for; empty when it stands for none.

    A family covers every licence of it, every version ("llama" is LLaMA 1 to Llama 4; so is
    "openrail-m", which names the generic OpenRAIL profile heading its family); a pattern matches
    ids, SPDX ids and family names ("openrail*" covers BigScience OpenRAIL-M)."""
    wanted = name.strip().lower()
    profiles = list(_profiles(kb))
    if _PATTERN_CHARS & set(wanted):
        return {key for profile in profiles for key in _ids(profile)
                if any(fnmatchcase(k, wanted) for k in _ids(profile) | {_family(profile)} - {""})}
    families = _families(wanted, kb)
    profile = kb.lookup(name) if hasattr(kb, "lookup") else None
    keys: set[str] = set()
    if profile is not None:
        keys |= _ids(profile)
        if _family(profile) and _family(profile) == profile.id.lower():  # the profile heading a family: all of it
            families.add(_family(profile))
    return keys | {key for profile in profiles if _family(profile) in families for key in _ids(profile)}


def suggestions(name: str, candidates: Iterable[str], count: int = 3) -> list[str]:
    """The known names closest to a misspelt one, best first."""
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)  # the first spelling given (our id) wins
    return [by_lower[match] for match in difflib.get_close_matches(name.strip().lower(), list(by_lower), n=count, cutoff=0.6)]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """" (did you mean 'x' or 'y'?)" for the closest candidates, or "" when none is close."""
    close = suggestions(name, candidates)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def known_names(kb: KnowledgeBase) -> list[str]:
    """Every id, SPDX id, family and name of the knowledge base, for suggestions."""
    names: list[str] = []
    for profile in _profiles(kb):
        names += [profile.id, getattr(profile, "spdx", None) or "", getattr(profile, "family", None) or "", getattr(profile, "name", "")]
    return [name for name in dict.fromkeys(names) if name]


def check_licence_names(names: Iterable[str], kb: KnowledgeBase, where: str) -> tuple[str, ...]:
    """`names` unchanged when each stands for a known licence; else a UsageError with suggestions."""
    names = tuple(names)
    for name in names:
        if not licence_keys(name, kb):
            raise UsageError(
                f"{where}: unknown licence '{name}'{did_you_mean(name, known_names(kb))}; give an id, SPDX id, "
                "name or family the knowledge base knows (licences/*.yaml), or a pattern such as cc-by-nc-*"
            )
    return names


def check_allow_deny(allow: Iterable[str], deny: Iterable[str], where: str = "--{}") -> None:
    """Both licence lists of a policy checked against the shipped knowledge base; `where`
    formats the key into the option or input name the message names ("--{}", "input {}")."""
    allow, deny = tuple(allow), tuple(deny)
    if not (allow or deny):
        return
    from auditor.identify import load_knowledge_base

    kb = load_knowledge_base()
    check_licence_names(allow, kb, where.format("allow-licence"))
    check_licence_names(deny, kb, where.format("deny-licence"))
