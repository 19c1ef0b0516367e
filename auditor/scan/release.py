"""Scan a release's model files through its source, and fold what they say into the audit.

Every file of a scanned format is scanned (weights or not: training_args.bin runs code on load
too), and every other weights or unclassified file is looked at for a signature that names
one, each within its own byte budget. Parameter
counts of a weight set are given only when every file of the set was read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from auditor.findings import finding
from auditor.model import Artefact, Category, Finding, RepoSnapshot, TargetKind, WeightScanSummary, WeightSet
from auditor.scan import DEFAULT_BUDGET, SCANNERS, WeightScan, check_gguf_licence, scan_weight_file, unscanned
from auditor.scan.base import FILE_SECONDS
from auditor.scan.memo import WeightScanMemo, scan_key
from auditor.scan.pickles import MAX_SECONDS

if TYPE_CHECKING:
    from auditor.sources.interface import RepoSource

# The finding codes only a weight scan can produce: a `--fail-on` naming one needs the scan to run.
SCAN_FINDINGS = frozenset({
    "unsafe-pickle", "pickle-unscannable", "pickle-unscanned", "safetensors-header-invalid", "gguf-header-invalid", "gguf-licence-mismatch",
    "pickle-needs-code", "unsafe-artefact", "artefact-unscanned", "artefact-repacked", "tensor-extent-invalid", "custom-operators",
})
# Categories whose files may be model files under any name: their first bytes are looked at too.
_SCANNED_CATEGORIES = (Category.WEIGHTS, Category.OTHER)
GGUF_LOCAL_BUDGET = 16 << 20  # a local GGUF's header, read whole: every metadata key after the tokenizer's arrays
_KEPT_BELOW = min(FILE_SECONDS, MAX_SECONDS) / 4  # a scan that took longer may have met a time limit: not remembered
POINTER_NOT_SCANNED = "a Git LFS pointer without its content, not scanned (fetch it with `git lfs pull --include`, or give --hub-repo)"


@dataclass(frozen=True)
class ReleaseScan:
    """What scanning a release's weight files gave: per-file scans and findings."""

    scans: tuple[WeightScan, ...]
    findings: tuple[Finding, ...]
    bytes_read: int
    not_checked_out: tuple[str, ...] = ()  # Git LFS pointers in a local checkout: no content to scan
    hub_mirror: str | None = None  # the Hub repo a local checkout's pointers were read from
    read_from_hub: tuple[str, ...] = ()  # which pointers were read there


def scan_release(
    source: RepoSource,
    snapshot: RepoSnapshot,
    artefacts: Iterable[Artefact],
    card_licence_ids: Sequence[str],
    budget: int = DEFAULT_BUDGET,
    memo: WeightScanMemo | None = None,
) -> ReleaseScan:
    """Stage entry point: header and pickle scans of the weight files, within the byte budget; a file
    whose content the listing hashes is scanned once per `memo` (see auditor.scan.memo)."""
    scans: list[WeightScan] = []
    findings: list[Finding] = []
    pointers: list[str] = []
    from_hub: list[str] = []  # pointers of a local checkout read through its Hub mirror
    local = snapshot.target.kind is TargetKind.LOCAL
    for artefact in artefacts:
        # A scanned format (the classifier's table, SCANNERS), or a weights or unknown file whose signature may name one.
        if artefact.category not in _SCANNED_CATEGORIES or not (artefact.format in SCANNERS or artefact.format is None or artefact.category is Category.WEIGHTS):
            continue
        if local and artefact.lfs:
            if artefact.format not in SCANNERS:
                continue  # no content to look at, and nothing says it can run code
            if not snapshot.hub_mirror:
                pointers.append(artefact.path)
                findings.extend(unscanned(artefact.path, artefact.format or "", POINTER_NOT_SCANNED, budget).findings)
                continue
            from_hub.append(artefact.path)

        # a GGUF's vocabulary (two megabytes of strings) lies before its chat template: on disk, reading past it costs nothing
        file_budget = max(budget, GGUF_LOCAL_BUDGET) if local and not artefact.lfs and artefact.format == "gguf" else budget
        scan = _scan_file(source, snapshot, artefact, file_budget, memo)
        if scan is None:
            continue
        scans.append(scan)
        findings.extend(scan.findings)
        mismatch = check_gguf_licence(scan, card_licence_ids)
        if mismatch is not None:
            findings.append(mismatch)
    findings.extend(hub_security_findings(snapshot.security))
    return ReleaseScan(tuple(scans), tuple(findings), sum(s.bytes_read for s in scans), tuple(pointers), snapshot.hub_mirror if from_hub else None, tuple(from_hub))


def _scan_file(source: RepoSource, snapshot: RepoSnapshot, artefact: Artefact, budget: int, memo: WeightScanMemo | None) -> WeightScan | None:
    """One file's scan: from the memo when its content was scanned before, else read (and kept when its answer is the file's)."""
    entry = snapshot.file(artefact.path) if memo is not None else None
    key = scan_key(entry.sha256, artefact.path, artefact.size, artefact.format, budget) if entry is not None and entry.sha256 else None
    if memo is not None and key is not None:
        known = memo.recall(key)
        if known is not None:
            return known[0]
    failed: list[BaseException] = []

    def read(start: int, length: int, path: str = artefact.path) -> bytes:
        try:
            return source.read_range(snapshot, path, start, length)
        except BaseException as error:
            failed.append(error)
            raise

    started = time.monotonic()
    scan = scan_weight_file(artefact.path, artefact.size, read, budget, artefact.format)  # read failures come back as data
    if memo is not None and key is not None and not failed and time.monotonic() - started < _KEPT_BELOW:
        memo.keep(key, scan)
    return scan


def hub_security_findings(security: Mapping[str, Any] | None) -> list[Finding]:
    """The Hub's own scan: files it flagged, as one finding naming them."""
    if not security:
        return []
    flagged = security.get("filesWithIssues") or []
    paths = [str(item.get("path", item)) if isinstance(item, dict) else str(item) for item in flagged]
    if not paths:
        return []
    return [finding("hub-security-scan", f"the Hub's security scan flagged {len(paths)} file(s): {', '.join(paths[:8])}", paths)]


def with_parameters(weight_sets: Iterable[WeightSet], scans: Iterable[WeightScan]) -> tuple[WeightSet, ...]:
    """Weight sets with a parameter count where every file of the set was read."""
    counts: dict[str, int] = {s.path: s.facts["parameters"] for s in scans if isinstance(s.facts.get("parameters"), int)}
    updated = []
    for weight_set in weight_sets:
        if weight_set.files and all(path in counts for path in weight_set.files):
            weight_set = replace(weight_set, parameters=sum(counts[path] for path in weight_set.files))
        updated.append(weight_set)
    return tuple(updated)


def scan_summary(scan: ReleaseScan) -> WeightScanSummary:
    """What the report says of the scan: files read, bytes transferred, and per-file facts."""
    return WeightScanSummary(
        files=len(scan.scans),
        bytes_read=scan.bytes_read,
        not_checked_out=scan.not_checked_out,
        hub_mirror=scan.hub_mirror if scan.read_from_hub else None,
        read_from_hub=scan.read_from_hub,
        per_file={
            s.path: {"format": s.format, "bytes_read": s.bytes_read, "budget": s.budget, **_reportable(s.facts)}
            for s in scan.scans
        },
    )


def _reportable(facts: Mapping[str, Any]) -> dict[str, Any]:
    # Metadata key lists, raw headers and a GGUF's strings (chat templates) are noise in a report; counts and names are not.
    return {k: v for k, v in facts.items() if k not in ("metadata_keys", "metadata")}

