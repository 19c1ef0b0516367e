"""Which revisions changed a repository's licence-bearing files, and how to read each.

On the Hub, the walk starts at the head and goes back: the files' last commits (paths-info)
name the newest commit that changed a licence-bearing file still there, and comparing its
files with the later revision's tells whether one was deleted in between (then found by
bisection, since between the two only deletions can have happened). Each step costs a few
requests, so the cost follows the commits that matter, not the length of the history. In a
local git checkout, `git log` names the files every commit touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import UsageError
from auditor.history.bearing import licence_bearing
from auditor.model import RepoSnapshot, Revision, Target, TargetKind
from auditor.sources.gitrepo import GitRepo

if TYPE_CHECKING:
    from auditor.sources.hub_history import HubHistorySource
    from auditor.sources.interface import RepoSource

State = Mapping[str, str]  # licence-bearing path -> blob id


@dataclass(frozen=True)
class Since:
    """Where a history starts: a date, or a revision (a pinned commit, a tag, a branch)."""

    text: str
    date: datetime | None = None

    @property
    def revision(self) -> str | None:
        """The revision it names, when it names no date."""
        return None if self.date is not None else self.text


def parse_since(text: str) -> Since:
    """`--since`: a date (2024-06-01, or ISO 8601 with a time) or else a revision."""
    try:
        date = datetime.fromisoformat(text.strip())
    except ValueError:
        return Since(text.strip())
    return Since(text.strip(), date if date.tzinfo is not None else date.replace(tzinfo=UTC))


@dataclass(frozen=True)
class Point:
    """A revision whose licence-bearing state the history audits, and how to read it."""

    revision: Revision
    state: State
    read: Callable[[], RepoSnapshot]
    baseline: bool = False  # the state in force at --since


@dataclass(frozen=True)
class Walk:
    """The revisions to audit, oldest first, and how many commits the listing gave."""

    points: tuple[Point, ...]
    listed: int


def commit_date(text: str) -> datetime | None:
    """A commit's date, None when it is not a date."""
    try:
        date = datetime.fromisoformat(text)
    except ValueError:
        return None
    return date if date.tzinfo is not None else date.replace(tzinfo=UTC)


def _before(commit: Revision, since: Since) -> bool:
    date = commit_date(commit.date)
    return since.date is not None and date is not None and date <= since.date


def hub_walk(source: HubHistorySource, target: Target, head: str, since: Since | None) -> Walk:
    """The Hub repo's revisions that changed its licence-bearing files, from `head` back to `since`."""
    repo_id = target.repo_id or ""
    pinned = source.info_at(repo_id, since.revision).sha if since is not None and since.revision else None

    def last(commit: Revision) -> bool:
        return commit.commit == pinned if pinned else since is not None and _before(commit, since)

    commits = source.commits(repo_id, head, last)
    if not commits:
        raise UsageError(f"--history: the Hub lists no commits for {repo_id}")
    if pinned and commits[-1].commit != pinned:
        raise UsageError(f"--since {since.text if since else ''}: not a revision in the history of {target.label}")
    bound = len(commits) - 1
    at_since = since is not None and last(commits[bound])
    index = {c.commit: i for i, c in enumerate(commits)}
    infos: dict[int, Any] = {}

    def info(position: int) -> Any:
        if position not in infos:
            infos[position] = source.info_at(repo_id, commits[position].commit)
        return infos[position]

    def state(position: int) -> dict[str, str]:
        return _hub_state(info(position))

    def position_of(revision: Revision) -> int:
        if revision.commit in index:
            return index[revision.commit]
        date = commit_date(revision.date)  # a commit off the listed line: place it by its date
        later = [i for i, c in enumerate(commits) if date is not None and (commit_date(c.date) or date) <= date]
        return later[0] if later else bound

    changes: set[int] = set()

    def bisect(newer: int, older: int) -> None:
        """Record every position in [newer, older) whose state differs from the one just older."""
        if older == newer + 1:
            changes.add(newer)
            return
        middle = (newer + older) // 2
        if state(newer) != state(middle):
            bisect(newer, middle)
        if state(middle) != state(older):
            bisect(middle, older)

    position = 0
    while position < bound:
        current = state(position)
        lasts = source.last_commits(repo_id, commits[position].commit, sorted(current))
        changed_at = min((position_of(r) for r in lasts.values()), default=bound)
        changed_at = max(position, min(changed_at, bound))
        if state(changed_at) != current:  # a file was deleted in between
            bisect(position, changed_at)
        if changed_at == bound:
            break
        changes.add(changed_at)
        position = changed_at + 1
    changes.add(bound)

    def reader(position: int) -> Callable[[], RepoSnapshot]:
        commit = commits[position].commit
        return lambda: source.snapshot(Target(TargetKind.HUB, repo_id=repo_id, revision=commit), info(position))

    points = tuple(Point(commits[p], state(p), reader(p), baseline=at_since and p == bound) for p in sorted(changes, reverse=True))
    return Walk(points, len(commits))


def _hub_state(info: Any) -> dict[str, str]:
    from auditor.sources.hub import odd_file_name

    state = {}
    for file in info.files:
        name = file.name
        if isinstance(name, str) and odd_file_name(name) is None and licence_bearing(name):
            state[name] = file.blob_id or ""
    return state


def git_walk(source: RepoSource, target: Target, since: Since | None) -> Walk:
    """The local checkout's commits that touched its licence-bearing files, from its HEAD (or --revision) back to `since`."""
    root = Path(target.path or ".")
    repo = GitRepo.open(root)
    if repo is None:
        raise UsageError(f"--history: {root} is not the top of a git checkout (or git is not installed), so it has no history")
    head = repo.resolve(target.revision or "HEAD")
    log = repo.log(head)
    if not log:
        raise UsageError(f"--history: {root} has no commits")
    bound = len(log) - 1
    at_since = False
    if since is not None and since.revision:
        pinned = repo.resolve(since.revision)
        found = [i for i, entry in enumerate(log) if entry[0] == pinned]
        if not found:
            raise UsageError(f"--since {since.text}: not a commit on the first-parent line of {target.label}")
        bound, at_since = found[0], True
    elif since is not None:
        found = [i for i, entry in enumerate(log) if _before(Revision(entry[0], entry[1], entry[2]), since)]
        if found:
            bound, at_since = found[0], True
    positions = [i for i in range(bound) if any(licence_bearing(path) for path in log[i][3])] + [bound]

    def point(position: int) -> Point:
        sha, date, title, _ = log[position]
        state = {blob.path: blob.oid for blob in repo.tree(sha) if licence_bearing(blob.path)}
        at = Target(TargetKind.LOCAL, path=target.path, revision=sha)
        return Point(Revision(sha, date, title), state, lambda: source.fetch(at), baseline=at_since and position == bound)

    return Walk(tuple(point(p) for p in reversed(positions)), bound + 1)
