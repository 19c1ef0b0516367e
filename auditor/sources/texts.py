"""Turning the bytes of a chosen file into text, the same way for every source.

A file with a NUL byte in its head is not text (a binary LICENSE, a pickle named like a
config): it is Skipped as "binary" rather than decoded into noise. Text is decoded as UTF-8
with undecodable bytes replaced, so one stray Latin-1 byte never loses a licence. A JSON
file nested beyond auditor.bounded's depth budget is Skipped with that reason, so the
report names it unread rather than each later parser silently dropping it.
"""

from __future__ import annotations

from collections.abc import Iterable

from auditor.bounded import BudgetExceeded, load_json
from auditor.model import SkipKind, Skipped

BINARY_PROBE = 8192


def decode_text(path: str, data: bytes) -> str | Skipped:
    """The file's text, or Skipped(path, "binary") when its head holds a NUL byte.

    A licence PDF (the selection reads no other PDF) is text once pypdf has extracted it."""
    if path.lower().endswith(".pdf"):
        from auditor.sources.pdf_text import pdf_text  # pypdf loads only for a release that ships a licence PDF

        return pdf_text(path, data)
    if b"\0" in data[:BINARY_PROBE]:
        return Skipped(path, "binary", SkipKind.BINARY)
    text = data.decode("utf-8-sig", errors="replace")
    if path.lower().endswith(".json"):
        try:
            load_json(text)
        except BudgetExceeded as error:
            return Skipped(path, f"{error} (not parsed)")
        except ValueError:
            pass  # invalid JSON is still text: a parser that needs it says so
    return text


def collect(results: Iterable[tuple[str, bytes | Skipped]]) -> tuple[dict[str, str], list[Skipped]]:
    """Split (path, bytes | Skipped) pairs into the snapshot's texts and unread entries."""
    texts: dict[str, str] = {}
    unread: list[Skipped] = []
    for path, outcome in results:
        decoded = outcome if isinstance(outcome, Skipped) else decode_text(path, outcome)
        if isinstance(decoded, Skipped):
            unread.append(decoded)
        else:
            texts[path] = decoded
    return texts, unread
