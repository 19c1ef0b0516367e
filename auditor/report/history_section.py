"""The licence history of a report (--history): a table, a Mermaid timeline, and its JSON object.

Every label a repository supplies (commit titles, licence names) is escaped: through
`markdown_text` in the table, and through the charts' own `chart_label` in the Mermaid
timeline, less the `:` and `;` that timeline syntax reads as separators.
"""

from __future__ import annotations

from typing import Any

from auditor.model import History, HistoryEntry
from auditor.report.escape import markdown_code, markdown_text
from auditor.report.mermaid import chart_label, fenced


def timeline_label(text: str) -> str:
    """Repository text as a Mermaid timeline label: the charts' plain characters, without the separators `:` and `;`."""
    return " ".join(chart_label(text).replace(":", " ").replace(";", " ").split()) or "?"


def _when(entry: HistoryEntry) -> str:
    return entry.revision.date[:10]


def _what(entry: HistoryEntry) -> str:
    return "in force at --since" if entry.baseline else entry.revision.title


def history_section(history: History | None) -> list[str]:
    """The markdown lines of the history: what governed from each revision on, then the timeline."""
    if history is None:
        return []
    since = f" since {markdown_text(history.since)}" if history.since else ""
    lines = ["## Licence history", "",
             f"{history.listed} commit(s) listed{since}; {len(history.entries)} revision(s) set the licence-bearing files "
             "(card, licence and notice texts, lineage signals); the others were not audited again.", "",
             "| date | commit | change | governing licences | commercial use | verdict | files changed |",
             "|---|---|---|---|---|---|---|"]
    for entry in history.entries:
        lines.append(
            f"| {markdown_text(_when(entry))} | {markdown_code(entry.revision.commit[:12])} | {markdown_text(_what(entry))} "
            f"| {markdown_text(entry.governing or 'none found')} | {markdown_text(entry.commercial_use or 'unsaid')} "
            f"| {entry.verdict.value} | {markdown_text(', '.join(entry.changed) or '-')} |")
    events = [f"    {timeline_label(_when(e))} : {timeline_label(e.governing or 'no licence found')}"
              f" : {timeline_label('commercial use ' + (e.commercial_use or 'unsaid'))} : {timeline_label(e.verdict.value)}"
              for e in history.entries]
    lines += ["", *fenced(["timeline", "    title Licence history", *events]), ""]
    if history.findings:
        lines += ["Changes:", ""]
        lines += [f"- **{f.code}**: {markdown_text(f.message)}" for f in history.findings]
        lines.append("")
    return lines


def history_dict(history: History) -> dict[str, Any]:
    """The history as the JSON report's `history` object (docs/json-schema.md)."""
    return {
        "since": history.since,
        "commits_listed": history.listed,
        "terms_changed_since": ({"commit": history.terms_since.commit, "date": history.terms_since.date}
                                if history.terms_since is not None else None),
        "revisions": [
            {"commit": e.revision.commit, "date": e.revision.date, "title": e.revision.title, "baseline": e.baseline,
             "governing_licences": e.governing, "licences": list(e.licences), "commercial_use": e.commercial_use or None,
             "verdict": e.verdict.value, "changed": list(e.changed),
             "terms": {key: {"value": fact.value, "clause": fact.clause, "sources": list(fact.sources)} for key, fact in e.terms.items()}}
            for e in history.entries
        ],
        "changes": [{"code": f.code, "severity": f.severity.value, "message": f.message, "evidence": list(f.evidence)}
                    for f in history.findings],
    }
