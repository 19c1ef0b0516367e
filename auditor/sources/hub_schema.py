"""The Hub's model- and dataset-info answers, checked field by field before any is used.

An answer comes from the Hub or from a mirror that may be hostile or broken: a number for
`sha`, a list for `cardData`, a string for `securityRepoStatus` or a size of `1e999` must
be a clear "the answer is malformed", never a TypeError deep in a parser. Only the fields
the auditor uses are read (and checked); every other field is ignored unread.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a git commit id (SHA-1, or SHA-256 repos)
_LFS_SHA = re.compile(r"[0-9a-f]{64}")
MAX_SIZE = 1 << 60  # an exabyte: any larger listed size is not a real file


class BadAnswer(ValueError):
    """A Hub answer whose field has the wrong type or value; the message names the field."""


@dataclass(frozen=True)
class ListedFile:
    """One file of the answer's `siblings`: its name as listed, size, and LFS size and hash when in LFS."""

    name: Any  # as listed: checked by the source before it is requested or shown
    size: int | None
    lfs_size: int | None = None
    lfs_sha256: str | None = None
    blob_id: str | None = None  # the git blob id, when the answer lists it (`blobs=true`)


@dataclass(frozen=True)
class RepoInfo:
    """What the auditor uses of a model-info or dataset-info answer, every field checked."""

    sha: str | None
    files: tuple[ListedFile, ...]
    card_data: dict[str, Any] | None
    gated: bool | str
    private: bool
    security: dict[str, Any] | None
    tags: tuple[str, ...]


def parse_repo_info(data: Any) -> RepoInfo:
    """The checked fields of a model- or dataset-info answer; BadAnswer names the first wrong one."""
    if not isinstance(data, dict):
        raise BadAnswer(f"the answer is {_kind(data)}, not an object")
    sha = _optional(data, "sha", str)
    if sha is not None and not _SHA.fullmatch(sha):
        raise BadAnswer("`sha` is not a commit id")
    siblings = _optional(data, "siblings", list)
    card_data = _optional(data, "cardData", dict)
    if card_data is not None and not all(isinstance(key, str) for key in card_data):
        raise BadAnswer("`cardData` has keys that are not strings")
    gated = data.get("gated")
    if gated is not None and not isinstance(gated, (bool, str)):
        raise BadAnswer(f"`gated` is {_kind(gated)}, not a boolean or a string")
    private = _optional(data, "private", bool)
    tags = _optional(data, "tags", list) or []
    if not all(isinstance(tag, str) for tag in tags):
        raise BadAnswer("`tags` holds something other than strings")
    return RepoInfo(
        sha=sha,
        files=tuple(_listed_file(sibling, at) for at, sibling in enumerate(siblings or ())),
        card_data={key: value for key, value in card_data.items() if value is not None} if card_data is not None else None,
        gated=gated or False,
        private=bool(private),
        security=_security(_optional(data, "securityRepoStatus", dict)),
        tags=tuple(tags),
    )


def _listed_file(sibling: Any, at: int) -> ListedFile:
    where = f"`siblings[{at}]`"
    if not isinstance(sibling, dict):
        raise BadAnswer(f"{where} is {_kind(sibling)}, not an object")
    size = _size(sibling.get("size"), f"{where}.size")
    blob_id = sibling.get("blobId")
    if blob_id is not None and not (isinstance(blob_id, str) and _SHA.fullmatch(blob_id)):
        raise BadAnswer(f"{where}.blobId is not a git object id")
    lfs = sibling.get("lfs")
    if lfs is None:
        return ListedFile(sibling.get("rfilename"), size, blob_id=blob_id)
    if not isinstance(lfs, dict):
        raise BadAnswer(f"{where}.lfs is {_kind(lfs)}, not an object")
    lfs_size = _size(lfs.get("size"), f"{where}.lfs.size")
    if lfs_size is None:
        raise BadAnswer(f"{where}.lfs has no size")
    sha256 = lfs.get("sha256")
    if not (isinstance(sha256, str) and _LFS_SHA.fullmatch(sha256)):
        raise BadAnswer(f"{where}.lfs.sha256 is not a SHA-256 digest")
    return ListedFile(sibling.get("rfilename"), size, lfs_size, sha256, blob_id)


def _security(status: dict[str, Any] | None) -> dict[str, Any] | None:
    """The Hub's security scan status, its `filesWithIssues` checked (a list of paths or of objects with one)."""
    if status is None:
        return None
    flagged = _optional(status, "filesWithIssues", list, "securityRepoStatus.")
    for item in flagged or ():
        path = item.get("path") if isinstance(item, dict) else item
        if not isinstance(path, str):
            raise BadAnswer("`securityRepoStatus.filesWithIssues` holds something other than paths")
    return status


def _size(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadAnswer(f"{where} is {_kind(value)}, not a number of bytes")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise BadAnswer(f"{where} is not a whole number of bytes")
    if not 0 <= value <= MAX_SIZE:
        raise BadAnswer(f"{where} is out of range")
    return int(value)


def _optional(data: dict[str, Any], key: str, kind: type, within: str = "") -> Any:
    value = data.get(key)
    if value is None or (isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))):
        return value
    raise BadAnswer(f"`{within}{key}` is {_kind(value)}, not {_KIND_NAMES.get(kind, kind.__name__)}")


_KIND_NAMES = {str: "a string", list: "a list", dict: "an object", bool: "a boolean", int: "a number", float: "a number"}


def _kind(value: Any) -> str:
    """What a JSON value is, in words (never the value itself: it may be anything)."""
    if value is None:
        return "null"
    for kind, name in _KIND_NAMES.items():
        if isinstance(value, bool):
            return "a boolean"
        if isinstance(value, kind):
            return name
    return "a " + type(value).__name__
