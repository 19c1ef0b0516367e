"""Run the pipeline for one target: fetch -> classify -> identify -> judge, into an AuditResult.

The source is injected, so the same Auditor audits Hub repos and local checkouts, and tests
can hand it any RepoSource. Only the source does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from auditor.card import card_from_snapshot
from auditor.classify.classifier import classify, group_weights
from auditor.classify.evidence import gather_evidence
from auditor.findings import finding
from auditor.identify import (
    Fact,
    KnowledgeBase,
    LicenceIdentifier,
    LicenceProfile,
    identify_card_licences,
    identify_readme_sections,
    identify_text,
    spdx_expression,
)
from auditor.identify.unknown import with_read_licences
from auditor.judge.checks import release_findings
from auditor.judge.components import ReleaseContents, build_components, code_evidence
from auditor.judge.duties import Release, check_duties
from auditor.judge.effective import effective_terms
from auditor.judge.licences import assess_licences, card_section_terms, card_terms_findings
from auditor.judge.lineage import check_lineage, release_links, trace_lineage
from auditor.judge.openness import judge, mof_items, unchecked_bases, unverified_evidence, with_effective_terms
from auditor.model import (
    Ancestor,
    Artefact,
    AuditResult,
    Category,
    ComponentName,
    Finding,
    LicenceFact,
    LicenceMatch,
    LicenceSummary,
    ModelCard,
    ReleaseEvidence,
    RepoSnapshot,
    Severity,
    Target,
    TargetKind,
    WeightSet,
)
from auditor.scan.release import hub_security_findings, scan_release, scan_summary, with_parameters
from auditor.sources.interface import CodeHosts, NoLookups, Registry, RepoSource

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
_MAX_DATASETS = 20  # each named dataset costs one Hub request


@dataclass(frozen=True)
class AuditOptions:
    """How one audit reads a release: the licence identifier, and whether weight files are scanned.

    `scan_weights` None scans local checkouts (free) and a Hub repo's pickle-based files (they run
    code when loaded), not its other headers, where each costs requests.
    """

    identify: LicenceIdentifier = identify_text
    scan_weights: bool | None = None


class Auditor:
    """The pipeline for one target, over an injected source, knowledge base and look-ups."""

    def __init__(self, source: RepoSource, kb: KnowledgeBase, *, registry: Registry | None = None,
                 code_hosts: CodeHosts | None = None, options: AuditOptions = AuditOptions()):
        """`registry` looks up the licences of the base models and datasets a card names (a Hub
        source; by default the target's own source); `code_hosts` those of linked code (None: not looked up).
        """
        self.source = source
        self.registry: Registry = registry if registry is not None else source
        self.kb = kb
        self._identify_text = options.identify
        self.scan_weights = options.scan_weights
        self.code_hosts = code_hosts
        self._checks_on = not isinstance(self.registry, NoLookups)

    def run(self, target: Target) -> AuditResult:
        """Fetch `target` through the source and audit what it holds."""
        snapshot = self.source.fetch(target)
        return self.audit_snapshot(snapshot)

    def audit_snapshot(self, snapshot: RepoSnapshot) -> AuditResult:
        """The audit of a snapshot already fetched: classify, identify, judge, scan."""
        card = card_from_snapshot(snapshot)
        artefacts = classify(snapshot.files)
        weight_sets = group_weights(artefacts)
        evidence = self._look_up_links(gather_evidence(card, snapshot.texts))
        licence_files = tuple(a.path for a in artefacts if a.category is Category.LICENCE)
        matches = self._licence_matches(snapshot, card, licence_files)
        kb = with_read_licences(self.kb, matches)  # licences read from unknown texts weigh like known ones
        weight_sets, scan_findings, facts = self._scan_weights(snapshot, artefacts, weight_sets, _card_licence_ids(card, matches))
        own = assess_licences(matches, kb, licence_files, snapshot.texts, _card_expression(card))
        lineage, lineage_findings = self._trace(snapshot, card, facts)
        effective = effective_terms(own.weights, own.policies, lineage, card_section_terms(card.body if card else ""),
                                    (card.path if card else None) or "README.md", kb)
        licences = replace(own, weights=effective.terms)  # the verdict and components follow the effective terms
        code = code_evidence(artefacts, evidence, card)
        release = ReleaseContents(snapshot, card, artefacts, weight_sets, evidence, code)
        components = build_components(release, licences, spdx_expression, kb)
        weights = components[ComponentName.WEIGHTS]
        components[ComponentName.WEIGHTS] = replace(weights, notes=weights.notes + effective.notes)
        items = mof_items(release, components)
        unverified = unverified_evidence(lineage, evidence)
        verdict = judge(components, licences, code, items, gated=bool(snapshot.gated), derived_from=evidence.base_models)
        verdict = with_effective_terms(verdict, effective.notes, unverified, self._checks_on, unchecked_bases(lineage))
        findings = list(own.findings)
        if card is not None:
            findings += card_terms_findings(card.body, card.path or "README.md", own.weights)
        findings += release_findings(release, components)
        findings += scan_findings
        findings += lineage_findings
        if verdict.provisional:
            findings.append(finding("verdict-provisional", "not checked: " + "; ".join(verdict.unverified), list(verdict.unverified)))
        findings += check_duties(_release(snapshot, card, licence_files, matches), effective.bindings, lineage, evidence, kb)
        findings += check_lineage({a.repo_id: a.licences for a in lineage if a.licences}, [m.id for m in own.weights.matches], kb)
        findings.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
        return AuditResult(
            target=snapshot.target,
            sha=snapshot.sha,
            artefacts=artefacts,
            weight_sets=weight_sets,
            components=components,
            licences=matches,
            verdict=verdict,
            findings=tuple(findings),
            card=card,
            evidence=evidence,
            unread=snapshot.unread,
            licence_summaries=summarise_licences(matches, kb),
            facts={**facts, "mof_items": [(i.mof_class.value, i.label, i.met) for i in items], **_checkout_facts(snapshot)},
            lineage=lineage,
            terms=effective.facts,
            hub_endpoint=snapshot.hub_endpoint,
        )

    def _trace(self, snapshot: RepoSnapshot, card: ModelCard | None, facts: dict[str, Any]) -> tuple[tuple[Ancestor, ...], list[Finding]]:
        """The chain of ancestors from every signal the release gives, looked up through the registry."""
        gguf = [f for f in (facts.get("weight_scan") or {}).get("per_file", {}).values() if f.get("format") == "gguf"]
        links = release_links(card.metadata if card else {}, snapshot.texts, gguf, snapshot.tags)
        return trace_lineage(snapshot.target.label, links, self.registry.ancestor, self._identify_text, self.kb)

    def _scan_weights(self, snapshot: RepoSnapshot, artefacts: tuple[Artefact, ...], weight_sets: tuple[WeightSet, ...],
                      card_licence_ids: list[str]) -> tuple[tuple[WeightSet, ...], list[Finding], dict[str, Any]]:
        """Header and pickle scans through the source, unless turned off (by default a Hub repo's pickles only)."""
        if self.scan_weights is False:
            return weight_sets, hub_security_findings(snapshot.security), {}
        if self.scan_weights is None and snapshot.target.kind is TargetKind.HUB:
            # by default a Hub repo's pickle-based files are scanned (they run code when loaded;
            # each costs its zip directory and pickle, ~130 KB), not its safetensors or GGUF headers
            artefacts = tuple(a for a in artefacts if a.format == "pickle")
            if not artefacts:
                return weight_sets, hub_security_findings(snapshot.security), {}
        scanned = scan_release(self.source, snapshot, artefacts, card_licence_ids)
        return with_parameters(weight_sets, scanned.scans), list(scanned.findings), {"weight_scan": scan_summary(scanned)}

    def _look_up_links(self, evidence: ReleaseEvidence) -> ReleaseEvidence:
        """The licences of what the card links: its code repositories and its named datasets."""
        if self.code_hosts is not None:
            links = tuple(
                replace(link, licence=self.code_hosts.licence_of(link.url)) if link.purposes and not link.library else link
                for link in evidence.code_links
            )
            evidence = replace(evidence, code_links=links)
        declared = {name: self.registry.dataset_licences(name) for name in evidence.datasets[:_MAX_DATASETS]}
        return replace(evidence, dataset_licences={name: ids for name, ids in declared.items() if ids})

    def _licence_matches(self, snapshot: RepoSnapshot, card: ModelCard | None, licence_files: tuple[str, ...]) -> tuple[LicenceMatch, ...]:
        matches: list[LicenceMatch] = []
        if card is not None:
            matches.extend(identify_card_licences(card, self.kb))
            matches.extend(identify_readme_sections(card, self.kb))
        for path in licence_files:
            text = snapshot.texts.get(path)
            if text is not None:
                matches.extend(self._identify_text(text, path, self.kb))
        return tuple(matches)


def _release(snapshot: RepoSnapshot, card: ModelCard | None, licence_files: tuple[str, ...], matches: tuple[LicenceMatch, ...]) -> Release:
    """What the duty checks read of the release: its name, files, licence texts and card."""
    target = snapshot.target
    name = (target.repo_id or "").rsplit("/", 1)[-1] or Path(target.path or ".").resolve().name
    return Release(
        name=name, files=tuple(f.path for f in snapshot.files), licence_files=licence_files, texts=snapshot.texts,
        matches=matches, card_text=card.body if card else "",
    )


def _card_expression(card: ModelCard | None) -> str | None:
    if card is None:
        return None
    value = card.metadata.get("license")
    if isinstance(value, list):
        return " AND ".join(str(v) for v in value)
    return str(value) if value is not None else None


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
        facts = tuple(
            LicenceFact(name=name, value=str(fact.value), clause=fact.clause, confidence=fact.confidence)
            for name, fact in profile.facts.items()
            if _worth_saying(profile, name, fact)
        )
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


def _card_licence_ids(card: ModelCard | None, matches: tuple[LicenceMatch, ...]) -> list[str]:
    """What the card says the licence is: raw values and the ids they were identified as."""
    ids = [m.id for m in matches if m.source.startswith("card:")]
    if card is not None:
        value = card.metadata.get("license")
        ids += [str(v) for v in (value if isinstance(value, list) else [value]) if v]
    return list(dict.fromkeys(ids))


def _checkout_facts(snapshot: RepoSnapshot) -> dict[str, Any]:
    """What kind of local folder was read (and whether its work tree was dirty), for the report."""
    return {"checkout": dict(snapshot.checkout)} if snapshot.checkout else {}


def _worth_saying(profile: LicenceProfile, name: str, fact: Fact | None) -> bool:
    """Empty facts say nothing; a policy grants nothing, so only its restrictions are facts about it."""
    if fact is None or fact.value in (None, "", "None"):
        return False
    if getattr(profile.kind, "value", profile.kind) == "policy":
        return str(fact.value).lower() not in ("no", "false") and name != "commercial_use"
    return True
