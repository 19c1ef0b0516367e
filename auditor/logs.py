"""How much the auditor says on stderr: `-q` only errors, default progress, `-v` every request and read.

Progress lines ("auditing X ...", "report written to ...") are log records of the "auditor"
logger at INFO; `--verbose` adds a DEBUG record for every file a source reads and lets the
HTTP clients' own loggers through (httpx2 under huggingface_hub logs each request at INFO,
urllib3 under requests at DEBUG). Everything printed passes `escape.terminal`, since target
names and error messages can carry what a repository supplied.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from auditor.model import AncestorRecord, RepoSnapshot, Target
from auditor.report.escape import terminal
from auditor.sources.interface import RepoSource

log = logging.getLogger("auditor")
_HTTP_LOGGERS = ("httpx2", "httpx", "urllib3")


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time (click's test runner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(terminal(self.format(record)) + "\n")
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging must never break an audit
            self.handleError(record)


def configure(quiet: bool = False, verbose: bool = False) -> None:
    """Route the auditor's and the HTTP clients' log records to stderr at the chosen verbosity."""
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
    for name in _HTTP_LOGGERS:
        http = logging.getLogger(name)
        http.handlers[:] = [handler] if verbose else []
        http.propagate = False
        http.setLevel(logging.DEBUG if verbose else logging.WARNING)


class LoggedSource(RepoSource):
    """A RepoSource that logs every file it reads; everything else goes to the wrapped source."""

    def __init__(self, source: RepoSource):
        self._source = source

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def bytes_read(self) -> int:
        """The wrapped source's count."""
        return self._source.bytes_read()

    def dataset_licences(self, repo_id: str) -> tuple[str, ...] | None:
        """The wrapped source's look-up."""
        return self._source.dataset_licences(repo_id)

    def ancestor(self, repo_id: str) -> AncestorRecord:
        """The wrapped source's look-up."""
        return self._source.ancestor(repo_id)

    def fetch(self, target: Target) -> RepoSnapshot:
        """The wrapped source's snapshot, each file read logged."""
        snapshot = self._source.fetch(target)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("listed %d file(s) of %s", len(snapshot.files), target.label)
            for path, text in snapshot.texts.items():
                log.debug("read %s (%d characters)", path, len(text))
            for skipped in snapshot.unread:
                log.debug("not read %s: %s", skipped.path, skipped.reason)
        return snapshot

    def read_range(self, snapshot: RepoSnapshot, path: str, start: int, length: int) -> bytes:
        """The wrapped source's bytes, the range logged."""
        data = self._source.read_range(snapshot, path, start, length)
        log.debug("read %s bytes %d-%d (%d bytes)", path, start, start + length - 1, len(data))
        return data
