"""The Hub read at many revisions of one repo: its commit listing, each file's last commit, each blob once.

The commit listing is the Hub's (`/api/models/{id}/commits/{rev}`, what huggingface_hub's
`list_repo_commits` reads), followed page by page through its `Link` header and stopped as soon
as the commit that bounds the history is listed. Which commit last touched a file comes from
`paths-info` with `expand` (huggingface_hub's `get_paths_info`), asked only for the
licence-bearing files of a revision. The model info of a revision (`blobs=true`) gives every
file's blob id, so a file whose blob was already read at another revision is never read again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx2
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from auditor.errors import AuditorError, SourceUnavailable
from auditor.model import Revision, Skipped, Target, TargetKind
from auditor.sources.http import current_scope
from auditor.sources.hub import HubSource

if TYPE_CHECKING:
    from auditor.model import RepoSnapshot
    from auditor.sources.hub_schema import RepoInfo

_COMMIT = re.compile(r"[0-9a-f]{40}")
_MAX_PAGES = 2000  # 100,000 commits: a listing that goes on beyond is not a history to read
_TIMEOUT = 30.0  # seconds for one paths-info answer
_PAGE_CAP = 8 << 20  # a page of the commit listing is some 20 kB


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
            for item in page:
                commit = _revision(item)
                if commit is None:
                    raise SourceUnavailable(f"{self.endpoint}'s commit listing of {repo_id} holds an entry that is not a commit")
                listed.append(commit)
                if last(commit):
                    return listed
        return listed

    def last_commits(self, repo_id: str, commit: str, paths: list[str]) -> dict[str, Revision]:
        """For each path that exists at `commit`, the commit that last changed it (one paths-info request)."""
        if not paths:
            return {}
        url = f"{self.endpoint}/api/models/{repo_id}/paths-info/{commit}"
        headers = build_hf_headers(token=self.token)
        answer = self._json(lambda: get_session().post(url, data={"paths": paths, "expand": True}, headers=headers, timeout=_TIMEOUT),
                            repo_id, commit, "paths-info answer")
        found: dict[str, Revision] = {}
        for entry in answer if isinstance(answer, list) else ():
            last = entry.get("lastCommit") if isinstance(entry, dict) else None
            revision = _revision(last) if isinstance(last, dict) else None
            if revision is not None and entry.get("path") in paths:
                found[entry["path"]] = revision
        return found

    def _json(self, ask: Callable[[], httpx2.Response], repo_id: str, revision: str, what: str) -> Any:
        """The JSON body of a 2xx answer; a failure as the auditor's error."""
        try:
            response = ask()
            hf_raise_for_status(response)
            return response.json()
        except AuditorError:
            raise
        except ValueError as error:
            raise SourceUnavailable(f"{self.endpoint}'s {what} for {repo_id} is not JSON") from error
        except Exception as error:
            raise self.errors.error(error, repo_id, revision) from error

    def _json_page(self, url: str, headers: dict[str, str], repo_id: str, revision: str) -> tuple[list[Any], httpx2.Response]:
        """One page of the commit listing (through the retrying HTTP layer) and its answer, for the next page's link."""
        answers: list[Any] = []

        def ask() -> httpx2.Response:
            answer = self.http.get(url, None, headers, _PAGE_CAP, current_scope(), f"commit listing of {repo_id}")
            answers.append(answer)
            return answer.response

        page = self._json(ask, repo_id, revision, "commit listing")
        if answers[-1].truncated or not isinstance(page, list):
            raise SourceUnavailable(f"{self.endpoint}'s commit listing of {repo_id} is not a list of commits")
        return page, answers[-1].response

    def _pages(self, url: str | None, repo_id: str, revision: str) -> Iterator[list[Any]]:
        headers = build_hf_headers(token=self.token)
        for _ in range(_MAX_PAGES):
            if url is None:
                return
            page, response = self._json_page(url, headers, repo_id, revision)
            yield page
            following = response.links.get("next", {}).get("url")
            url = following if isinstance(following, str) and following.startswith(self.endpoint + "/") else None


def _revision(item: Any) -> Revision | None:
    """A commit of the listing (or a paths-info `lastCommit`), None when it is not one."""
    if not isinstance(item, dict):
        return None
    commit, date, title = item.get("id"), item.get("date"), item.get("title")
    if not isinstance(commit, str) or not _COMMIT.fullmatch(commit) or not isinstance(date, str):
        return None
    return Revision(commit, date, title if isinstance(title, str) else "")
