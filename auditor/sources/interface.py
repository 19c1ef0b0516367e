"""The fetcher's contract: the only stage that touches the network or the disk of a target.

`fetch` lists every file (sizes, LFS) and reads only the small text files that matter
(chosen by auditor.sources.selection), all pinned to one commit. `read_range` reads a byte
range of one file, for header scans of weights; it never reads a whole weight file.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Protocol

from auditor.model import AncestorRecord, RepoSnapshot, Target


class RepoSource(ABC):
    """A place model repositories come from: the Hub or a local directory."""

    @abstractmethod
    def fetch(self, target: Target) -> RepoSnapshot:
        """List the target's files and read its small text files.

        Raises NotFound, AccessDenied or SourceUnavailable (auditor.errors). A gated repo
        without access is not an error: the snapshot lists what the Hub shows publicly and
        names the unread files in `unread`.
        """

    @abstractmethod
    def read_range(self, snapshot: RepoSnapshot, path: str, start: int, length: int) -> bytes:
        """Read at most `length` bytes of `path` from offset `start`, at the snapshot's commit.

        Returns fewer bytes at end of file. Raises SourceError when the file cannot be read.
        """

    def bytes_read(self) -> int:
        """Bytes of file content read through read_range so far (for the report's budget line)."""
        return 0

    def dataset_licences(self, repo_id: str) -> tuple[str, ...] | None:
        """The licence ids a dataset's card declares (`license`, `license_name`).

        None when the source cannot look the dataset up (a local checkout, an unknown or
        private dataset, the network down): it is then reported as not verified.
        """
        return None

    def ancestor(self, repo_id: str) -> AncestorRecord:
        """A model named as an ancestor: card metadata, tags and licence texts.

        Unreadable (with the reason) when the source cannot look it up; never raises.
        """
        return AncestorRecord(repo_id, readable=False, reason="this source looks up no models")


class Registry(Protocol):
    """Where the base models and datasets a card names are looked up: a RepoSource, HubSource or NoLookups."""

    def ancestor(self, repo_id: str) -> AncestorRecord:
        """The model's card metadata, tags and licence texts; unreadable (with the reason) when it cannot be looked up."""
        ...

    def dataset_licences(self, repo_id: str) -> tuple[str, ...] | None:
        """The licence ids a dataset's card declares; None when it cannot be looked up."""
        ...


class CodeHosts(Protocol):
    """Where the licences of linked code repositories are looked up (sources.github)."""

    def licence_of(self, url: str) -> str | None:
        """The SPDX id of the repository at `url`, or None when unknown or not looked up."""
        ...


DEFAULT_TARGET_TIMEOUT = 120.0  # seconds one target's requests may take in all, unless told otherwise


class NoLookups:
    """A registry that looks nothing up: for audits told not to (`--no-check-links`, or HF_HUB_OFFLINE=1)."""

    def __init__(self, reason: str = "--no-check-links: not looked up"):
        self.reason = reason

    def ancestor(self, repo_id: str) -> AncestorRecord:
        """Unreadable, with the reason this registry looks nothing up."""
        return AncestorRecord(repo_id, readable=False, reason=self.reason)

    def dataset_licences(self, repo_id: str) -> None:
        """None: no dataset is looked up."""
        return None


def offline() -> bool:
    """HF_HUB_OFFLINE=1: no look-up of any kind (base models, datasets, linked code)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def lookups(check_links: bool, registry: Registry | None) -> Registry | None:
    """The registry an audit looks base models and datasets up in: `registry`, unless told not to."""
    if offline():
        return NoLookups("HF_HUB_OFFLINE=1: not looked up")
    return registry if check_links else NoLookups()
