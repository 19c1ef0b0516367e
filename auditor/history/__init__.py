"""Licence history: the licence-bearing state at each revision that changed it, and what each change did.

`walk.py` finds the revisions (on the Hub from its commit listing and files' last commits; in a
local checkout from `git log`); each is audited by the same `Auditor.audit_snapshot` as any
single revision; `changes.py` turns consecutive states into findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from auditor.history.changes import changed_paths, history_findings, terms_changed_at
from auditor.history.walk import Point, Since, Walk, git_walk, hub_walk, parse_since
from auditor.model import AuditResult, ComponentName, History, HistoryEntry, Severity, Target, TargetKind

if TYPE_CHECKING:
    from auditor.audit import Auditor
    from auditor.sources.interface import RepoSource

__all__ = ["Since", "parse_since", "read_history", "with_history"]

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def read_history(target: Target, source: RepoSource, head: str | None, since: Since | None) -> Walk:
    """The revisions to audit: a Hub repo's through a HubHistorySource, a local checkout's through git."""
    from auditor.errors import UsageError
    from auditor.sources.hub_history import HubHistorySource

    if target.kind is TargetKind.HUB:
        if not isinstance(source, HubHistorySource):
            raise UsageError("--history needs the Hub source that reads revisions")
        return hub_walk(source, target, head or target.revision or "main", since)
    return git_walk(source, target, since)


def _entry(point: Point, result: AuditResult, previous: Mapping[str, str] | None) -> HistoryEntry:
    weights = result.components.get(ComponentName.WEIGHTS)
    commercial = result.terms.get("commercial_use")
    return HistoryEntry(
        revision=point.revision,
        governing=(weights.licence if weights is not None else None) or "",
        licences=tuple(dict.fromkeys(m.id for m in result.licences)),
        commercial_use=commercial.value if commercial is not None else "",
        verdict=result.verdict.openness,
        terms=dict(result.terms),
        changed=() if point.baseline else changed_paths(previous, point.state),
        baseline=point.baseline,
    )


def with_history(result: AuditResult, walk: Walk, auditor: Auditor, since: Since | None) -> AuditResult:
    """`result` with its history: every point audited like a single revision, the changes as findings."""
    entries: list[HistoryEntry] = []
    texts: list[Mapping[str, str]] = []
    ids: list[dict[str, tuple[str, ...]]] = []
    previous: Mapping[str, str] | None = None
    for point in walk.points:
        snapshot = point.read()
        audited = auditor.audit_snapshot(snapshot)
        entries.append(_entry(point, audited, previous))
        texts.append(snapshot.texts)
        by_file: dict[str, tuple[str, ...]] = {}
        for match in audited.licences:
            by_file[match.source] = (*by_file.get(match.source, ()), match.id)
        ids.append({path: tuple(dict.fromkeys(found)) for path, found in by_file.items()})
        previous = point.state
    changes = history_findings(entries, texts, ids)
    history = History(tuple(entries), walk.listed, since.text if since else None, tuple(changes), terms_changed_at(entries))
    findings = sorted([*result.findings, *changes], key=lambda f: _ORDER[f.severity])
    return replace(result, history=history, findings=tuple(findings))
