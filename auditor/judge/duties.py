"""The publisher's duties under the licences that govern the weights, checked against the release.

Is the licence text shipped where the licence requires it, with a real copyright notice; are
the base models' NOTICE files carried over; is the naming duty met; are CC-BY datasets
credited? Each unmet duty is a finding quoting the clause that imposes it (duties.yaml).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.findings import finding
from auditor.judge.effective import Binding
from auditor.judge.tables import rule_table
from auditor.model import Ancestor, AncestorStatus, Finding, LicenceMatch, ReleaseEvidence

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase


_COPYRIGHT = re.compile(r"copyright\s*(\(c\)|©)?\s*(\d{4}|[a-z])", re.I)
_NOT_A_LICENCE = re.compile(r"^notice|polic|acceptable", re.I)  # notices and use policies never carry a licence's text
_PLACEHOLDER = re.compile(r"<\s*(year|copyright holders?|owner|name)\s*>|\[(year|fullname|name of copyright owner)\]|\{\{", re.I)


def _rules() -> Mapping[str, Any]:
    return rule_table("duties.yaml")


@dataclass(frozen=True)
class Release:
    """What the duty checks look at in the release itself."""

    name: str  # the model's name: the repo id's last part, or the checkout's folder
    files: tuple[str, ...]
    licence_files: tuple[str, ...]
    texts: Mapping[str, str]
    matches: tuple[LicenceMatch, ...]  # its own licence matches
    card_text: str


def check_duties(release: Release, bindings: Iterable[Binding], lineage: Iterable[Ancestor], evidence: ReleaseEvidence, kb: KnowledgeBase) -> list[Finding]:
    """One finding per unmet duty of the licences that govern the weights (all their terms bind)."""
    families: dict[str, tuple[str, str]] = {}  # family -> (licence name, why it governs)
    for binding in bindings:
        profile = kb.get(binding.licence_id)
        if profile is not None and binding.keys is None:
            families.setdefault(profile.family or profile.id, (profile.name, binding.because))
    lineage = tuple(lineage)
    found = _licence_text(release, families, kb)
    found += _copyright(release, families, kb)
    found += _notices(release, lineage, kb)
    found += _naming(release, families, lineage)
    found += _dataset_credit(release, evidence, kb)
    return found


def _shipped_families(release: Release, kb: KnowledgeBase) -> set[str]:
    shipped = set()
    for match in release.matches:
        profile = kb.get(match.id)
        if profile is not None and not match.source.startswith("card:"):
            shipped.add(profile.family or profile.id)
    return shipped


def _licence_text(release: Release, families: Mapping[str, tuple[str, str]], kb: KnowledgeBase) -> list[Finding]:
    rules = _rules()["licence_text"]
    identified = {m.source for m in release.matches}
    # a licence file that could not be read or identified may well be the text: no claim either way
    undecided = [p for p in release.licence_files if (p not in release.texts or p not in identified) and not _NOT_A_LICENCE.search(posixpath.basename(p))]
    if undecided:
        return []
    shipped = _shipped_families(release, kb)
    found = []
    for family, (name, because) in families.items():
        if family in rules and family not in shipped:
            found.append(finding("licence-text-missing", f"{name} governs the weights ({because}) and requires its text with every copy: "
                                 f"“{rules[family]}”; no licence file carries it", ["card:license"]))
    return found


def _copyright(release: Release, families: Mapping[str, tuple[str, str]], kb: KnowledgeBase) -> list[Finding]:
    rules = _rules()["copyright_notice"]
    found = []
    for match in release.matches:
        profile = kb.get(match.id)
        family = (profile.family or profile.id) if profile else None
        text = release.texts.get(match.source)
        if profile is None or family not in rules or family not in families or text is None:
            continue
        if not _COPYRIGHT.search(text) or _PLACEHOLDER.search(text):
            found.append(finding("copyright-notice-missing", f"{match.source}: the {profile.name} text has no copyright notice naming its holder: "
                                 f"“{rules[family]}”", [match.source]))
    return list({f.message: f for f in found}.values())


def _notices(release: Release, lineage: tuple[Ancestor, ...], kb: KnowledgeBase) -> list[Finding]:
    """A base model's NOTICE, when its licence makes derivatives carry it, must be in the release too."""
    rules = _rules()["notice_carry_over"]
    if any(posixpath.basename(p).upper().startswith("NOTICE") for p in release.files):
        return []
    found = []
    for ancestor in lineage:
        if ancestor.status is not AncestorStatus.CHECKED or not ancestor.notices:
            continue
        families = [(p.family or p.id) for p in (kb.get(i) for i in ancestor.licences) if p is not None]
        clause = next((rules[f] for f in families if f in rules), None)
        if clause:
            found.append(finding("notice-not-carried-over", f"{ancestor.repo_id} ships {', '.join(ancestor.notices)}, which this derivative "
                                 f"does not carry: “{clause}”", [f"base:{ancestor.repo_id}"]))
    return found


def _naming(release: Release, families: Mapping[str, tuple[str, str]], lineage: tuple[Ancestor, ...]) -> list[Finding]:
    rules = _rules()["naming"]
    makes_new_model = not lineage or any(a.depth == 1 and a.relation in _rules()["new_model_relations"] for a in lineage)
    found = []
    for family, (name, because) in families.items():
        rule = rules.get(family)
        if not rule or not makes_new_model:
            continue
        if rule["word"] in release.name.lower() or rule["also"] in release.card_text.lower():
            continue
        found.append(finding("naming-duty-unmet", f"{name} ({because}) requires derivatives to carry its name, but '{release.name}' "
                             f"does not: “{rule['clause']}”", ["card"]))
    return found


def _dataset_credit(release: Release, evidence: ReleaseEvidence, kb: KnowledgeBase) -> list[Finding]:
    rules = _rules()["dataset_attribution"]
    body = release.card_text.lower()
    found = []
    for dataset, licence_ids in evidence.dataset_licences.items():
        for licence_id in licence_ids:
            profile = kb.lookup(licence_id) or kb.get(licence_id)
            family = (profile.family or profile.id) if profile else None
            if profile is not None and family in rules and dataset.lower().rsplit("/", 1)[-1] not in body:
                found.append(finding("dataset-attribution-missing", f"the dataset {dataset} is under {profile.name}, and the card does not credit it: "
                                     f"“{rules[family]}”", [f"dataset:{dataset}"]))
                break
    return found
