"""The machine report, schema "auditor/1": the stable contract documented in docs/json-schema.md.

Later checks (policies, the GitHub Action, SARIF and CycloneDX) read this shape, so fields are
only ever added, never renamed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from enum import Enum
from typing import TYPE_CHECKING, Any

from auditor.model import AuditResult, Verdict
from auditor.report.escape import dump_json
from auditor.report.history_section import history_dict
from auditor.report.interface import Outcomes, Renderer, outcome_at
from auditor.report.terms_section import commercial_qualifier

if TYPE_CHECKING:
    from auditor.judge.policy import PolicyOutcome

SCHEMA = "auditor/1"


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {(_plain(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    """The verdict as the contract spells it; SARIF's run properties carry the same object."""
    return {
        "openness": verdict.openness.value,
        "mof_class": verdict.mof_class.value if verdict.mof_class else None,
        "osaid": verdict.osaid.value,
        "gated": verdict.gated,
        "reasons": list(verdict.reasons),
        "improvements": list(verdict.improvements),
        "provisional": verdict.provisional,
        "unverified": list(verdict.unverified),
    }


def load_safety_dict(result: AuditResult) -> dict[str, Any]:
    """The files not to load (`unsafe_to_load`) and those not checked (`load_unchecked`), as the first screen says them."""
    from auditor.judge.load_safety import load_warnings

    warnings = load_warnings(result)
    return {"unsafe_to_load": [w.to_dict() for w in warnings if w.unsafe],
            "load_unchecked": [w.to_dict() for w in warnings if not w.unsafe]}


def terms_dict(result: AuditResult) -> dict[str, Any]:
    """The effective terms of the weights: one entry per fact key, with the licences and places they come from."""
    terms: dict[str, dict[str, Any]] = {
        key: {"value": fact.value, "from": list(fact.sources), "because": list(fact.because), "clause": fact.clause}
        for key, fact in result.terms.items()
    }
    for key, fact in result.terms.items():
        if fact.listed:
            terms[key]["listed"] = list(fact.listed)
    qualifier = commercial_qualifier(result)
    if qualifier and "commercial_use" in terms:  # the answer stands only as far as what was checked
        terms["commercial_use"].update(provisional=True, qualifier=qualifier.strip())
    return terms


def lineage_list(result: AuditResult) -> list[dict[str, Any]]:
    """The chain of ancestors, nearest first."""
    return [
        {"repo_id": a.repo_id, "child": a.child, "relation": a.relation, "depth": a.depth, "signal": a.signal,
         "status": a.status.value, "licences": list(a.licences), "licence_source": a.licence_source, "reason": a.reason}
        for a in result.lineage
    ]


def facts_dict(result: AuditResult) -> dict[str, Any]:
    """The report's `facts`: the weight scan (when run), the MOF checklist, and what kind of local folder was read."""
    facts: dict[str, Any] = {}
    scan = result.weight_scan
    if scan is not None:
        facts["weight_scan"] = {
            "files": scan.files,
            "bytes_read": scan.bytes_read,
            "not_checked_out": list(scan.not_checked_out),
            **({"read_from_hub": {"repo": scan.hub_mirror, "files": list(scan.read_from_hub)}} if scan.read_from_hub else {}),
            "per_file": _plain({path: dict(file_facts) for path, file_facts in scan.per_file.items()}),
        }
    if result.mof_items:
        facts["mof_items"] = [[item.mof_class.value, item.label, item.met] for item in result.mof_items]
    if result.checkout:
        facts["checkout"] = _plain(dict(result.checkout))
    return facts


def to_dict(result: AuditResult) -> dict[str, Any]:
    """One audit as the JSON report's object (docs/json-schema.md)."""
    target = result.target
    verdict = result.verdict
    return {
        "schema": SCHEMA,
        "target": {"kind": target.kind.value, "repo_id": target.repo_id, "path": target.path, "revision": target.revision},
        "sha": result.sha,
        "artefacts": [
            {"path": a.path, "category": a.category.value, "format": a.format, "size": a.size, "reason": a.reason, "lfs": a.lfs}
            for a in result.artefacts
        ],
        "weight_sets": [_plain(asdict(s)) for s in result.weight_sets],
        "components": {
            name.value: {"present": c.present, "files": list(c.files), "licence": c.licence, "open": c.open, "notes": list(c.notes)}
            for name, c in result.components.items()
        },
        "licences": [
            {
                "id": m.id, "name": m.name, "spdx": m.spdx, "kind": m.kind.value, "source": m.source,
                "confidence": round(m.confidence, 3), "modified": m.modified, "method": m.method.value,
                "span": list(m.span) if m.span else None, "changes": m.changes,
                **({"unidentified": True} if m.unidentified else {}),  # named from its own title, read by its clauses
            }
            for m in result.licences
        ],
        "licence_facts": {
            s.id: {"name": s.name, "spdx": s.spdx, "category": s.category, "osi_approved": s.osi_approved,
                   **({"unidentified": True} if s.unidentified else {}),
                   "facts": {f.name: {"value": f.value, "clause": f.clause, **({"confidence": f.confidence} if f.confidence is not None else {})}
                             for f in s.facts}}
            for s in result.licence_summaries
        },
        "verdict": {**verdict_dict(verdict), **load_safety_dict(result)},
        "findings": [
            {"severity": f.severity.value, "code": f.code, "message": f.message, "evidence": list(f.evidence)}
            for f in result.findings
        ],
        "unread": [{"path": s.path, "reason": s.reason} for s in result.unread],
        "facts": facts_dict(result),
        "terms": terms_dict(result),
        "lineage": lineage_list(result),
        **({"history": history_dict(result.history)} if result.history is not None else {}),
    }


class JsonRenderer(Renderer):
    """The audit as JSON (docs/json-schema.md); a batch as {results, failures}."""

    def render(self, result: AuditResult) -> str:
        """One audit as its JSON object."""
        return dump_json(to_dict(result))

    def render_batch(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]] = (),
                     outcomes: Outcomes = ()) -> str:
        """One audit as its object, several as {schema, results, failures}; each result's policy last."""
        entries = [_with_policy(to_dict(r), outcome_at(outcomes, i)) for i, r in enumerate(results)]
        if len(results) == 1 and not failures:
            return dump_json(entries[0])
        payload = {
            "schema": SCHEMA,
            "results": entries,
            "failures": [{"target": t, "error": e} for t, e in failures],
        }
        return dump_json(payload)


def _with_policy(entry: dict[str, Any], outcome: PolicyOutcome | None) -> dict[str, Any]:
    """A result's object with its `policy` last, when a rule applied to it."""
    if outcome:
        entry["policy"] = outcome.to_dict()
    return entry
