"""The verdict: the plain openness taxonomy, the Model Openness Framework class and OSAID 1.0.

open-source needs open weights plus training code and training-data information (OSAID's
three parts); open-weights has the first only. Restrictive licences place a release on the
lower rungs whatever else it ships; gated access is reported beside the verdict, not in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from auditor.judge.components import CodeEvidence, ReleaseContents
from auditor.judge.licences import LicenceAssessment, TermsLevel
from auditor.model import (
    Ancestor,
    AncestorStatus,
    Category,
    Component,
    ComponentName,
    MofClass,
    MofItem,
    Openness,
    OsaidStatus,
    ReleaseEvidence,
    Verdict,
)

_LEVEL_VERDICT = {
    TermsLevel.RESTRICTED: Openness.RESTRICTED_WEIGHTS,
    TermsLevel.NON_COMMERCIAL: Openness.NON_COMMERCIAL,
    TermsLevel.NO_RIGHTS: Openness.NOT_OPEN,
    TermsLevel.NONE: Openness.NOT_OPEN,
    TermsLevel.UNKNOWN: Openness.UNKNOWN,
}


def mof_items(release: ReleaseContents, components: Mapping[ComponentName, Component]) -> tuple[MofItem, ...]:
    """The MOF checklist items, each met or not, from what the release holds."""
    artefacts, evidence, code = release.artefacts, release.evidence, release.code
    weights = components[ComponentName.WEIGHTS]
    architecture = any(a.path.rsplit("/", 1)[-1] in ("config.json", "model_index.json", "params.json") for a in artefacts) or any(
        a.category is Category.CODE for a in artefacts
    )
    card = any(a.format == "model-card" for a in artefacts)
    data = components[ComponentName.TRAINING_DATA]
    return (
        MofItem(MofClass.CLASS_III, "model architecture", architecture),
        MofItem(MofClass.CLASS_III, "final parameters under an open licence", bool(weights.present and weights.open)),
        MofItem(MofClass.CLASS_III, "model card", card),
        MofItem(MofClass.CLASS_III, "evaluation results", evidence.evaluation_results),
        MofItem(MofClass.CLASS_III, "data card (training data described)", evidence.data_description or bool(evidence.datasets)),
        MofItem(MofClass.CLASS_II, "training code", bool(code.training)),
        MofItem(MofClass.CLASS_II, "inference code", bool(code.inference)),
        MofItem(MofClass.CLASS_II, "evaluation code", bool(code.evaluation)),
        MofItem(MofClass.CLASS_I, "research paper", bool(evidence.papers)),
        MofItem(MofClass.CLASS_I, "training datasets", data.present),
        MofItem(MofClass.CLASS_I, "data preprocessing code", bool(code.data_processing)),
        MofItem(MofClass.CLASS_I, "intermediate checkpoints", evidence.intermediate_checkpoints),
    )


def mof_class(items: tuple[MofItem, ...]) -> MofClass | None:
    """The MOF class reached: III, then II, then I while every item of each is met; None when III is not."""
    achieved = None
    for level in (MofClass.CLASS_III, MofClass.CLASS_II, MofClass.CLASS_I):
        if all(item.met for item in items if item.mof_class is level):
            achieved = level
        else:
            break
    return achieved


@dataclass(frozen=True)
class Provenance:
    """Where the verdict's evidence comes from and how far it was checked.

    `notes` say where the binding terms come from (effective terms); `unverified` what the
    verdict rests on but could not be checked; `lookups_verified` whether look-ups were on;
    `bases_unverified` whether an ancestor that may bind the release went unchecked.
    """

    notes: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()
    lookups_verified: bool = True
    bases_unverified: bool = False


def judge(
    components: Mapping[ComponentName, Component],
    licences: LicenceAssessment,
    code: CodeEvidence,
    items: tuple[MofItem, ...],
    gated: bool,
    derived_from: tuple[str, ...] = (),
    provenance: Provenance = Provenance(),
) -> Verdict:
    """Stage entry point: the verdict (taxonomy, OSAID, MOF class) with its reasons, marked provisional when evidence went unchecked.

    Open is never claimed while a base model whose licence may bind the release could not be
    checked; open source never while look-ups were off.
    """
    weights = components[ComponentName.WEIGHTS]
    openness, reasons, improvements = _standing(components, licences, code, derived_from)
    osaid = {Openness.OPEN_SOURCE: OsaidStatus.MEETS, Openness.UNKNOWN: OsaidStatus.UNKNOWN}.get(openness, OsaidStatus.FAILS)
    achieved = mof_class(items) if weights.open else None
    next_class = [i.label for i in items if not i.met]
    if achieved is not MofClass.CLASS_I and next_class and weights.open:
        improvements.append("for a higher MOF class: " + ", ".join(next_class))
    if gated:
        reasons.append("access is gated: users must accept terms on the Hub before downloading")
    reasons[1:1] = provenance.notes  # where the binding terms come from, right after what they are
    unverified = provenance.unverified
    if provenance.bases_unverified and openness in (Openness.OPEN_SOURCE, Openness.OPEN_WEIGHTS):
        openness, osaid = Openness.UNKNOWN, OsaidStatus.UNKNOWN
        reasons.append("not claimed open: a base model's licence could not be checked, and it may bind this release")
    elif unverified and openness is Openness.OPEN_SOURCE and not provenance.lookups_verified:
        openness, osaid = Openness.OPEN_WEIGHTS, OsaidStatus.UNKNOWN
        reasons.append("open source cannot be claimed on evidence that was not checked")
    if unverified:
        shown = "; ".join(unverified[:5]) + (f"; and {len(unverified) - 5} more" if len(unverified) > 5 else "")
        reasons.append(f"provisional: not checked: {shown}")
        improvements.append("audit again with look-ups on (online, --check-links) to verify what is marked not checked")
    return Verdict(
        openness=openness,
        mof_class=achieved,
        osaid=osaid,
        gated=gated,
        reasons=tuple(reasons),
        improvements=tuple(dict.fromkeys(improvements)),
        unverified=unverified,
    )


def _standing(
    components: Mapping[ComponentName, Component], licences: LicenceAssessment, code: CodeEvidence, derived_from: tuple[str, ...],
) -> tuple[Openness, list[str], list[str]]:
    """Where the release stands on its terms and contents alone: the taxonomy, why, and what would raise it."""
    weights = components[ComponentName.WEIGHTS]
    data = components[ComponentName.TRAINING_DATA]
    reasons: list[str] = []
    improvements: list[str] = []
    level = licences.weights.level
    names = ", ".join(dict.fromkeys(m.name for m in licences.weights.matches)) or "no identified licence"

    if not weights.present:
        openness = Openness.NOT_OPEN
        reasons.append("no weights in the release")
        improvements.append("publish the weights")
    elif level is TermsLevel.OPEN:
        reasons.append(f"weights under an open licence ({names})")
        missing = []
        if not code.training:
            missing.append("training code")
        if not data.present:
            missing.append("training data (shipped, or public datasets named precisely)")
        elif data.open is False:
            missing.append("training data under open terms (a named dataset's licence is not open)")
        if licences.code.level not in (TermsLevel.OPEN, TermsLevel.NONE) or components[ComponentName.CODE].open is False:
            missing.append("code under an OSI-approved licence")
        if missing:
            openness = Openness.OPEN_WEIGHTS
            reasons.append("missing for open source: " + "; ".join(missing))
            improvements.extend(f"release {m}" for m in missing)
        else:
            openness = Openness.OPEN_SOURCE
            reasons.append("training code and training data information are released")
            if derived_from:
                reasons.append(f"derived from {', '.join(derived_from)}: the base model's own training data and code are not checked here")
    else:
        openness = _LEVEL_VERDICT[level]
        reasons.append(_level_reason(level, names, licences.weights.clauses))
        if level is TermsLevel.UNKNOWN:
            improvements.append("name the licence in the card (license / license_name) and ship its text as LICENSE")
        elif level is TermsLevel.NONE:
            improvements.append("add a licence: without one, all rights are reserved")
        else:
            improvements.append("release the weights under an open licence (OSI-approved or open data terms)")
    return openness, reasons, improvements


def _level_reason(level: TermsLevel, names: str, clauses: tuple[str, ...]) -> str:
    detail = f" (terms read in the text: {', '.join(clauses)})" if clauses else ""
    return {
        TermsLevel.RESTRICTED: f"weights licensed with conditions or use restrictions: {names}{detail}",
        TermsLevel.NON_COMMERCIAL: f"weights for non-commercial or research use only: {names}{detail}",
        TermsLevel.NO_RIGHTS: f"the licence grants no open rights: {names}",
        TermsLevel.NONE: "no licence anywhere: all rights reserved",
        TermsLevel.UNKNOWN: "weights present but the licence cannot be identified",
    }[level]


def unverified_evidence(lineage: Iterable[Ancestor], evidence: ReleaseEvidence) -> tuple[str, ...]:
    """What the verdict rests on but could not be checked: base models, named datasets, linked code."""
    items = [f"base model {a.repo_id} ({a.reason}" + (f"; licence inferred from its id: {', '.join(a.licences)})" if a.licences else ")")
             for a in lineage if a.status in (AncestorStatus.UNREADABLE, AncestorStatus.TOO_DEEP)]
    items += [f"dataset {name}" for name in evidence.datasets if name not in evidence.dataset_licences]
    items += [f"linked code {link.url}" for link in evidence.code_links if link.purposes and not link.library and link.licence is None]
    return tuple(items)


def unchecked_bases(lineage: Iterable[Ancestor]) -> bool:
    """Whether an ancestor that may bind the release went unchecked: unreadable or beyond the
    depth followed, with no licence inferred for it."""
    return any(a.status in (AncestorStatus.UNREADABLE, AncestorStatus.TOO_DEEP) and not a.licences for a in lineage)
