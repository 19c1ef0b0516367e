"""The census summary of a batch in markdown, rendered from its stream of records.

Counts per verdict, per governing licence and per finding code, the share of derivatives
that relabel their base model's licence, then the repos with errors first and every repo in
one table. The records are read twice (counts, then rows), so memory does not grow with the
number of repos, only with the number of distinct verdicts, licences and codes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from auditor.report.escape import markdown_text
from auditor.report.jsonl import AUDITED, FAILED
from auditor.report.mermaid import bar_chart, pie

_TOP = 25  # rows of the licence and finding-code tables; the rest are counted as "others"
_BARS = 10  # bars of the governing-licence chart; the rest are one "others" bar


class Census:
    """Counts over records, added one at a time."""

    def __init__(self) -> None:
        self.audited = 0
        self.failed = 0
        self.verdicts: Counter = Counter()
        self.licences: Counter = Counter()
        self.codes: Counter = Counter()
        self.derivatives = 0
        self.relabelling = 0
        self.with_errors = 0
        self.waited = 0.0  # seconds targets waited on rate limits

    def add(self, record: dict[str, Any]) -> None:
        """Count one record."""
        waited = record.get("waited")
        self.waited += float(waited) if isinstance(waited, int | float) and waited > 0 else 0.0
        if record.get("status") != AUDITED:
            self.failed += 1
            return
        self.audited += 1
        summary = record.get("summary") or {}
        self.verdicts[summary.get("verdict") or "unknown"] += 1
        self.licences[summary.get("governing_licences") or "(none found)"] += 1
        self.codes.update(summary.get("codes") or ())
        self.derivatives += bool(summary.get("derivative"))
        self.relabelling += bool(summary.get("derivative") and summary.get("relabelled"))
        self.with_errors += bool(summary.get("errors"))

    @property
    def total(self) -> int:
        """The targets counted, audited or failed."""
        return self.audited + self.failed


def render_census(records: Callable[[], Iterable[dict[str, Any]]]) -> Iterator[str]:
    """The markdown summary, piece by piece; `records()` gives the stream anew on each call."""
    census = Census()
    for record in records():
        census.add(record)
    yield f"# Census of {census.total} repositories\n\n"
    yield f"{census.audited} audited, {census.failed} could not be audited"
    yield f", {census.with_errors} with error findings.\n\n" if census.with_errors else ".\n\n"
    if census.waited:
        yield f"Requests waited {census.waited:.1f} s in all on rate limits (--max-rate, or a pause after the Hub's 429).\n\n"
    yield from _counts("Verdicts", "verdict", census.verdicts, census.audited)
    if census.verdicts:
        yield "\n".join(pie("Verdicts", census.verdicts.most_common())) + "\n\n"
    yield from _counts("Governing licences", "licence (weights)", census.licences, census.audited)
    if census.licences:
        bars = census.licences.most_common(_BARS)
        rest = sum(census.licences.values()) - sum(count for _, count in bars)
        bars += [(f"{len(census.licences) - _BARS} others", rest)] if rest else []
        yield "\n".join(bar_chart("Governing licences", "repos", bars)) + "\n\n"
    yield from _counts("Finding codes", "code", census.codes, census.audited, unit="repos with it")
    if census.derivatives:
        share = 100 * census.relabelling / census.derivatives
        yield (f"## Derivatives\n\n{census.relabelling} of {census.derivatives} derivatives ({share:.0f}%) "
               "relabel: their licence disagrees with their own licence text or does not honour their base model's.\n\n")
        slices = [("relabel", census.relabelling), ("keep their terms", census.derivatives - census.relabelling)]
        yield "\n".join(pie("Derivatives that relabel", slices)) + "\n\n"
    if census.failed or census.with_errors:
        yield "## Repositories with errors\n\n| target | exit | error |\n|---|---|---|\n"
        for record in records():
            if record.get("status") == FAILED:
                error = record.get("error") or {}
                yield f"| {cell(record.get('target'))} | {record.get('exit_code')} | {cell(error.get('message'))} |\n"
        for record in records():
            summary = record.get("summary") or {}
            if record.get("status") == AUDITED and summary.get("errors"):
                codes = ", ".join(summary.get("codes") or ())
                yield f"| {cell(record.get('target'))} | {record.get('exit_code')} | {summary['errors']} error finding(s): {cell(codes)} |\n"
        yield "\n"
    # --history: since which commit each repo's terms hold
    since = any("terms_changed_since" in (r.get("summary") or {}) for r in records() if r.get("status") == AUDITED)
    yield ("## Repositories\n\n| repo | verdict | governing licences | commercial use | "
           + ("terms changed since | " if since else "") + "errors | warnings |\n|---|---|---|---|" + ("---|" if since else "") + "---|---|\n")
    for record in records():
        if record.get("status") == AUDITED:
            s = record.get("summary") or {}
            verdict = f"{s.get('verdict')} (provisional)" if s.get("provisional") else s.get("verdict")
            changed = f"{cell(s.get('terms_changed_since') or '-')} | " if since else ""
            yield (f"| {cell(record.get('target'))} | {cell(verdict)} | {cell(s.get('governing_licences'))} | "
                   f"{cell(s.get('commercial_use'))} | {changed}{s.get('errors', 0)} | {s.get('warnings', 0)} |\n")


def _counts(title: str, label: str, counts: Counter, total: int, unit: str = "repos") -> Iterator[str]:
    if not counts:
        return
    yield f"## {title}\n\n| {label} | {unit} | share |\n|---|---|---|\n"
    for name, count in counts.most_common(_TOP):
        yield f"| {cell(name)} | {count} | {100 * count / max(total, 1):.0f}% |\n"
    rest = sum(counts.values()) - sum(c for _, c in counts.most_common(_TOP))
    if rest:
        yield f"| {len(counts) - _TOP} others | {rest} | |\n"
    yield "\n"


def cell(value: Any) -> str:
    """Repo-supplied text made safe for one markdown table cell."""
    text = markdown_text(" ".join(("" if value is None else str(value)).split()))
    return text if len(text) <= 300 else text[:300] + "..."
