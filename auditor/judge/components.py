"""The release's components (weights, code, training data, documentation) from the evidence.

Each component says whether it is present, where (files in the repo or linked URLs), under
which licence, and whether that licence is open. Linked code and named datasets live
outside the repository, so their licences are reported as not verified rather than guessed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.judge.licences import LicenceAssessment, Terms, TermsLevel, profile_level
from auditor.model import (
    Artefact,
    Category,
    Component,
    ComponentName,
    ModelCard,
    Purpose,
    ReleaseEvidence,
    RepoSnapshot,
    WeightSet,
)

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase


_TRAINING_SCRIPT = re.compile(r"(^|/)(train|training|finetune|fine_tune|pretrain|sft|dpo|rlhf)[\w-]*\.(py|sh|ipynb)$", re.I)
_PREPROCESSING_SCRIPT = re.compile(r"(^|/)(prepare|preprocess|process|tokeni[sz]e|dedup|filter)[\w-]*\.(py|sh)$", re.I)
_EVAL_SCRIPT = re.compile(r"(^|/)(eval|evaluate|benchmark)[\w-]*\.(py|sh|ipynb)$", re.I)


@dataclass(frozen=True)
class CodeEvidence:
    """Which kinds of code the release ships or links, by purpose."""

    shipped: tuple[str, ...]
    training: tuple[str, ...]
    inference: tuple[str, ...]
    evaluation: tuple[str, ...]
    data_processing: tuple[str, ...]


@dataclass(frozen=True)
class ReleaseContents:
    """What the release holds, built once per audit after classification, scans and look-ups; the judge stages read it."""

    snapshot: RepoSnapshot
    card: ModelCard | None
    artefacts: tuple[Artefact, ...]
    weight_sets: tuple[WeightSet, ...]
    evidence: ReleaseEvidence
    code: CodeEvidence


def code_evidence(artefacts: Iterable[Artefact], evidence: ReleaseEvidence, card: ModelCard | None) -> CodeEvidence:
    """Where training and inference code is: shipped files or links the card gives."""
    shipped = tuple(a.path for a in artefacts if a.category is Category.CODE)

    def linked(purpose: Purpose) -> tuple[str, ...]:
        # general-purpose libraries run or train many models; they are not this release's code
        return tuple(link.url for link in evidence.code_links if purpose in link.purposes and not link.library)

    def scripts(pattern: re.Pattern[str]) -> tuple[str, ...]:
        return tuple(path for path in shipped if pattern.search(path))

    # a card's library_name (transformers, diffusers) names what loads the model, not code the release ships
    inference = tuple(p for p in shipped if p.endswith(".py")) + linked(Purpose.INFERENCE)
    return CodeEvidence(
        shipped=shipped,
        training=scripts(_TRAINING_SCRIPT) + linked(Purpose.TRAINING),
        inference=inference,
        evaluation=scripts(_EVAL_SCRIPT) + linked(Purpose.EVALUATION),
        data_processing=scripts(_PREPROCESSING_SCRIPT) + linked(Purpose.DATA_PROCESSING),
    )


def build_components(
    release: ReleaseContents,
    licences: LicenceAssessment,
    expression: Callable[[Iterable[Any]], str | None],
    kb: KnowledgeBase,
    weights_notes: tuple[str, ...] = (),
) -> dict[ComponentName, Component]:
    """Stage entry point: each component (weights, code, data, docs) with its presence and licence.

    `weights_notes` say where the weights' binding terms come from (the effective terms).
    """
    artefacts, weight_sets, evidence, code = release.artefacts, release.weight_sets, release.evidence, release.code
    linked = linked_code_licences(evidence, kb)
    datasets = dataset_licences(evidence, kb)
    weights_licence = expression(licences.weights.matches) if licences.weights.matches else None
    code_terms = licences.code if licences.code.level is not TermsLevel.NONE else licences.weights

    data_files = tuple(a.path for a in artefacts if a.category is Category.TRAINING_DATA)
    docs = tuple(a.path for a in artefacts if a.category is Category.DOCUMENTATION and a.format == "model-card")
    return {
        ComponentName.WEIGHTS: Component(
            name=ComponentName.WEIGHTS,
            present=bool(weight_sets),
            files=tuple(f for s in weight_sets for f in s.files),
            licence=weights_licence,
            open=_is_open(licences.weights) if weight_sets else None,
            notes=tuple(f"{s.name}: {s.format}, {len(s.files)} file(s)" + (" (adapter)" if s.adapter else "") for s in weight_sets)
            + weights_notes,
        ),
        ComponentName.CODE: Component(
            name=ComponentName.CODE,
            present=bool(code.shipped or code.training or code.inference),
            files=code.shipped + tuple(u for u in dict.fromkeys(code.training + code.inference + code.evaluation) if u.startswith("http")),
            licence=(expression(code_terms.matches) if code.shipped and code_terms.matches else linked.expression),
            open=_is_open(code_terms) if code.shipped else linked.open,
            notes=_code_notes(code) + linked.notes,
        ),
        ComponentName.TRAINING_DATA: Component(
            name=ComponentName.TRAINING_DATA,
            present=bool(data_files or evidence.datasets),
            files=data_files + tuple(evidence.datasets),
            licence=weights_licence if data_files else datasets.expression,
            open=_is_open(licences.weights) if data_files else datasets.open,
            notes=datasets.notes + (("the card describes the training data",) if evidence.data_description else ()),
        ),
        ComponentName.DOCUMENTATION: Component(
            name=ComponentName.DOCUMENTATION,
            present=bool(docs or evidence.papers),
            files=docs + evidence.papers,
            notes=(("model card",) if docs else ()) + tuple(f"paper: {p}" for p in evidence.papers),
        ),
    }


@dataclass(frozen=True)
class LinkedLicences:
    """What the licences of linked code repositories say, where their host reported them."""

    expression: str | None
    open: bool | None  # False if any is not OSI-approved; True if all are; None if any is unknown
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Checked:
    """One linked thing (a code repository, a dataset) and what its licence look-up found."""

    name: str
    verdict: bool | None  # open? None: not verified
    spdx: tuple[str, ...] = ()
    note: str = ""


def _combine(checked: list[_Checked]) -> LinkedLicences:
    """Open when every one is, not open when any is not, unknown otherwise; notes name the unverified."""
    if not checked:
        return LinkedLicences(None, None, ())
    notes = [c.note for c in checked if c.verdict is not None]
    unverified = [c.name for c in checked if c.verdict is None]
    if unverified:
        notes.append(f"licence not verified: {', '.join(unverified)}")
    verdicts = [c.verdict for c in checked]
    opened = False if False in verdicts else (True if all(verdicts) else None)
    ids = [spdx for c in checked for spdx in c.spdx]
    return LinkedLicences(" AND ".join(dict.fromkeys(ids)) or None, opened, tuple(notes))


def linked_code_licences(evidence: ReleaseEvidence, kb: KnowledgeBase) -> LinkedLicences:
    """What the code host says of each repository linked as this model's code: open when OSI-approved."""
    checked = []
    for link in evidence.code_links:
        if not link.purposes or link.library:
            continue
        name = link.url.split("://", 1)[-1]
        if link.licence is None:
            checked.append(_Checked(name, None))
            continue
        profile = kb.lookup(link.licence) if link.licence != "none" else None
        approved = bool(profile and profile.osi_approved)
        said = profile.spdx if profile else ("no licence" if link.licence == "none" else link.licence)
        note = f"{link.url}: {said} per its host" + ("" if approved else " (not OSI-approved)")
        checked.append(_Checked(name, approved, (profile.spdx,) if profile else (), note))
    return _combine(checked)


def dataset_licences(evidence: ReleaseEvidence, kb: KnowledgeBase) -> LinkedLicences:
    """What the named datasets' own cards declare: open when every one is under open terms."""
    checked = []
    for name in evidence.datasets:
        profiles = [p for p in (kb.lookup(i) for i in evidence.dataset_licences.get(name) or ()) if p is not None]
        if not profiles:
            checked.append(_Checked(name, None))
            continue
        opened = all(profile_level(p) is TermsLevel.OPEN for p in profiles)
        spdx = tuple(p.spdx for p in profiles)
        checked.append(_Checked(name, opened, spdx, f"{name}: {', '.join(spdx)} per its card" + ("" if opened else " (not open)")))
    return _combine(checked)


def _is_open(terms: Terms) -> bool | None:
    if terms.level is TermsLevel.OPEN:
        return True
    if terms.level in (TermsLevel.UNKNOWN,):
        return None
    return False


def _code_notes(code: CodeEvidence) -> tuple[str, ...]:
    notes = []
    for label, items in (("training", code.training), ("inference", code.inference), ("evaluation", code.evaluation), ("data processing", code.data_processing)):
        if items:
            notes.append(f"{label}: {', '.join(posixpath.basename(i) if not i.startswith('http') else i for i in items[:4])}")
    return tuple(notes)
