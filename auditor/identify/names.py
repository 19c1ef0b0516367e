"""Licence names, one home for them: splitting expressions, comparing names, "no licence" words,
`LicenseRef-` ids, and a match built from a profile.

Card metadata, SPDX tags in texts, GGUF headers, SPDX expressions and the knowledge base's
look-ups all read licence names; they read them here, so they agree on what a name means.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from auditor.model import LicenceKind, LicenceMatch, MatchMethod

if TYPE_CHECKING:
    from auditor.identify.kb import LicenceProfile

# What a licence field says when it names no licence: nothing to identify, nothing to compare.
NO_LICENCE = frozenset({"", "other", "unknown", "none", "noassertion"})

_OPERATORS = re.compile(r"\s+(?:and|or|with)\s+|[()]", re.IGNORECASE)
_OPERATORS_OR_COMMAS = re.compile(r"\s+(?:and|or|with)\s+|[()]|\s*,\s*", re.IGNORECASE)
_REF_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")  # what an SPDX LicenseRef- id may not hold
_ID_WORD = re.compile(r"[A-Za-z0-9]+(?:\.[0-9]+)*")  # the words of a title that make its LicenseRef- id

# Words that carry no identity in a licence name ("Apache License, Version 2.0" = "apache 2").
_NAME_FILLER = {"the", "license", "licence", "licensed", "version", "v", "agreement", "ver"}
_NAME_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*|\+")


def split_expression(text: str, *, commas: bool = False) -> list[str]:
    """The licence names of an expression: split at AND, OR, WITH (any case) and parentheses,
    and at commas too when `commas` (card metadata lists names so); parts stripped, empty ones dropped."""
    pattern = _OPERATORS_OR_COMMAS if commas else _OPERATORS
    return [part.strip() for part in pattern.split(text) if part and part.strip()]


def names_a_licence(name: str) -> bool:
    """False for the words that name no licence ("other", "unknown", "none", "NOASSERTION", "")."""
    return name.strip().lower() not in NO_LICENCE


def name_key(name: str) -> str:
    """The form names are compared in: case, spacing, punctuation and filler words ignored."""
    text = str(name).lower().strip()
    for prefix in ("licenseref-scancode-", "licenseref-"):
        if text.startswith(prefix):
            text = text[len(prefix):]
            break
    parts = []
    for token in _NAME_TOKEN.findall(text):
        if token in _NAME_FILLER:
            continue
        if token[0] == "v" and token[1:2].isdigit():  # "v2" -> "2"
            token = token[1:]
        token = re.sub(r"(\d)(?:\.0)+$", r"\1", token)  # "2.0" -> "2", "3.1" stays
        parts.append(token)
    return " ".join(parts)


def same_licence_name(a: str, b: str) -> bool:
    """Whether two names, neither looked up, name the same licence.

    A longer name that only adds words ("llama3.1" vs "Llama 3.1 Community") is the same
    licence; one that adds a version ("gpl" vs "gpl-3.0") or a digit ("mit" vs "mit-0") is not.
    """
    short, long = sorted((name_key(a).replace(" ", ""), name_key(b).replace(" ", "")), key=len)
    return bool(short) and long.startswith(short) and (len(long) == len(short) or long[len(short)].isalpha())


def licence_ref(name: str) -> str:
    """An SPDX `LicenseRef-` id for a licence SPDX has no id for, made from its name or id."""
    return "LicenseRef-" + (_REF_UNSAFE.sub("-", name).strip("-") or "unknown")


def title_licence_ref(title: str) -> str:
    """A stable SPDX LicenseRef id made from a licence's own title, for a licence the knowledge
    base does not know ("The Foo Model License v1.0" -> LicenseRef-foo-model-license-v1.0)."""
    words = _ID_WORD.findall(title)
    if words and words[0].lower() == "the":
        words = words[1:]
    slug = "-".join(w.lower() for w in words)[:64].strip("-.")
    if not re.search(r"[a-z]", slug):
        slug = "unnamed-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:10]
    return f"LicenseRef-{slug}"


def match_from_profile(profile: LicenceProfile, source: str, confidence: float, method: MatchMethod,
                       span: tuple[int, int] | None = None, kind: LicenceKind | None = None,
                       modified: bool = False, changes: str | None = None) -> LicenceMatch:
    """A match of a known licence: the profile's id, name, SPDX id and kind (unless `kind` says otherwise)."""
    return LicenceMatch(
        id=profile.id, name=profile.name, spdx=profile.spdx, kind=kind or profile.kind, source=source,
        confidence=round(confidence, 2), method=method, modified=modified, span=span, changes=changes,
    )
