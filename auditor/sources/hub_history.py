"""The Hub read at many revisions of one repo: its commit listing, each file's last commit, each blob once.

The commit listing is the Hub's (`/api/models/{id}/commits/{rev}`, what huggingface_hub's
`list_repo_commits` reads), followed page by page through its `Link` header and stopped as soon
as the commit that bounds the history is listed. Which commit last touched a file comes from
`paths-info` with `expand` (huggingface_hub's `get_paths_info`), asked only for the
licence-bearing files of a revision. The model info of a revision (`blobs=true`) gives every
file's blob id, so a file whose blob was already read at another revision is never read again.

Every answer goes through the retrying HTTP layer (the paths-info POST too: its retries,
`Retry-After`, rate budget, byte cap, redirect-loop and decoding checks) and is checked field
by field against its schema in hub_schema before use: a malformed one is SourceUnavailable
naming the endpoint and the field. A listing whose `next` page leaves the endpoint, points back
to a page already read or goes on past _MAX_PAGES pages is malformed too: a history cut short
silently could hide the commit that changed the terms.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from auditor.errors import SourceUnavailable
from auditor.model import Revision, Skipped, Target, TargetKind
from auditor.sources.hub import HubSource
from auditor.sources.hub_schema import parse_commit_page, parse_paths_info

if TYPE_CHECKING:
    from auditor.model import RepoSnapshot
    from auditor.sources.hub_schema import RepoInfo

_MAX_PAGES = 2000  # 100,000 commits: a listing that goes on beyond is not a history to read


class HubHistorySource(HubSource):
    """A Hub source for reading one repo at many revisions: model infos kept by commit, blobs read once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The arguments of HubSource."""
        super().__init__(*args, **kwargs)
        self._infos: dict[tuple[str, str], RepoInfo] = {}
        self._blob_ids: dict[tuple[str, str], str] = {}  # (commit, path) -> blob id
        self._blobs: dict[str, bytes | Skipped] = {}  # blob id -> what reading it gave
        self._history_lock = threading.Lock()

    def model_info(self, target: Target) -> RepoInfo:
        """The model info at the target's revision, asked once per revision and commit."""
        repo_id = target.repo_id or ""
        key = (repo_id, target.revision or "")
        if key not in self._infos:
            info = super().model_info(target)
            self._infos[key] = info
            if info.sha:
                self._infos[(repo_id, info.sha)] = info
        return self._infos[key]

    def info_at(self, repo_id: str, commit: str) -> RepoInfo:
        """The model info (files with their blob ids) at `commit`."""
        return self.model_info(Target(TargetKind.HUB, repo_id=repo_id, revision=commit))

    def snapshot(self, target: Target, info: RepoInfo) -> RepoSnapshot:
        """The snapshot at the info's commit, reading only the blobs no earlier revision read."""
        if info.sha:
            for file in info.files:
                if file.blob_id is not None and isinstance(file.name, str):
                    self._blob_ids[(info.sha, file.name)] = file.blob_id
        return super().snapshot(target, info)

    def _download_all(self, repo_id: str, sha: str, paths: tuple[str, ...]) -> list[tuple[str, bytes | Skipped]]:
        ids = {path: self._blob_ids.get((sha, path)) for path in paths}
        with self._history_lock:
            missing = tuple(path for path in paths if ids[path] is None or ids[path] not in self._blobs)
        read = dict(super()._download_all(repo_id, sha, missing))
        with self._history_lock:
            for path, data in read.items():
                blob_id = ids[path]
                if blob_id is not None and not isinstance(data, Skipped):
                    self._blobs[blob_id] = data
            return [(path, read[path] if path in read else self._blobs[ids[path] or ""]) for path in paths]

    def commits(self, repo_id: str, revision: str, last: Callable[[Revision], bool]) -> list[Revision]:
        """The commits reachable from `revision`, newest first, up to the first for which `last` is true."""
        url: str | None = f"{self.endpoint}/api/models/{repo_id}/commits/{quote(revision, safe='')}"
        listed: list[Revision] = []
        for page in self._pages(url, repo_id, revision):
            for commit in page:
                listed.append(commit)
                if last(commit):
                    return listed
        return listed

    def last_commits(self, repo_id: str, commit: str, paths: list[str]) -> dict[str, Revision]:
        """For each path that exists at `commit`, the commit that last changed it (one paths-info request)."""
        if not paths:
            return {}
        url = f"{self.endpoint}/api/models/{repo_id}/paths-info/{commit}"
        answer = self._api(url, None, parse_paths_info, repo_id, commit, f"paths-info of {repo_id} at {commit[:12]}",
                           form={"paths": paths, "expand": True})
        return {path: revision for path, revision in answer.items() if revision is not None and path in paths}

    def _pages(self, url: str | None, repo_id: str, revision: str) -> Iterator[tuple[Revision, ...]]:
        """The commit listing's pages along its `Link: next` headers; a link back to a page already read is a malformed listing."""
        seen: set[str] = set()
        what = f"commit listing of {repo_id}"
        for _ in range(_MAX_PAGES):
            if url is None:
                return
            seen.add(url)
            answer = self._api_answer(url, None, parse_commit_page, repo_id, revision, what)
            yield answer.parsed
            url = self._next_page(url, answer.response, what)
            if url in seen:
                raise SourceUnavailable(f"{self.endpoint}'s {what} points its next page back to a page already read")
        raise SourceUnavailable(f"{self.endpoint}'s {what} goes on beyond {_MAX_PAGES} pages")
