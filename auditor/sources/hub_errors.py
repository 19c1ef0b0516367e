"""The Hub's failures as the auditor's errors: huggingface_hub's error types and HTTP statuses
mapped to NotFound, AccessDenied, SourceUnavailable and its kinds, with what to try next."""

from __future__ import annotations

import httpx2
from huggingface_hub import get_token
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from auditor.errors import AccessDenied, AuditorError, NotFound, SourceError, SourceUnavailable, UsageError
from auditor.sources.http import RETRY_STATUS, first_line

TOKEN_HELP = "--token, HF_TOKEN or `hf auth login`"


class HubErrors:
    """The error mapping for one endpoint and token (None: huggingface_hub's own token look-up)."""

    def __init__(self, endpoint: str, token: str | bool | None):
        self.endpoint = endpoint
        self.token = token

    def has_token(self) -> bool:
        """Whether requests carry a token."""
        if isinstance(self.token, str):
            return bool(self.token)
        return self.token is None and get_token() is not None

    def gated_reason(self, repo_id: str) -> str:
        """Why a gated repo's files were not read, and how to get access."""
        reason = f"gated: request access at {self.endpoint}/{repo_id}"
        if self.has_token():
            return reason + " (the token given has not been granted access)"
        return reason + f", then pass a token ({TOKEN_HELP})"

    def denied(self, repo_id: str) -> AccessDenied:
        """A repo the Hub refused: private, missing, or a token without access."""
        if self.has_token():
            return AccessDenied(
                f"{self.endpoint} refused the token for {repo_id}: check it is valid and has access ({TOKEN_HELP})"
            )
        return AccessDenied(
            f"{repo_id} is private or does not exist on {self.endpoint}: if you have access, pass a token ({TOKEN_HELP})"
        )

    def error(self, error: Exception, repo_id: str, revision: str | None, path: str | None = None) -> AuditorError:
        """The auditor's error for a huggingface_hub or network failure (returned, for the caller to raise)."""
        where = f"{repo_id}/{path}" if path else repo_id
        if isinstance(error, AuditorError):
            return error
        if isinstance(error, GatedRepoError):
            return AccessDenied(f"{where}: {self.gated_reason(repo_id)}")
        if isinstance(error, RevisionNotFoundError):
            return NotFound(f"revision {revision} not found in {repo_id} on {self.endpoint}", repo=repo_id, revision=revision)
        if isinstance(error, RemoteEntryNotFoundError):
            return NotFound(f"{path or 'an entry asked for'} not found in {repo_id} at {revision} on {self.endpoint}", repo=repo_id, path=path)
        if isinstance(error, RepositoryNotFoundError):
            if status_of(error) == 404:
                return NotFound(f"repository {repo_id} not found on {self.endpoint}", repo=repo_id)
            return self.denied(repo_id)
        if isinstance(error, DisabledRepoError):
            return AccessDenied(f"{repo_id} is disabled on {self.endpoint}")
        if isinstance(error, HfHubHTTPError):
            status = status_of(error)
            if status in (401, 403) and path:  # the repo was listed, but this file was refused
                return AccessDenied(f"{self.endpoint} refused {where} ({status}): a token with access may help ({TOKEN_HELP})")
            if status in (401, 403):
                return self.denied(repo_id)
            if status == 404:  # a mirror's plain 404, without the Hub's error headers
                what = f"{path} in {repo_id}" if path else f"repository {repo_id}"
                return NotFound(f"{what} not found on {self.endpoint} (404)", repo=repo_id, path=path)
            if status in RETRY_STATUS:
                return SourceUnavailable(f"{self.endpoint} answered {status} for {where}, also after retries")
            return SourceError(f"{self.endpoint} answered {status} for {where}: {first_line(error)}")
        if isinstance(error, HFValidationError):
            return UsageError(f"{repo_id!r} is not a valid Hub repo id: {first_line(error)}")
        if isinstance(error, httpx2.RequestError):
            return SourceUnavailable(f"could not read {where} from {self.endpoint}: {first_line(error)}")
        raise error


def status_of(error: Exception) -> int | None:
    """The HTTP status of a failed request's error, when it carries its response."""
    response = getattr(error, "response", None)
    return response.status_code if response is not None else None


def lookup_failure(error: AuditorError) -> str:
    """Why a registry look-up failed, in a few words for the report."""
    if isinstance(error, SourceUnavailable):
        return "the Hub could not be reached"
    if isinstance(error, NotFound):
        return "not found on the Hub"
    if isinstance(error, AccessDenied):
        return "private or gated: access denied"
    return first_line(error) or type(error).__name__
