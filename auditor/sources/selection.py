"""Which files of a repository the fetcher reads: pure, the same for the Hub and local checkouts.

The rules are an ordered table in selection.yaml (first matching row wins; row order is also
read priority). Each chosen file is capped at FILE_CAP bytes, all of them together at
TOTAL_CAP bytes and MAX_FILES files: a file over a cap is listed as Skipped and never read,
so a 5 GB file named LICENSE costs nothing. Rows marked `peek` (other *.md / *.txt) are read only when a `peek`
callback is given and the file's first lines read like licence text; the Hub source gives
none, so it decides by name alone and spends no request on guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath

from auditor.model import FileEntry, SkipKind, Skipped
from auditor.yamlfile import load_yaml

FILE_CAP = 1 << 20
TOTAL_CAP = 8 << 20
MAX_FILES = 256  # each Hub read costs two requests: a repo of 5,000 scripts must not cost 10,000
PEEK_BYTES = 4096
MAX_PEEKS = 64  # a checkout with thousands of .txt files is data: peek at a few, not all

READS = ("never", "card", "licence", "config", "code", "peek")


@dataclass(frozen=True)
class Rule:
    """One row of the table: globs over the base name (or the whole path), what to do, an example."""

    index: int
    globs: tuple[str, ...]
    on_path: bool
    read: str
    example: str

    def matches(self, path: str) -> bool:
        """Whether `path` matches the rule's pattern."""
        subject = (path if self.on_path else PurePosixPath(path).name).lower()
        return any(fnmatchcase(subject, glob) for glob in self.globs)


@dataclass(frozen=True)
class Selection:
    """The files to read, most important first, and the ones a cap kept from being read."""

    read: tuple[str, ...]
    unread: tuple[Skipped, ...] = ()


@lru_cache(maxsize=1)
def _table() -> dict:
    text = resources.files("auditor.sources").joinpath("selection.yaml").read_text(encoding="utf-8")
    return load_yaml(text)


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The selection rules in order (selection.yaml): which small files are worth reading."""
    table = []
    for index, row in enumerate(_table()["rules"]):
        on_path = "path" in row
        globs = row["path"] if on_path else row["name"]
        globs = (globs,) if isinstance(globs, str) else tuple(globs)
        if row["read"] not in READS:
            raise ValueError(f"selection.yaml row {index}: unknown read {row['read']!r}")
        table.append(Rule(index, tuple(g.lower() for g in globs), on_path, row["read"], row["example"]))
    return tuple(table)


@lru_cache(maxsize=1)
def _peek_phrases() -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in _table()["peek_phrases"]), re.I)


@lru_cache(maxsize=4096)  # a census lists the same names in repo after repo
def rule_for(path: str) -> Rule | None:
    """The first row matching `path`, or None when no row does (the file is not read)."""
    for rule in rules():
        if rule.matches(path):
            return rule
    return None


def looks_like_licence_text(head: bytes) -> bool:
    """Whether the first bytes of a file read like a licence, notice or use agreement."""
    if b"\0" in head:
        return False
    return _peek_phrases().search(head.decode("utf-8", "replace")) is not None


def _size_label(size: int) -> str:
    return f"{size >> 20} MiB" if size % (1 << 20) == 0 else f"{size} bytes"


def select(
    files: Iterable[FileEntry],
    peek: Callable[[str], bytes | None] | None = None,
    *,
    file_cap: int = FILE_CAP,
    total_cap: int = TOTAL_CAP,
    max_files: int = MAX_FILES,
) -> Selection:
    """Choose what to read from a listing. `peek(path)` returns a file's first bytes (or None)."""
    chosen: list[tuple[Rule, FileEntry]] = []
    peekable: list[tuple[Rule, FileEntry]] = []
    for entry in files:
        rule = rule_for(entry.path)
        if rule is None or rule.read == "never":
            continue
        (peekable if rule.read == "peek" else chosen).append((rule, entry))
    if peek is not None:
        candidates = [(r, e) for r, e in peekable if e.size <= file_cap and not e.lfs]
        for rule, entry in sorted(candidates, key=_priority)[:MAX_PEEKS]:
            head = peek(entry.path)
            if head and looks_like_licence_text(head):
                chosen.append((rule, entry))

    read: list[str] = []
    unread: list[Skipped] = []
    used = 0
    for _, entry in sorted(chosen, key=_priority):
        if entry.size > file_cap:
            unread.append(Skipped(entry.path, f"larger than {_size_label(file_cap)}", SkipKind.TOO_LARGE))
        elif used + entry.size > total_cap:
            unread.append(Skipped(entry.path, f"over the {_size_label(total_cap)} read budget", SkipKind.OVER_BUDGET))
        elif len(read) == max_files:
            unread.append(Skipped(entry.path, f"over the {max_files}-file read budget", SkipKind.OVER_BUDGET))
        else:
            read.append(entry.path)
            used += entry.size
    return Selection(tuple(read), tuple(unread))


def _priority(item: tuple[Rule, FileEntry]) -> tuple[int, int, str]:
    """Table row first, then top-level files before nested ones, then by name."""
    rule, entry = item
    return rule.index, entry.path.count("/"), entry.path.lower()
