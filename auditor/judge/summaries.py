"""What the knowledge base says of each licence found, for people deciding what they may do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.model import LicenceFact, LicenceMatch, LicenceSummary

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase, LicenceProfile


def summarise_licences(matches: tuple[LicenceMatch, ...], kb: KnowledgeBase) -> tuple[LicenceSummary, ...]:
    """The knowledge base's facts for every known licence found, in order of first appearance."""
    summaries = []
    read = {m.id: m for m in matches if m.unidentified}
    for licence_id in dict.fromkeys(m.id for m in matches):
        profile = kb.get(licence_id)
        if profile is None:
            if licence_id in read:  # read from an unknown text, its facts settling no category
                match = read[licence_id]
                summaries.append(LicenceSummary(id=match.id, name=match.name, spdx=match.spdx, category="unknown",
                                                osi_approved=False, facts=match.facts, unidentified=True))
            continue
        facts = tuple(fact for name, fact in profile.facts.items() if _worth_saying(profile, name, fact))
        summaries.append(LicenceSummary(
            id=profile.id,
            name=profile.name,
            spdx=profile.spdx,
            category=getattr(profile.category, "value", profile.category),
            osi_approved=bool(profile.osi_approved),
            facts=facts,
            url=(profile.urls[0] if profile.urls else None),
            unidentified=profile.unidentified,
        ))
    return tuple(summaries)


def _worth_saying(profile: LicenceProfile, name: str, fact: LicenceFact | None) -> bool:
    """Empty facts say nothing; a policy grants nothing, so only its restrictions are facts about it."""
    if fact is None or fact.value in (None, "", "None"):
        return False
    if getattr(profile.kind, "value", profile.kind) == "policy":
        return str(fact.value).lower() not in ("no", "false") and name != "commercial_use"
    return True
