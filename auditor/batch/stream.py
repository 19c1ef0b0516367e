"""The stream of records: one JSON line per target, written and flushed as each finishes.

A file being written always holds whole lines for every finished target, so a run killed at
any moment leaves a file `--resume` can continue: it keeps every complete line, drops a
line cut short by the kill, and skips the targets already there.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any, TextIO

from auditor.errors import UsageError
from auditor.report.jsonl import record_line


def finished_targets(path: str) -> tuple[dict[str, int], int]:
    """The targets that have a complete line in the JSONL file at `path` (with their exit
    codes), and the byte offset just after the last complete line (what follows was cut short)."""
    done: dict[str, int] = {}
    offset = keep = 0
    with open(path, "rb") as handle:
        for raw in handle:
            offset += len(raw)
            if not raw.endswith(b"\n"):
                break
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("target"), str):
                code = record.get("exit_code")
                done[record["target"]] = code if isinstance(code, int) else 0
                keep = offset
    return done, keep


class RecordStream:
    """Records written one line each to a file, stdout or an anonymous spool, flushed per line."""

    def __init__(self, handle: TextIO, owned: bool):
        self.handle = handle
        self.owned = owned
        self.written = 0

    @classmethod
    def to_file(cls, path: str, resume: bool) -> tuple[RecordStream, dict[str, int]]:
        """A stream appending to `path` (and the targets it already holds, with their exit codes)
        when resuming, else a new file."""
        done: dict[str, int] = {}
        if resume and os.path.exists(path):
            try:
                done, keep = finished_targets(path)
                with open(path, "r+b") as spooled:
                    spooled.truncate(keep)
            except OSError as error:
                raise UsageError(f"--resume: cannot read {path}: {error.strerror or error}") from error
        try:
            handle = open(path, "a" if resume else "w", encoding="utf-8", newline="\n")
        except OSError as error:
            raise UsageError(f"cannot write {path}: {error.strerror or error}") from error
        return cls(handle, owned=True), done

    @classmethod
    def to_stdout(cls) -> RecordStream:
        """A stream of records to standard output."""
        return cls(sys.stdout, owned=False)

    @classmethod
    def spool(cls) -> RecordStream:
        """An unnamed temporary file (gone when closed) that tables are rendered from afterwards."""
        return cls(tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n"), owned=True)

    def write(self, record: dict[str, Any]) -> None:
        """Write one record as one line."""
        self.handle.write(record_line(record))
        self.handle.flush()
        self.written += 1

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record written so far, read back from the start (spools and files only)."""
        self.handle.flush()
        self.handle.seek(0)
        for line in self.handle:
            if line.strip():
                yield json.loads(line)

    def close(self) -> None:
        """Close the file, when the stream opened it."""
        if self.owned:
            self.handle.close()
        else:
            self.handle.flush()
