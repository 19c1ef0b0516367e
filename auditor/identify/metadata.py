"""Licences a model card declares: its `license` metadata, and licence texts pasted into its body.

`license` may be a Hub licence id, an SPDX expression ("apache-2.0 OR mit") or a list of
either; each name in it is looked up in the knowledge base (source "card:license"). `other`
and `unknown` name nothing and give no match: the caller still sees card.metadata. A
`license_name` (used with `license: other`) the knowledge base does not know, or any other
unknown identifier, comes back as a low-confidence (0.3) match whose id is that name and
whose spdx is LicenseRef-<name>, so the report can show what the card claims. A
`license_link` that is one of a profile's URLs names that profile ("card:license_link").
Tags "license:<id>" count as well ("card:tags"). One match per licence id, card fields first.

identify_readme_sections keeps only full licence texts found in the card body (exact or
similarity matches), not mere mentions; their spans count lines of the body, after the
front matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from auditor.identify.engine import identify_text
from auditor.identify.kb import KnowledgeBase
from auditor.identify.names import licence_ref, match_from_profile, names_a_licence, split_expression
from auditor.identify.phrases import profile_for_url
from auditor.model import LicenceKind, LicenceMatch, MatchMethod, ModelCard

UNKNOWN_CONFIDENCE = 0.3
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+\-]{0,80}$")


def _names(value: Any) -> list[str]:
    values = value if isinstance(value, (list, tuple)) else [value]
    names: list[str] = []
    for item in values:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            names.extend(split_expression(str(item), commas=True))
    return names


def _unknown(name: str, source: str) -> LicenceMatch:
    return LicenceMatch(
        id=name, name=name, spdx=licence_ref(name), kind=LicenceKind.LICENCE, source=source,
        confidence=UNKNOWN_CONFIDENCE, method=MatchMethod.METADATA,
    )


def _from_names(names: Iterable[str], source: str, kb: KnowledgeBase) -> list[LicenceMatch]:
    found = []
    for name in names:
        if not names_a_licence(name):
            continue
        profile = kb.lookup(name)
        if profile is not None:
            found.append(match_from_profile(profile, source, 1.0, MatchMethod.METADATA))
        elif _IDENTIFIER.match(name):
            found.append(_unknown(name, source))
    return found


def identify_card_licences(card: ModelCard, kb: KnowledgeBase) -> tuple[LicenceMatch, ...]:
    """The licences the card's metadata declares."""
    meta = card.metadata if isinstance(card.metadata, dict) else {}
    found = _from_names(_names(meta.get("license")), "card:license", kb)
    name = meta.get("license_name")
    if isinstance(name, str) and name.strip():
        found.extend(_from_names([name.strip()], "card:license_name", kb))
    link = meta.get("license_link")
    if isinstance(link, str) and link.strip():
        profile = profile_for_url(link, kb)
        if profile is not None:
            found.extend(_from_names([profile.id], "card:license_link", kb))
    tags = meta.get("tags")
    if isinstance(tags, (list, tuple)):
        tagged = [t.split(":", 1)[1] for t in tags if isinstance(t, str) and t.lower().startswith("license:")]
        found.extend(_from_names(tagged, "card:tags", kb))
    unique: dict[str, LicenceMatch] = {}
    for match in found:
        unique.setdefault(match.id, match)
    return tuple(unique.values())


def identify_gguf_licences(path: str, facts: Mapping[str, Any], kb: KnowledgeBase) -> tuple[LicenceMatch, ...]:
    """The licences a GGUF file's header declares (general.license, general.license.name): the file's own
    word on its terms, for a release that has no card to say it."""
    names = _names(facts.get("license")) or _names(facts.get("license_name"))
    return tuple({m.id: m for m in _from_names(names, f"{path}:general.license", kb)}.values())


def identify_readme_sections(card: ModelCard, kb: KnowledgeBase) -> tuple[LicenceMatch, ...]:
    """Full licence texts pasted into the card's body."""
    if not card.body or not isinstance(card.body, str):
        return ()
    source = card.path or "README.md"
    shift = card.body_line - 1  # spans count body lines; the report cites file lines
    return tuple(
        replace(m, span=(m.span[0] + shift, m.span[1] + shift) if m.span else None)
        for m in identify_text(card.body, source, kb)
        if m.method in (MatchMethod.EXACT, MatchMethod.SIMILARITY)
    )
