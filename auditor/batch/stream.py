"""The stream of records: one JSON line per target, written and flushed as each finishes.

A file being written always holds whole lines for every finished target, so a run killed at
any moment leaves a file `--resume` can continue: it keeps every complete line, drops a
line cut short by the kill, and skips the targets already there.

A census file is its census's alone: it is locked while written (a second census writing
it stops with exit 2), every record carries `run`, the fingerprint of the options and
policy it was written under, and `--resume` refuses a file with a line that is not one of
our records (another tool's file is never cut) or whose records were written under other
options. A write that fails (a full disk) is exit 5 naming the file; the lines written
before it are kept.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import IO, Any, TextIO

from auditor.bounded import load_json
from auditor.errors import OutputError, UsageError
from auditor.report.json_report import SCHEMA
from auditor.report.jsonl import record_line


def finished_targets(handle: IO[bytes], path: str, run: str | None) -> tuple[dict[str, int], int]:
    """The targets that have a complete line in the census file (with their exit codes), and the
    byte offset just after the last complete line (what follows was cut short).

    UsageError when a complete line is not one of our records (`schema: auditor/1` and a
    target), or was written under other options than `run`: the file is then not touched."""
    done: dict[str, int] = {}
    offset = keep = 0
    handle.seek(0)
    for number, raw in enumerate(handle, 1):
        offset += len(raw)
        if not raw.endswith(b"\n"):
            break
        if not raw.strip():
            keep = offset
            continue
        try:
            record = load_json(raw)
        except ValueError:
            record = None
        if not (isinstance(record, dict) and record.get("schema") == SCHEMA and isinstance(record.get("target"), str)):
            raise UsageError(f"--resume: {path} is not a census file of this auditor (line {number} is not a "
                             f"`schema: {SCHEMA}` record); it was left as it is")
        if run is not None and record.get("run") != run:
            raise UsageError(f"--resume: {path} was written under other options or another policy (line {number}); "
                             "resume it with the options it was written with, or write a new file")
        code = record.get("exit_code")
        done[record["target"]] = code if isinstance(code, int) else 0
        keep = offset
    return done, keep


class RecordStream:
    """Records written one line each to a file, stdout or an anonymous spool, flushed per line."""

    def __init__(self, handle: TextIO, owned: bool, path: str | None = None, run: str | None = None):
        self.handle = handle
        self.owned = owned
        self.written = 0
        self.path = path  # the file written, for a write error's message
        self.run = run  # the options' fingerprint each record carries

    @classmethod
    def to_file(cls, path: str, resume: bool, run: str | None = None) -> tuple[RecordStream, dict[str, int]]:
        """A stream appending to `path` (and the targets it already holds, with their exit codes)
        when resuming, else a new file; locked against a second census for as long as it is open."""
        try:
            binary = open(path, "a+b")  # neither truncated nor cut before the lock is held
        except OSError as error:
            raise UsageError(f"cannot write {path}: {error.strerror or error}") from error
        try:
            try:
                fcntl.flock(binary.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                raise UsageError(f"{path} is being written by another census (it is locked); give another --output") from error
            regular = stat.S_ISREG(os.fstat(binary.fileno()).st_mode)
            done: dict[str, int] = {}
            keep = 0
            if resume and regular:
                try:
                    done, keep = finished_targets(binary, path, run)
                except OSError as error:
                    raise UsageError(f"--resume: cannot read {path}: {error.strerror or error}") from error
            if regular:
                binary.truncate(keep)
        except BaseException:
            binary.close()
            raise
        handle = open(binary.fileno(), "a", encoding="utf-8", newline="\n", closefd=False)
        stream = cls(handle, owned=True, path=path, run=run)
        stream._binary = binary  # holds the lock until closed
        return stream, done

    @classmethod
    def to_stdout(cls) -> RecordStream:
        """A stream of records to standard output."""
        return cls(sys.stdout, owned=False)

    @classmethod
    def spool(cls) -> RecordStream:
        """An unnamed temporary file (gone when closed) that tables are rendered from afterwards."""
        return cls(tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n"), owned=True)

    _binary: IO[bytes] | None = None

    def write(self, record: dict[str, Any]) -> None:
        """Write one record as one line; OutputError (exit 5) when the file cannot take it."""
        if self.run is not None:
            record = {**record, "run": self.run}
        try:
            self.handle.write(record_line(record))
            self.handle.flush()
        except OSError as error:
            self._failed = True
            where = self.path or "the output"
            raise OutputError(f"cannot write {where}: {error.strerror or error}; the {self.written} record(s) "
                              "written before are kept (--resume continues the file)") from error
        self.written += 1

    _failed = False

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record written so far, read back from the start (spools and files only)."""
        self.handle.flush()
        self.handle.seek(0)
        for line in self.handle:
            if line.strip():
                yield json.loads(line)

    def close(self) -> None:
        """Close the file, when the stream opened it (releasing its lock)."""
        try:
            if self.owned:
                self.handle.close()
            else:
                self.handle.flush()
        except OSError:
            if not self._failed:
                raise OutputError(f"cannot write {self.path or 'the output'}: the last records could not be saved") from None
        finally:
            if self._binary is not None:
                self._binary.close()
