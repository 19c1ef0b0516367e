"""JSON Lines: one object per target, written as each target finishes (`--format jsonl`).

A line is a record: the target as given, `status` ("audited" or "failed"), its exit code,
the error (kind and one-line message) of a failure, a flat `summary` for tables (the census
summary, CSV), and for an audited target its full report (`report`, the "auditor/1" object
of docs/json-schema.md). A stream of records is what batch tables are rendered from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from auditor.model import AuditResult, ComponentName, History, Severity
from auditor.report.interface import Outcomes, Renderer
from auditor.report.json_report import SCHEMA, to_dict

AUDITED, FAILED = "audited", "failed"
_RELABELLING = frozenset({"licence-relabelled", "licence-incompatible-with-base"})


def summary_of(result: AuditResult) -> dict[str, Any]:
    """The flat facts a census table shows for one audited repo."""
    weights = result.components.get(ComponentName.WEIGHTS)
    effective = result.terms.get("commercial_use")
    commercial = {s.id: f.value for s in result.licence_summaries for f in s.facts if f.name == "commercial_use"}
    values = [effective.value] if effective is not None else list(dict.fromkeys(commercial.values()))
    codes = list(dict.fromkeys(f.code for f in result.findings))
    return {
        "repo": result.target.repo_id or result.target.path,
        "sha": result.sha,
        "verdict": result.verdict.openness.value,
        "provisional": result.verdict.provisional,  # something the verdict rests on could not be checked
        "governing_licences": (weights.licence if weights is not None else None) or "",
        "licences": list(dict.fromkeys(m.id for m in result.licences)),
        "commercial_use": values[0] if len(values) == 1 else "; ".join(f"{k}: {v}" for k, v in commercial.items()),
        "errors": sum(1 for f in result.findings if f.severity is Severity.ERROR),
        "warnings": sum(1 for f in result.findings if f.severity is Severity.WARNING),
        "codes": codes,
        "derivative": bool(result.evidence.base_models),
        "relabelled": any(code in _RELABELLING for code in codes),
        **({"terms_changed_since": _since(result.history)} if result.history is not None else {}),
    }


def _since(history: History) -> str:
    """Since which revision the terms hold, as `<commit> (<date>)`; "" when the history shows no change."""
    revision = history.terms_since
    return f"{revision.commit[:12]} ({revision.date[:10]})" if revision is not None else ""


def audited_record(target: str, result: AuditResult, exit_code: int = 0, **extra: Any) -> dict[str, Any]:
    """The line of a target that was audited (`extra`: retries, notes, policy...)."""
    return {
        "schema": SCHEMA, "target": target, "status": AUDITED, "exit_code": exit_code, "error": None,
        "summary": summary_of(result), **extra, "report": to_dict(result),
    }


def failed_record(target: str, exit_code: int, kind: str, message: str, **extra: Any) -> dict[str, Any]:
    """The line of a target that could not be audited: its exit code and why."""
    return {
        "schema": SCHEMA, "target": target, "status": FAILED, "exit_code": exit_code,
        "error": {"kind": kind, "message": message}, "summary": {"repo": target}, **extra,
    }


def record_line(record: dict[str, Any]) -> str:
    """One record as one line (no newline inside: JSON escapes them)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def batch_records(results: Sequence[AuditResult], failures: Sequence[tuple[str, str]], outcomes: Outcomes) -> list[dict[str, Any]]:
    """The records of audits and failures already in memory (a census writes each as it finishes)."""
    if any(outcomes):  # a census writes each record's policy itself (auditor.batch)
        raise ValueError("the policy outcome goes into each census record, not into a rendered batch")
    records = [audited_record(result.target.label, result) for result in results]
    return records + [failed_record(target, 0, "error", message) for target, message in failures]


class JsonlRenderer(Renderer):
    """Renders audits already in memory as records, one line each."""

    def render(self, result: AuditResult) -> str:
        """One audit as one record line."""
        return record_line(audited_record(result.target.label, result))

    def render_batch(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]] = (),
                     outcomes: Outcomes = ()) -> str:
        """One record line per audit and per failure."""
        return "".join(record_line(record) for record in batch_records(results, failures, outcomes))
