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


def explain(error: AuditorError, text: str, hub_target: bool, token_given: bool) -> str:
    """The one-line message for a target that failed, with what to try next.

    A Hub repo that is not found may be private (the Hub answers so rather than reveal it),
    and an `org/name` argument may have been meant as a directory: the message says both.
    """
    from auditor.targets import spelt_as_url

    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if not hub_target:
        return message
    if isinstance(error, NotFound) and error.revision is None:  # not a missing revision of a repo that exists
        if not spelt_as_url(text):
            message = f"no directory {text} here, and {message}"
        message += " (if it is private, pass --token or set HF_TOKEN)" if not token_given else \
            " (if it is private, the token given has no access to it)"
    elif isinstance(error, AccessDenied) and token_given and "token" not in message.lower():
        message += " (the Hub refused the token given)"
    return message


class HubUnreachable(SourceUnavailable):
    """No connection to the Hub could be made at all (offline, or a wrong HF_ENDPOINT)."""

    exit_code = 5


class DeadlineExceeded(SourceUnavailable):
    """A target's time ran out (`--target-timeout`) before the Hub answered everything asked."""

    exit_code = 5
