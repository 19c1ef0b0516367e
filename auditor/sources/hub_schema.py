"""The Hub's answers (model and dataset info, the commit listing, paths-info) and GitHub's
repository answer, each described by a small declarative schema and checked field by field
before any is used.

An answer comes from the Hub, a mirror or an API that may be hostile or broken: a number
for `sha`, a list for `cardData`, a string for `securityRepoStatus`, a size of `1e999`, a
commit id that is not hex or a date that does not parse must be a clear "the answer is
malformed" naming the field, never a TypeError deep in a parser. Only the fields the
auditor uses are described (and checked); every other field is ignored unread. Messages
name fields by the schema's own keys and list positions, never by anything the answer holds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from auditor.model import Revision

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a git commit id (SHA-1, or SHA-256 repos)
_LFS_SHA = re.compile(r"[0-9a-f]{64}")
MAX_SIZE = 1 << 60  # an exabyte: any larger listed size is not a real file
MAX_TEXT = 1 << 16  # characters of any one string field: tags, titles, names are far shorter
MAX_COMMITS_PER_PAGE = 1000  # the Hub pages its commit listing 50 at a time
MAX_PATHS_INFO = 10_000  # paths-info is asked for a revision's licence-bearing files: a handful


class BadAnswer(ValueError):
    """An answer whose field has the wrong type or value; the message names the field."""


# --- the schema vocabulary: each spec checks one JSON value and returns what the auditor keeps of it


class Spec:
    """What one JSON value must be; `check` returns it (or what is kept of it), or raises BadAnswer."""

    words: ClassVar[str] = "a value"  # what it must be, in words, for messages

    def expected(self) -> str:
        """What the value must be, in words."""
        return self.words

    def check(self, value: Any, where: str) -> Any:
        """`value` checked; `where` names it in messages (its path in the answer)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Anything(Spec):
    """Any value, kept as is: its user checks it (a listed file name, shown only once escaped)."""

    def check(self, value: Any, where: str) -> Any:  # noqa: D102 - Spec.check
        return value


@dataclass(frozen=True)
class Text(Spec):
    """A string of at most `max_chars` characters, matching `pattern` (all of it) when given."""

    pattern: re.Pattern[str] | None = None
    meaning: str = "a string"  # what a string that fails the pattern is not (e.g. "a commit id")
    max_chars: int = MAX_TEXT
    words = "a string"

    def check(self, value: Any, where: str) -> Any:  # noqa: D102 - Spec.check
        if not isinstance(value, str):
            raise _wrong(value, where, self.expected())
        if len(value) > self.max_chars:
            raise BadAnswer(f"{_name(where)} is longer than {self.max_chars} characters")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise BadAnswer(f"{_name(where)} is not {self.meaning}")
        return value


@dataclass(frozen=True)
class Date(Spec):
    """An ISO 8601 date and time (as the Hub writes commit dates), kept as the string."""

    words = "a date"

    def check(self, value: Any, where: str) -> Any:  # noqa: D102 - Spec.check
        Text(max_chars=64).check(value, where)
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise BadAnswer(f"{_name(where)} is not an ISO 8601 date") from None
        return value


@dataclass(frozen=True)
class Flag(Spec):
    """A boolean."""

    words = "a boolean"

    def check(self, value: Any, where: str) -> Any:  # noqa: D102 - Spec.check
        if not isinstance(value, bool):
            raise _wrong(value, where, self.expected())
        return value


@dataclass(frozen=True)
class Size(Spec):
    """A number of bytes: whole, not negative, at most MAX_SIZE (a float such as 1e999 is refused)."""

    words = "a number of bytes"

    def check(self, value: Any, where: str) -> Any:  # noqa: D102 - Spec.check
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong(value, where, self.expected())
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise BadAnswer(f"{_name(where)} is not a whole number of bytes")
        if not 0 <= value <= MAX_SIZE:
            raise BadAnswer(f"{_name(where)} is out of range")
        return int(value)


@dataclass(frozen=True)
class Items(Spec):
    """A list of at most `cap` items (None: no cap beyond the answer's byte cap), each checked by `of`."""

    of: Spec
    cap: int | None = None
    words = "a list"

    def check(self, value: Any, where: str) -> Any:  # noqa: D102 - Spec.check
        if not isinstance(value, list):
            raise _wrong(value, where, self.expected())
        if self.cap is not None and len(value) > self.cap:
            raise BadAnswer(f"{_name(where)} has more than {self.cap} entries")
        return [self.of.check(item, f"{where}[{at}]") for at, item in enumerate(value)]


@dataclass(frozen=True)
class AnyObject(Spec):
    """An object whose content is not described here, kept whole (card metadata: read by the card's own parser)."""

    words = "an object"

    def check(self, value: Any, where: str) -> Any:  # noqa: D102 - Spec.check
        if not isinstance(value, dict):
            raise _wrong(value, where, self.expected())
        if not all(isinstance(key, str) for key in value):
            raise BadAnswer(f"{_name(where)} has keys that are not strings")
        return value


@dataclass(frozen=True)
class Fields(Spec):
    """An object: each described field checked (null or absent is None unless `required`), the rest ignored.

    Returns a dict of the described fields only, or, with `keep_rest`, the whole object (its
    described fields checked)."""

    fields: Mapping[str, Spec]
    required: frozenset[str] = field(default_factory=frozenset)
    keep_rest: bool = False
    words = "an object"

    def check(self, value: Any, where: str) -> Any:  # noqa: D102 - Spec.check
        if not isinstance(value, dict):
            raise _wrong(value, where, self.expected())
        checked: dict[str, Any] = {}
        for key, spec in self.fields.items():
            item = value.get(key)
            inner = f"{where}.{key}" if where else key
            if item is None:
                if key in self.required:
                    raise BadAnswer(f"{_name(inner)} is missing")
                checked[key] = None
            else:
                checked[key] = spec.check(item, inner)
        return {**value, **checked} if self.keep_rest else checked


@dataclass(frozen=True)
class OneOf(Spec):
    """The first of `choices` the value passes; a value that passes none is refused by its kind."""

    choices: tuple[Spec, ...]

    def expected(self) -> str:
        """The choices' kinds, in words."""
        return " or ".join(choice.expected() for choice in self.choices)

    def check(self, value: Any, where: str) -> Any:  # noqa: D102 - Spec.check
        for choice in self.choices:
            try:
                return choice.check(value, where)
            except BadAnswer:
                continue
        raise _wrong(value, where, self.expected())


def parse(spec: Spec, data: Any) -> Any:
    """`data` (a whole answer) checked against `spec`; BadAnswer names the first wrong field."""
    return spec.check(data, "")


def _wrong(value: Any, where: str, expected: str) -> BadAnswer:
    return BadAnswer(f"{_name(where)} is {_kind(value)}, not {expected}")


def _name(where: str) -> str:
    return f"`{where}`" if where else "the answer"


_KIND_NAMES = {str: "a string", list: "a list", dict: "an object", bool: "a boolean", int: "a number", float: "a number"}


def _kind(value: Any) -> str:
    """What a JSON value is, in words (never the value itself: it may be anything)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    for kind, name in _KIND_NAMES.items():
        if isinstance(value, kind):
            return name
    return "a " + type(value).__name__


# --- the answers

COMMIT_ID = Text(_SHA, "a commit id", max_chars=64)
_LFS = Fields({"size": Size(), "sha256": Text(_LFS_SHA, "a SHA-256 digest", max_chars=64)}, frozenset({"size", "sha256"}))
_SIBLING = Fields({"rfilename": Anything(), "size": Size(), "blobId": Text(_SHA, "a git object id", max_chars=64), "lfs": _LFS})
_FLAGGED = OneOf((Text(), Fields({"path": Text()}, frozenset({"path"}), keep_rest=True)))  # a path, or an object with one
_SECURITY = Fields({"filesWithIssues": Items(_FLAGGED)}, keep_rest=True)
REPO_INFO = Fields({
    "sha": COMMIT_ID, "siblings": Items(_SIBLING), "cardData": AnyObject(), "gated": OneOf((Flag(), Text())),
    "private": Flag(), "securityRepoStatus": _SECURITY, "tags": Items(Text()),
})
_COMMIT = Fields({"id": COMMIT_ID, "date": Date(), "title": Text(max_chars=4096)}, frozenset({"id", "date"}))
COMMIT_PAGE = Items(_COMMIT, MAX_COMMITS_PER_PAGE)
PATHS_INFO = Items(Fields({"path": Text(), "lastCommit": _COMMIT}, frozenset({"path"})), MAX_PATHS_INFO)
_SPDX_ID = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9.+:-]*)?")  # empty when GitHub names none
GITHUB_REPO = Fields({"license": Fields({"spdx_id": Text(_SPDX_ID, "an SPDX id", max_chars=128)}, keep_rest=True)})


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
    info = parse(REPO_INFO, data)
    card_data = info["cardData"]
    return RepoInfo(
        sha=info["sha"],
        files=tuple(_listed_file(sibling) for sibling in info["siblings"] or ()),
        card_data={key: value for key, value in card_data.items() if value is not None} if card_data is not None else None,
        gated=info["gated"] or False,
        private=bool(info["private"]),
        security=info["securityRepoStatus"],
        tags=tuple(info["tags"] or ()),
    )


def _listed_file(sibling: dict[str, Any]) -> ListedFile:
    lfs = sibling["lfs"]
    if lfs is None:
        return ListedFile(sibling["rfilename"], sibling["size"], blob_id=sibling["blobId"])
    return ListedFile(sibling["rfilename"], sibling["size"], lfs["size"], lfs["sha256"], sibling["blobId"])


def parse_commit_page(data: Any) -> tuple[Revision, ...]:
    """One page of the commit listing (`/api/models/{id}/commits/{rev}`), newest first, every commit checked."""
    return tuple(_revision(commit) for commit in parse(COMMIT_PAGE, data))


def parse_paths_info(data: Any) -> dict[str, Revision | None]:
    """A paths-info answer (expanded): each listed path and the commit that last changed it, when given."""
    return {entry["path"]: _revision(entry["lastCommit"]) if entry["lastCommit"] else None for entry in parse(PATHS_INFO, data)}


def _revision(commit: dict[str, Any]) -> Revision:
    return Revision(commit["id"], commit["date"], commit["title"] or "")


_NAMES_NO_LICENCE = frozenset({"NOASSERTION"})  # GitHub's spdx_id when it found a licence it could not name


def parse_github_licence(data: Any) -> str | None:
    """The licence GitHub reports in a repository answer: its SPDX id, "none" when it found no licence, None when unnamed."""
    repo = parse(GITHUB_REPO, data)
    licence = repo["license"]
    if licence is None:
        return "none"  # GitHub found no licence file: all rights reserved
    spdx = licence["spdx_id"]
    return None if not spdx or spdx in _NAMES_NO_LICENCE else str(spdx)
