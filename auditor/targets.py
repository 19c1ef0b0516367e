"""What a TARGET argument names: a local directory, or a Hub repo (with an optional revision).

Accepted spellings of a Hub repo: `org/name`, `org/name/` (a shell's completion adds the
slash), `org/name@rev`, `org/name/path/model.gguf` (one GGUF file of the repo), `https://huggingface.co/org/name[/tree/rev]`, and the same with
`hf.co` or without the scheme. A revision is a branch, a tag or a commit id (a full SHA or a
prefix of at least 7 hex digits). A directory that exists always wins over a repo id; a local
.gguf file is a release of one file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from auditor.errors import AccessDenied, AuditorError, NotFound, UsageError
from auditor.model import Target, TargetKind

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")
_HUB_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/(?P<repo>[\w.-]+/[\w.-]+)(?:/tree/(?P<rev>[^\s]+?))?/*$"
)
_AT_REVISION = re.compile(r"^(?P<repo>[^@\s]+)@(?P<rev>[^@\s/][^@\s]*)$")
_HUB_FILE = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96})/(?P<file>(?:[\w.-]+/)*[\w.-]+)$")  # org/name/path/to/model.gguf
SINGLE_FILE_SUFFIXES = (".gguf",)  # a file that is a whole release by itself


def is_single_file(name: str) -> bool:
    """Whether a file name is one a release of one file can be (a GGUF holds weights, tokenizer and metadata)."""
    return name.lower().endswith(SINGLE_FILE_SUFFIXES)


def _one_revision(given: str | None, spelt: str | None, text: str) -> str | None:
    if given and spelt and given != spelt:
        raise UsageError(f"'{text}' names revision {spelt} but --revision says {given}: give one")
    return given or spelt


def parse_target(text: str, revision: str | None = None) -> Target:
    """The Target a command-line argument names; UsageError or NotFound when it names nothing."""
    if not spelt_as_url(text) and Path(text).expanduser().exists():
        return parse_local(text, revision)
    spelt = _spelt_on_hub(text)
    if spelt is not None:
        return _on_hub(spelt, revision, text)
    if text.startswith((".", "/", "~")) or os.sep in text:
        raise NotFound(f"no such directory: {text}")
    raise UsageError(f"'{text}' is neither a local directory nor a Hub repo id of the form org/name")


def parse_local(text: str, revision: str | None = None) -> Target:
    """The local directory (or single .gguf file) `text` names, whatever it is spelt like; NotFound when there is none."""
    path = Path(text).expanduser()
    if not path.exists():
        raise NotFound(f"no such directory: {text}")
    if not path.is_dir() and not is_single_file(path.name):
        raise NotFound(f"{text} is a file, not a model repository directory (a single .gguf file can be audited)")
    return Target(TargetKind.LOCAL, path=str(path), revision=revision)


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}")


def valid_repo_id(repo_id: str) -> bool:
    """Whether `repo_id` is an `owner/name` Hub id (never a path: no `..`, no leading `/`, nothing else)."""
    if not _HUB_ID.fullmatch(repo_id) or ".." in repo_id or "--" in repo_id or repo_id.endswith((".", "-")):
        return False
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError:
        return False
    return True


def hub_target(text: str, revision: str | None = None) -> Target | None:
    """The Hub repo `text` is spelt as (`org/name`, `org/name@rev`, a Hub URL, or one GGUF file of
    it, `org/name/path/model.gguf`), its id checked against the Hub's grammar; None when it is
    spelt as no valid Hub id. Never a local path."""
    spelt = _spelt_on_hub(text.strip())
    if spelt is None or not valid_repo_id(spelt[0]):
        return None
    return _on_hub(spelt, revision, text)


def _hub_file_path(path: str) -> bool:
    """Whether `path` names one release file inside a Hub repo: a single-file release, no `.` or `..` step."""
    return is_single_file(path) and not any(step in (".", "..") for step in path.split("/"))


@dataclass(frozen=True)
class FileTargets:
    """`parse_target`, except for the targets read from files: a line of `--targets-from` names a
    Hub repo (whatever folder of that name exists here) or is an error of its own, never a local
    path; a line of `--paths-from` names a local folder, never a Hub repo. A value, not a
    closure, so a census's worker processes can be handed it."""

    parse_target: Callable[[str, str | None], Target]
    hub_lines: frozenset[str] = frozenset()
    path_lines: frozenset[str] = frozenset()

    @classmethod
    def of(cls, given: Iterable[str], hub_lines: Iterable[str], path_lines: Iterable[str]) -> FileTargets:
        """The parser for a run: an argument also given on the command line is read as an argument."""
        arguments = set(given)
        return cls(parse_target, frozenset(hub_lines) - arguments, frozenset(path_lines) - arguments)

    def listed(self, text: str) -> bool:
        """Whether `text` was read from a list of Hub ids (so never meant as a folder here)."""
        return text in self.hub_lines

    def __call__(self, text: str, revision: str | None = None) -> Target:
        """The Target `text` names."""
        if text in self.path_lines:
            return parse_local(text, revision)
        if text in self.hub_lines:
            target = hub_target(text, revision)
            if target is None:
                raise UsageError(f"'{text}' (a line of --targets-from) is not a Hub repo id of the form org/name; "
                                 "lines of --targets-from name Hub repos only: list local folders with --paths-from")
            return target
        return self.parse_target(text, revision)


def listed_id(parse: Callable[..., Target], text: str) -> bool:
    """Whether the parser of a run reads `text` as an id from a list (a Hub listing, --targets-from)."""
    listed = getattr(parse, "listed", None)
    return bool(listed and listed(text))


def hub_spelling(text: str, url_only: bool = False) -> tuple[str, str | None] | None:
    """(repo id, revision) when `text` is spelt as a Hub repo (an id, `id@rev`, `id/`, a URL), else None;
    `url_only`: only a URL (which nobody means as a local path)."""
    spelt = _spelt_on_hub(text) if not url_only or spelt_as_url(text) else None
    return (spelt[0], spelt[1]) if spelt is not None and spelt[2] is None else None


def _spelt_on_hub(text: str) -> tuple[str, str | None, str | None] | None:
    """(repo id, revision, file) when `text` is spelt as a Hub repo (an id, `id@rev`, `id/`, a URL)
    or as one single-file release in one (`org/name/path/model.gguf`, file set); else None."""
    url = _HUB_URL.match(text)
    if url:
        return url.group("repo"), url.group("rev"), None
    at = _AT_REVISION.match(text)
    repo, revision = (at.group("repo"), at.group("rev")) if at else (text, None)
    repo = repo.rstrip("/")
    if repo.startswith((".", "/", "~")):
        return None
    if REPO_ID.match(repo):
        return repo, revision, None
    one_file = _HUB_FILE.match(repo)
    if one_file and _hub_file_path(one_file.group("file")):
        return one_file.group("repo"), revision, one_file.group("file")
    return None


def _on_hub(spelt: tuple[str, str | None, str | None], revision: str | None, text: str) -> Target:
    """The Hub target `text` is spelt as, its revision agreeing with --revision."""
    repo_id, spelt_revision, path = spelt
    return Target(TargetKind.HUB, repo_id=repo_id, path=path, revision=_one_revision(revision, spelt_revision, text))


def spelt_as_url(text: str) -> bool:
    """Whether the argument was a Hub URL (so nobody meant it as a local path)."""
    return bool(_HUB_URL.match(text))


def explain(error: AuditorError, text: str, hub_target: bool, token_given: bool, listed: bool = False) -> str:
    """The one-line message for a target that failed, with what to try next.

    A Hub repo that is not found may be private (the Hub answers so rather than reveal it),
    and an `org/name` argument may have been meant as a directory: the message says both (the
    second only for an argument: an id `listed` by the Hub or read from a list names no folder).
    """
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    if not hub_target:
        return message
    if isinstance(error, NotFound) and error.revision is None:  # not a missing revision of a repo that exists
        if not spelt_as_url(text) and not listed:
            message = f"no directory {text} here, and {message}"
        message += " (if it is private, pass --token or set HF_TOKEN)" if not token_given else \
            " (if it is private, the token given has no access to it)"
    elif isinstance(error, AccessDenied) and token_given and "token" not in message.lower():
        message += " (the Hub refused the token given)"
    return message
