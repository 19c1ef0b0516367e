"""The judge's one entry point: what the earlier stages read of a release in, one frozen Judgement out.

The release's own licences are assessed, the terms that govern its weights worked out (own
licences, card words, ancestors), then its components, the MOF checklist, the verdict and the
findings are each computed once from those, in that order. Nothing after the judge changes any
part of a judgement: the audit copies it into its result as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.findings import finding
from auditor.identify.expression import spdx_expression
from auditor.identify.unknown import with_read_licences
from auditor.judge.checks import release_findings
from auditor.judge.components import ReleaseContents, build_components, code_evidence
from auditor.judge.duties import Release, check_duties
from auditor.judge.effective import effective_terms, model_names
from auditor.judge.licences import assess_licences, card_section_terms, card_terms_findings
from auditor.judge.lineage import check_lineage
from auditor.judge.openness import Provenance, judge, mof_items, unchecked_bases, unverified_evidence
from auditor.judge.summaries import summarise_licences
from auditor.model import (
    Ancestor,
    Artefact,
    Category,
    Component,
    ComponentName,
    Finding,
    LicenceMatch,
    LicenceSummary,
    ModelCard,
    MofItem,
    ReleaseEvidence,
    RepoSnapshot,
    Severity,
    TermFact,
    Verdict,
    WeightSet,
)
from auditor.scan.release import ReleaseScan, hub_security_findings

if TYPE_CHECKING:
    from auditor.identify.kb import KnowledgeBase

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class ReleaseReading:
    """What the stages before the judge read of one release: its files, card, licences, scan and ancestors.

    `scan` is None when the weight files were not scanned; `lineage_findings` are what tracing
    the ancestors found (unreadable bases, cycles).
    """

    snapshot: RepoSnapshot
    card: ModelCard | None
    artefacts: tuple[Artefact, ...]
    weight_sets: tuple[WeightSet, ...]
    evidence: ReleaseEvidence
    matches: tuple[LicenceMatch, ...]
    scan: ReleaseScan | None = None
    lineage: tuple[Ancestor, ...] = ()
    lineage_findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Judgement:
    """Everything the judge decides of one release, decided once.

    `terms` are the weights' effective terms (fact key -> term); `components` follow them;
    `verdict` carries its provisional state; `findings` are ordered errors first, then
    warnings, then information, each group in the order the checks raised them.
    """

    terms: Mapping[str, TermFact]
    components: Mapping[ComponentName, Component]
    verdict: Verdict
    findings: tuple[Finding, ...]
    mof_items: tuple[MofItem, ...]
    licence_summaries: tuple[LicenceSummary, ...]


def judge_release(reading: ReleaseReading, kb: KnowledgeBase, *, lookups_verified: bool = True) -> Judgement:
    """Stage entry point: the one judgement of a release. `lookups_verified` is False when look-ups were off."""
    snapshot, card, artefacts, evidence, matches = reading.snapshot, reading.card, reading.artefacts, reading.evidence, reading.matches
    kb = with_read_licences(kb, matches)  # licences read from unknown texts weigh like known ones
    licence_files = tuple(a.path for a in artefacts if a.category is Category.LICENCE)
    card_path = (card.path if card else None) or "README.md"
    own = assess_licences(matches, kb, licence_files, snapshot.texts, _card_expression(card), card.body if card else "")
    names = model_names(snapshot.target.label, card.metadata if card else {}, snapshot.texts, reading.lineage)
    effective = effective_terms(own.weights, own.policies, reading.lineage, card_section_terms(card.body if card else ""), card_path, kb, names)
    licences = replace(own, weights=effective.terms)  # the verdict and components follow the effective terms
    code = code_evidence(artefacts, evidence, card)
    release = ReleaseContents(snapshot, card, artefacts, reading.weight_sets, evidence, code)
    components = build_components(release, licences, spdx_expression, kb, weights_notes=effective.notes)
    items = mof_items(release, components)
    provenance = Provenance(effective.notes, unverified_evidence(reading.lineage, evidence), lookups_verified, unchecked_bases(reading.lineage))
    verdict = judge(components, licences, code, items, gated=bool(snapshot.gated), derived_from=evidence.base_models, provenance=provenance)

    findings = list(own.findings)
    if card is not None:
        findings += card_terms_findings(card.body, card_path, own.weights)
    findings += release_findings(release, components)
    findings += reading.scan.findings if reading.scan is not None else hub_security_findings(snapshot.security)
    findings += reading.lineage_findings
    if verdict.provisional:
        findings.append(finding("verdict-provisional", "not checked: " + "; ".join(verdict.unverified), list(verdict.unverified)))
    findings += check_duties(_duties_release(snapshot, card, licence_files, matches), effective.bindings, reading.lineage, evidence, kb)
    findings += check_lineage({a.repo_id: a.licences for a in reading.lineage if a.licences}, [m.id for m in own.weights.matches], kb)
    findings.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
    return Judgement(
        terms=effective.facts,
        components=components,
        verdict=verdict,
        findings=tuple(findings),
        mof_items=items,
        licence_summaries=summarise_licences(matches, kb),
    )


def _duties_release(snapshot: RepoSnapshot, card: ModelCard | None, licence_files: tuple[str, ...], matches: tuple[LicenceMatch, ...]) -> Release:
    """What the duty checks read of the release: its name, files, licence texts and card."""
    target = snapshot.target
    name = (target.repo_id or "").rsplit("/", 1)[-1] or Path(target.path or ".").resolve().name
    return Release(
        name=name, files=tuple(f.path for f in snapshot.files), licence_files=licence_files, texts=snapshot.texts,
        matches=matches, card_text=card.body if card else "",
    )


def _card_expression(card: ModelCard | None) -> str | None:
    """The card's `license:` value as one expression (a list is a conjunction)."""
    if card is None:
        return None
    value = card.metadata.get("license")
    if isinstance(value, list):
        return " AND ".join(str(v) for v in value)
    return str(value) if value is not None else None
