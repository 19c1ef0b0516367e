"""Every error the auditor raises on purpose, under one root, each with its exit code.

The CLI maps these to one-line messages (auditor.cli); nothing else decides exit codes.
"""

from __future__ import annotations


class AuditorError(Exception):
    """Root of the auditor's own errors; `repo`, `path` and `revision` say what failed, when known, as data."""

    exit_code = 2

    def __init__(self, message: str = "", *, repo: str | None = None, path: str | None = None, revision: str | None = None):
        super().__init__(message)
        self.repo = repo
        self.path = path
        self.revision = revision


class UsageError(AuditorError):
    """The command line or a target is malformed."""

    exit_code = 2


class SourceError(AuditorError):
    """The fetcher could not read the target."""

    exit_code = 5


class NotFound(SourceError):
    """Repo, revision or local path does not exist."""

    exit_code = 3


class AccessDenied(SourceError):
    """A private repo, or a token the Hub rejects."""

    exit_code = 4


class SourceUnavailable(SourceError):
    """Network or Hub failure after retries."""

    exit_code = 5


class OutputError(AuditorError):
    """The report could not be written (a full disk, an I/O error); what was written is kept."""

    exit_code = 5


class KnowledgeBaseError(AuditorError):
    """A licence profile is malformed: a defect of the shipped data, reported plainly."""

    exit_code = 2


class HubUnreachable(SourceUnavailable):
    """No connection to the Hub could be made at all (offline, or a wrong HF_ENDPOINT)."""

    exit_code = 5


class DeadlineExceeded(SourceUnavailable):
    """A target's time ran out (`--target-timeout`) before the Hub answered everything asked."""

    exit_code = 5
