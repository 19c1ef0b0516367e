"""CSV: one row per repo (`--format csv`), for pandas and spreadsheets, rendered from records.

Columns: id, sha, verdict, whether it is provisional, governing licences, commercial use (the
effective terms'), since which commit they hold (with --history), errors, warnings, then the
status, exit code and error message of a target that could not be audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import IO, Any

from auditor.model import AuditResult
from auditor.report.interface import Outcomes, Renderer
from auditor.report.jsonl import batch_records

COLUMNS = ("id", "sha", "verdict", "provisional", "governing_licences", "commercial_use", "terms_changed_since", "errors", "warnings", "status", "exit_code", "error")


def row_of(record: dict[str, Any]) -> list[Any]:
    """The CSV row of one record; cells that a spreadsheet would run as a formula are defused."""
    summary = record.get("summary") or {}
    error = record.get("error") or {}
    cells = [
        record.get("target") or summary.get("repo"), summary.get("sha"), summary.get("verdict"),
        _yes_no(summary.get("provisional")), summary.get("governing_licences"), summary.get("commercial_use"),
        summary.get("terms_changed_since"), summary.get("errors"),
        summary.get("warnings"), record.get("status"), record.get("exit_code"), error.get("message"),
    ]
    return [_defused(cell) for cell in cells]


def write_rows(records: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """The header, then one row per record, written as they come."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        writer.writerow(row_of(record))


def _yes_no(flag: Any) -> str:
    return "" if flag is None else ("yes" if flag else "no")


def _defused(cell: Any) -> Any:
    # repo-supplied text starting with = + - @ would be a formula in Excel or LibreOffice
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return "" if cell is None else cell


class CsvRenderer(Renderer):
    """Renders audits already in memory as CSV rows."""

    def render(self, result: AuditResult) -> str:
        """One audit as a CSV header and row."""
        return self.render_batch([result])

    def render_batch(self, results: Sequence[AuditResult], failures: Sequence[tuple[str, str]] = (),
                     outcomes: Outcomes = ()) -> str:
        """One row per audit and per failure."""
        out = io.StringIO()
        write_rows(batch_records(results, failures, outcomes), out)
        return out.getvalue()
