"""Run the pipeline for one target: fetch -> classify -> identify -> scan -> judge, into an AuditResult.

The source is injected, so the same Auditor audits Hub repos and local checkouts, and tests
can hand it any RepoSource. Only the source does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from auditor.card import card_from_snapshot
from auditor.classify.classifier import classify, group_weights
from auditor.classify.evidence import gather_evidence
from auditor.errors import NotFound
from auditor.identify import (
    KnowledgeBase,
    LicenceIdentifier,
    identify_card_licences,
    identify_gguf_licences,
    identify_readme_sections,
    identify_text,
)
from auditor.judge.judgement import ReleaseReading, judge_release
from auditor.judge.lineage import release_links, trace_lineage
from auditor.model import (
    Ancestor,
    Artefact,
    AuditResult,
    Category,
    Finding,
    LicenceMatch,
    ModelCard,
    ReleaseEvidence,
    RepoSnapshot,
    Target,
    TargetKind,
    WeightScanSummary,
)
from auditor.scan import CODE_FORMATS
from auditor.scan.memo import WeightScanMemo
from auditor.scan.release import ReleaseScan, scan_release, scan_summary, with_parameters
from auditor.sources.interface import CodeHosts, NoLookups, Registry, RepoSource

_MAX_DATASETS = 20  # each named dataset costs one Hub request


@dataclass(frozen=True)
class AuditOptions:
    """How one audit reads a release: the licence identifier, and whether weight files are scanned.

    `scan_weights` None scans local checkouts (free) and a Hub repo's pickle-based files (they run
    code when loaded), not its other headers, where each costs requests.
    """

    identify: LicenceIdentifier = identify_text
    scan_weights: bool | None = None
    scan_memo: WeightScanMemo | None = None  # weight scans by content, shared by a run's targets (auditor.scan.memo)


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
        self._scan_memo = options.scan_memo
        self.code_hosts = code_hosts
        self._checks_on = not isinstance(self.registry, NoLookups)

    def run(self, target: Target) -> AuditResult:
        """Fetch `target` through the source and audit what it holds."""
        snapshot = self.source.fetch(target)
        if target.kind is TargetKind.HUB and target.path:
            snapshot = one_file_release(snapshot, target.path)
        return self.audit_snapshot(snapshot)

    def audit_snapshot(self, snapshot: RepoSnapshot) -> AuditResult:
        """The audit of a snapshot already fetched: classify, identify, scan, trace, then judge once."""
        card = card_from_snapshot(snapshot)
        artefacts = classify(snapshot.files)
        evidence = self._look_up_links(gather_evidence(card, snapshot.texts))
        licence_files = tuple(a.path for a in artefacts if a.category is Category.LICENCE)
        matches = self._licence_matches(snapshot, card, licence_files)
        scan = self._scan_weights(snapshot, artefacts, _card_licence_ids(card, matches))
        if not matches and scan is not None:  # no card or licence file names a licence: the GGUF headers' own word is left
            matches = tuple(m for s in scan.scans if s.format == "gguf" for m in identify_gguf_licences(s.path, s.facts, self.kb))
        summary = scan_summary(scan) if scan is not None else None
        weight_sets = group_weights(artefacts)
        if scan is not None:
            weight_sets = with_parameters(weight_sets, scan.scans)
        lineage, lineage_findings = self._trace(snapshot, card, summary)
        judgement = judge_release(
            ReleaseReading(snapshot, card, artefacts, weight_sets, evidence, matches, scan, lineage, tuple(lineage_findings)),
            self.kb, lookups_verified=self._checks_on,
        )
        return AuditResult(
            target=snapshot.target,
            sha=snapshot.sha,
            artefacts=artefacts,
            weight_sets=weight_sets,
            components=judgement.components,
            licences=matches,
            verdict=judgement.verdict,
            findings=judgement.findings,
            card=card,
            evidence=evidence,
            unread=snapshot.unread,
            licence_summaries=judgement.licence_summaries,
            weight_scan=summary,
            mof_items=judgement.mof_items,
            checkout=snapshot.checkout,
            lineage=lineage,
            terms=judgement.terms,
            hub_endpoint=snapshot.hub_endpoint,
        )

    def _trace(self, snapshot: RepoSnapshot, card: ModelCard | None,
               scan: WeightScanSummary | None) -> tuple[tuple[Ancestor, ...], list[Finding]]:
        """The chain of ancestors from every signal the release gives, looked up through the registry."""
        gguf = [f for f in (scan.per_file.values() if scan is not None else ()) if f.get("format") == "gguf"]
        links = release_links(card.metadata if card else {}, snapshot.texts, gguf, snapshot.tags)
        return trace_lineage(snapshot.target.label, links, self.registry.ancestor, self._identify_text, self.kb)

    def _scan_weights(self, snapshot: RepoSnapshot, artefacts: tuple[Artefact, ...], card_licence_ids: list[str]) -> ReleaseScan | None:
        """Header and pickle scans through the source, unless turned off; None when not scanned.

        By default: local folders, a single file (its header is all there is to read of it), and
        a Hub repo's files that can run code when loaded (pickles, joblib, numpy, archives, Keras,
        TensorFlow and ONNX graphs: each costs the ranges its scanner reads, a torch zip's
        directory and pickle ~130 KB), not its other headers."""
        if self.scan_weights is False:
            return None
        one_file = snapshot.target.kind is TargetKind.HUB and bool(snapshot.target.path)
        if self.scan_weights is None and snapshot.target.kind is TargetKind.HUB and not one_file:
            artefacts = tuple(a for a in artefacts if a.format in CODE_FORMATS)
            if not artefacts:
                return None
        return scan_release(self.source, snapshot, artefacts, card_licence_ids, memo=self._scan_memo)

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


def one_file_release(snapshot: RepoSnapshot, path: str) -> RepoSnapshot:
    """One file of a repo audited as a release of its own: the file, with the repo's card and licence
    files beside it (their terms are the file's); NotFound when the repo has no such file."""
    if snapshot.file(path) is None:
        raise NotFound(f"{snapshot.target.repo_id} has no file {path}")
    kept = {path} | {a.path for a in classify(snapshot.files) if "/" not in a.path and a.category is Category.LICENCE}
    kept |= {f.path for f in snapshot.files if f.path.lower() == "readme.md"}
    return replace(snapshot, files=tuple(f for f in snapshot.files if f.path in kept),
                   texts={p: t for p, t in snapshot.texts.items() if p in kept})


def _card_licence_ids(card: ModelCard | None, matches: tuple[LicenceMatch, ...]) -> list[str]:
    """What the card says the licence is: raw values and the ids they were identified as."""
    ids = [m.id for m in matches if m.source.startswith("card:")]
    if card is not None:
        value = card.metadata.get("license")
        ids += [str(v) for v in (value if isinstance(value, list) else [value]) if v]
    return list(dict.fromkeys(ids))
