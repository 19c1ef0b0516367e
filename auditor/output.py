"""Where the report goes and in which format: one rule, checked before any audit runs.

Markdown on stdout unless `--format` says otherwise. `-o FILE` takes its format from the
suffix (OutputFormat's suffix table) unless `--format` is given, and refuses a suffix it
does not know rather than guess; `-o -` is stdout. A file in a directory that does not exist
is refused up front (exit 2), not after the whole audit. Markdown on a terminal is drawn with
rich; anything piped or redirected is the raw report.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from auditor.errors import OutputError, UsageError
from auditor.report import OutputFormat


@dataclass(frozen=True)
class Destination:
    """The chosen format and file (None for stdout)."""

    format: OutputFormat
    path: Path | None = None


def _suffixes() -> str:
    return ", ".join(suffix for member in OutputFormat for suffix in member.suffixes)


def choose(format_name: str | None, output: str | None) -> Destination:
    """The destination `--format` and `-o` ask for; UsageError when they cannot be honoured."""
    path = None if output in (None, "-") else Path(output)
    if format_name:
        chosen = OutputFormat.named(format_name)
    elif path is None:
        chosen = OutputFormat.MARKDOWN
    else:
        found = OutputFormat.for_path(path.name)
        if found is None:
            raise UsageError(f"--output {output}: cannot tell the format from its suffix (known: {_suffixes()}); name one with --format")
        chosen = found
    if path is not None:
        _check_writable(path)
    return Destination(chosen, path)


def _check_writable(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"--output {path}: is a directory")
    if not parent.is_dir():
        raise UsageError(f"--output {path}: directory {parent} does not exist")
    if not os.access(path if path.exists() else parent, os.W_OK):
        raise UsageError(f"--output {path}: not writable")


@contextmanager
def output_file(path: Path | str, mode: str, **kwargs: Any) -> Iterator[IO[Any]]:
    """`path` opened for the report; a path that cannot be a file is the caller's mistake
    (UsageError, exit 2), a write that fails afterwards (a full disk, also seen at the closing
    flush) an OutputError naming the file (exit 5)."""
    try:
        handle = open(path, mode, **kwargs)
    except OSError as error:
        raise UsageError(f"--output {path}: cannot write: {error.strerror or error}") from error
    try:
        with handle:
            yield handle
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from error


def deliver(report: str, destination: Destination, stdout: TextIO | None = None) -> None:
    """Write the report: to its file, or to stdout (drawn with colour when that is a terminal)."""
    if destination.path is not None:
        data = report.encode("utf-8")  # before the file is opened, so a failure leaves no empty file
        with output_file(destination.path, "wb") as handle:
            handle.write(data)
        return
    stream = stdout or sys.stdout
    if destination.format is OutputFormat.MARKDOWN and _is_terminal(stream):
        from auditor.report.terminal import print_markdown

        print_markdown(report, stream)
    else:
        try:
            stream.write(report)
            stream.flush()
        except BrokenPipeError:
            discard(stream)


def discard(stream: TextIO) -> None:
    """The reader went away (`| head`, a pager quit early): not a failure of the audit. What is
    still buffered goes to /dev/null, so the interpreter's exit does not fail on it either."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
    except (AttributeError, OSError, ValueError):
        pass


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
