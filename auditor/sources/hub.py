"""The Hugging Face Hub as a source, through huggingface_hub's HTTP session, headers, URLs,
error types and ModelInfo parsing.

One model-info request lists every file with its size and LFS metadata and pins the commit;
then the small files `selection` chooses are read concurrently at that commit, one GET each,
into memory. No weight byte is ever fetched; `read_range` asks for exactly the bytes it is
given. Requests are made here rather than through `HfApi.model_info` / `hf_hub_download`
because a census needs what those do not give: a deadline on the whole request (a server
trickling one byte at a time never ends a read timeout), reads capped by the bytes actually
received (not by the size the listing claims), retries with jitter on every request, a
bounded `Retry-After`, and nothing written to disk.

Requests go through auditor.sources.http (timeouts, retries, the deadline of the
`request_scope` they run in: one per target in a batch). Hub failures become the auditor's
errors (auditor.sources.hub_errors), except a gated repo without access: its files are
listed and named in `unread`, and the audit goes on. File names the Hub lists are checked;
odd ones (`..`, absolute, backslashes, a NUL byte, overlong) are never requested and are
listed as unread. A fetch outside any scope gets one of AUDITOR_TARGET_TIMEOUT seconds
(default 120).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx2
from huggingface_hub import constants, hf_hub_url
from huggingface_hub.errors import GatedRepoError, HFValidationError, RemoteEntryNotFoundError
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, validate_repo_id

from auditor.errors import AuditorError, DeadlineExceeded, HubUnreachable, SourceError, UsageError
from auditor.model import AncestorRecord, FileEntry, RepoSnapshot, SkipKind, Skipped, Target, TargetKind
from auditor.once import OncePerKey
from auditor.sources.blobs import BlobStore
from auditor.sources.http import (
    HttpClient,
    Malformed,
    Params,
    RequestScope,
    current_scope,
    env_number,
    first_line,
    in_scope,
    request_scope,
)
from auditor.sources.hub_errors import HubErrors, lookup_failure, status_of
from auditor.sources.interface import DEFAULT_TARGET_TIMEOUT, RepoSource
from auditor.sources.selection import FILE_CAP, select
from auditor.sources.texts import collect

if TYPE_CHECKING:  # huggingface_hub's API module costs a tenth of a second to import: only when a reply is parsed
    from huggingface_hub.hf_api import ModelInfo

_INFO_CAP = 64 << 20  # a model-info answer for a repo of 100,000 files is about 20 MB
_MAX_NAME = 1024  # the Hub's own limit on a path in a repo is well below this
_ANCESTOR_TEXT = re.compile(r"^(licen[cs]e|copying|notice)", re.I)  # an ancestor's licence and notice files
_ANCESTOR_TEXTS = 4
__all__ = ["HubSource", "RequestScope", "escaped_name", "odd_file_name", "request_scope"]


class HubSource(RepoSource):
    """Reads model repos from a Hub endpoint (the public Hub unless `endpoint` says otherwise).

    `token`: a token string, False for anonymous access, or None for huggingface_hub's own
    lookup (HF_TOKEN, then the token `hf auth login` stored). `timeout` is the connect and
    read timeout of one request, `request_timeout` the limit on a whole request (body
    included); `retries` more attempts follow a connection error, a reset, a timeout, a 5xx
    or a 429, `retry_wait` seconds apart doubling with jitter, or as long as `Retry-After`
    says up to `retry_after_cap`. `workers` bounds concurrent file reads, `api_slots`
    concurrent metadata requests, across every target of a run.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | bool | None = None,
        *,
        timeout: float | None = None,
        workers: int = 4,
        retries: int | None = None,
        retry_wait: float | None = None,
        request_timeout: float | None = None,
        retry_after_cap: float | None = None,
        api_slots: int = 16,
    ):
        self.endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
        self.token = token
        self.http = HttpClient(
            self.endpoint, timeout=timeout, retries=retries, retry_wait=retry_wait,
            request_timeout=request_timeout, retry_after_cap=retry_after_cap,
        )
        self.errors = HubErrors(self.endpoint, token)
        self.workers = max(1, workers)
        self._api_slots = threading.BoundedSemaphore(max(1, api_slots))
        self._pool: ThreadPoolExecutor | None = None
        self._bytes_read = 0
        self._lock = threading.Lock()
        self._lookups = OncePerKey()  # (type, id) -> its info, None if it failed
        self._lookup_errors: dict[tuple[str, str], str] = {}
        self._ancestors = OncePerKey()
        self._unreachable = False
        self.blobs: BlobStore | None = None  # texts by blob id, kept across targets and runs (a census's)

    @property
    def retries_total(self) -> int:
        """Requests asked again over the whole run, for progress displays."""
        return self.http.retries_total

    @property
    def request_timeout(self) -> float:
        """The limit on one whole request, seconds."""
        return self.http.request_timeout

    # --- RepoSource
    def fetch(self, target: Target) -> RepoSnapshot:
        """The snapshot of `target`: its model info, then its chosen small files."""
        if in_scope():
            return self.snapshot(target, self.model_info(target))
        # outside a census's per-target scope, the fetch still has a deadline of its own
        with request_scope(env_number("AUDITOR_TARGET_TIMEOUT", DEFAULT_TARGET_TIMEOUT)):
            return self.snapshot(target, self.model_info(target))

    def model_info(self, target: Target) -> ModelInfo:
        """The one metadata request: every file with its size and LFS data, the commit, the card's metadata."""
        repo_id = _repo_id(target)
        revision = target.revision
        url = f"{self.endpoint}/api/models/{repo_id}"
        if revision is not None:
            url += f"/revision/{quote(revision, safe='')}"
        params = {"blobs": "true", "securityStatus": "true"}
        from huggingface_hub.hf_api import ModelInfo

        return self._api(url, params, lambda data: ModelInfo(**data), repo_id, revision, f"model info of {repo_id}")

    def snapshot(self, target: Target, info: ModelInfo) -> RepoSnapshot:
        """The snapshot of `target` given its model info: the chosen small files read at its commit."""
        repo_id = _repo_id(target)
        sha = info.sha or target.revision or "main"
        entries, odd = _file_entries(info.siblings or ())
        files = tuple(sorted(entries, key=lambda f: f.path))
        selection = select(files)
        # a gated repo's files are read only with access granted, never from another repo's copy
        texts, failed = collect(self._read_texts(repo_id, sha, selection.read, () if info.gated else info.siblings or ()))
        card_data = info.card_data.to_dict() if info.card_data is not None else None
        return RepoSnapshot(
            target=target,
            sha=info.sha,
            files=files,
            texts=texts,
            unread=tuple(sorted(selection.unread + tuple(failed) + tuple(odd), key=lambda s: s.path)),
            gated=info.gated or False,
            private=bool(info.private),
            hub_card_data=card_data,
            security=info.security_repo_status,
            tags=tuple(t for t in info.tags or () if isinstance(t, str)),
            hub_endpoint=self.endpoint,
        )

    def read_range(self, snapshot: RepoSnapshot, path: str, start: int, length: int) -> bytes:
        """Bytes of `path` at the snapshot's commit, through an HTTP range request."""
        if start < 0 or length < 0:
            raise ValueError(f"bad range: start={start} length={length}")
        entry = snapshot.file(path)
        if entry is not None:
            length = max(0, min(length, entry.size - start))
        if length == 0:
            return b""
        repo_id = _repo_id(snapshot.target)
        revision = snapshot.sha or snapshot.target.revision or "main"
        headers = build_hf_headers(token=self.token)
        headers["Range"] = f"bytes={start}-{start + length - 1}"
        headers["Accept-Encoding"] = "identity"  # a compressed body would not be the bytes asked for
        url = hf_hub_url(repo_id, path, revision=revision, endpoint=self.endpoint)
        try:
            answer = self.http.get(url, None, headers, length, current_scope(), f"{repo_id}/{path}")
            if answer.status == 416:
                return b""
            hf_raise_for_status(answer.response)
        except AuditorError:
            raise
        except Exception as error:
            raise self.errors.error(error, repo_id, revision, path) from error
        if answer.status == 200 and start > 0:
            # the server ignored Range: skipping to `start` would mean downloading what we must not
            raise SourceError(f"{url}: the server ignored the byte range asked for")
        data = answer.response.content[:length]
        with self._lock:
            self._bytes_read += len(data)
        return data

    def bytes_read(self) -> int:
        """Bytes of file content read through read_range so far."""
        return self._bytes_read

    def dataset_licences(self, repo_id: str) -> tuple[str, ...] | None:
        """The licences a dataset's card declares (one request per run)."""
        info = self._registry_info("dataset", repo_id)
        return _declared(info) if info is not None else None

    def ancestor(self, repo_id: str) -> AncestorRecord:
        """A model named as an ancestor: its card, tags and licence texts (the model-info request is shared, cached)."""
        record = self._ancestors.get(repo_id, lambda: self._read_ancestor(repo_id), self._wait_limit, abandon_on=DeadlineExceeded)
        return record or AncestorRecord(repo_id, readable=False, reason="the target's time ran out")

    def _read_ancestor(self, repo_id: str) -> AncestorRecord:
        info = self._registry_info("model", repo_id)
        if info is None:
            reason = self._lookup_errors.get(("model", repo_id), "the Hub could not be reached")
            return AncestorRecord(repo_id, readable=False, reason=reason)
        entries, _ = _file_entries(info.siblings or ())
        files = tuple(entry.path for entry in entries)
        wanted = tuple(p for p in files if "/" not in p and _ANCESTOR_TEXT.match(p))[:_ANCESTOR_TEXTS]
        texts, _ = collect(self._read_texts(repo_id, info.sha or "main", wanted, () if info.gated else info.siblings or ()))
        return AncestorRecord(
            repo_id, readable=True,
            card=info.card_data.to_dict() if info.card_data is not None else {},
            tags=tuple(t for t in info.tags or () if isinstance(t, str)), texts=texts, files=files,
        )

    def list_model_ids(self, author: str | None, search: str | None, filters: tuple[str, ...], limit: int | None) -> list[str]:
        """Repo ids from the Hub's model listing, through huggingface_hub's `list_models`."""
        from huggingface_hub import HfApi

        api = HfApi(endpoint=self.endpoint, token=self.token)
        try:
            models = api.list_models(author=author or None, search=search or None, filter=list(filters) or None, limit=limit)
            return [model.id for model in models if isinstance(getattr(model, "id", None), str)]
        except Exception as error:  # noqa: BLE001 - the listing's failure, mapped to the auditor's error for its cause
            raise self.errors.error(error, author or search or "the model listing", None) from error

    def close(self) -> None:
        """Stop the file-read pool (threads end once their reads do)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # --- look-ups shared by every target of a run
    def _registry_info(self, repo_type: str, repo_id: str) -> Any:
        # Asked once per run however many targets name it, even concurrently; never retried
        # at length: these look-ups enrich a report, they never block it. After the Hub
        # proves unreachable once, nothing more is asked of it in this run.
        key = (repo_type, repo_id)
        fetch = lambda: None if self._unreachable else self._fetch_registry_info(repo_type, repo_id)  # noqa: E731
        return self._lookups.get(key, fetch, self._wait_limit, abandon_on=DeadlineExceeded)

    def _wait_limit(self) -> float:
        # how long a target waits for a look-up another target is making: its own time left
        return current_scope().remaining() or self.request_timeout

    def _fetch_registry_info(self, repo_type: str, repo_id: str) -> Any:
        """The model or dataset info of `repo_id`, or None (the reason kept in _lookup_errors)."""
        def parse(data: Any) -> Any:
            from huggingface_hub.hf_api import DatasetInfo, ModelInfo  # imported once a reply came

            return DatasetInfo(**data) if repo_type == "dataset" else ModelInfo(**data)

        url = f"{self.endpoint}/api/{repo_type}s/{repo_id}"
        try:
            validate_repo_id(repo_id)
            return self._api(url, None, parse, repo_id, None, f"{repo_type} info of {repo_id}", retries=1, retry_refused=False)
        except DeadlineExceeded:
            raise
        except HubUnreachable as error:
            self._unreachable = True
            self._lookup_errors[(repo_type, repo_id)] = lookup_failure(error)
            return None
        except AuditorError as error:
            self._lookup_errors[(repo_type, repo_id)] = lookup_failure(error)
            return None
        except Exception as error:  # noqa: BLE001 - an invalid or malformed repo is simply not looked up
            self._lookup_errors[(repo_type, repo_id)] = first_line(error)
            return None

    # --- requests
    def _api(self, url: str, params: Params, parse: Callable[[Any], Any], repo_id: str, revision: str | None, what: str,
             retries: int | None = None, *, retry_refused: bool = True) -> Any:
        """A JSON API answer, parsed; a malformed one is asked again like a failed request."""
        headers = build_hf_headers(token=self.token)
        scope = current_scope()

        def parsed(response: httpx2.Response) -> Any:
            try:
                return parse(json.loads(response.content))
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise Malformed(f"not valid JSON of the expected shape ({type(error).__name__})") from error

        try:
            with self._api_slots:
                answer = self.http.get(url, params, headers, _INFO_CAP, scope, what, parse=parsed, retries=retries, retry_refused=retry_refused)
            hf_raise_for_status(answer.response)
            return answer.parsed
        except AuditorError:
            raise
        except Exception as error:
            raise self.errors.error(error, repo_id, revision) from error

    # --- file reads
    def _read_texts(self, repo_id: str, sha: str, paths: tuple[str, ...], siblings: Iterable[Any]) -> list[tuple[str, bytes | Skipped]]:
        """The chosen files' bytes: from the blob store when their blob was read before, else downloaded (and kept)."""
        if self.blobs is None:
            return self._download_all(repo_id, sha, paths)
        blob_ids = {s.rfilename: s.blob_id for s in siblings if isinstance(getattr(s, "rfilename", None), str)
                    and isinstance(getattr(s, "blob_id", None), str) and getattr(s, "lfs", None) is None}
        blobs = self.blobs
        known = {path: blobs.get(blob_ids.get(path)) for path in paths}
        mine = tuple(path for path in paths if known[path] is None and blobs.claim(blob_ids.get(path)))
        try:
            downloaded = dict(self._download_all(repo_id, sha, mine))
            for path, data in downloaded.items():
                if isinstance(data, bytes) and path != "README.md":  # a card is its own repo's: never shared
                    blobs.put(blob_ids.get(path), data)
        finally:
            for path in mine:
                blobs.release(blob_ids.get(path))
        theirs = tuple(path for path in paths if known[path] is None and path not in downloaded)
        for path in theirs:  # another target was reading the same blob: its bytes, once read
            known[path] = blobs.wait(blob_ids[path], self._wait_limit())
        late = tuple(path for path in theirs if known[path] is None)
        downloaded.update(self._download_all(repo_id, sha, late))  # its read failed: this target's own
        return [(path, found if (found := known[path]) is not None else downloaded[path]) for path in paths]

    def _download_all(self, repo_id: str, sha: str, paths: tuple[str, ...]) -> list[tuple[str, bytes | Skipped]]:
        if not paths:
            return []
        scope = current_scope()
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="hub-files")
            pool = self._pool
        futures = [pool.submit(self._download, repo_id, sha, path, scope) for path in paths]
        try:
            return [(path, future.result()) for path, future in zip(paths, futures, strict=True)]
        except BaseException:
            for future in futures:
                future.cancel()  # one fatal error ends the fetch: do not start the rest
            wait(futures)  # and the reads already started end (within the deadline) before it is reported
            raise

    def _download(self, repo_id: str, sha: str, path: str, scope: RequestScope) -> bytes | Skipped:
        url = hf_hub_url(repo_id, path, revision=sha, endpoint=self.endpoint)
        headers = build_hf_headers(token=self.token)
        headers["Accept-Encoding"] = "identity"  # the cap counts the bytes received, not inflated ones
        try:
            answer = self.http.get(url, None, headers, FILE_CAP, scope, f"{repo_id}/{path}")
            hf_raise_for_status(answer.response)
        except GatedRepoError:
            return Skipped(path, self.errors.gated_reason(repo_id), SkipKind.GATED)
        except RemoteEntryNotFoundError:
            return Skipped(path, f"listed by the Hub but missing at {sha}")
        except AuditorError:
            raise
        except Exception as error:
            if status_of(error) == 404:
                return Skipped(path, f"listed by the Hub but not found at {sha} (404)")
            raise self.errors.error(error, repo_id, sha, path) from error
        if answer.truncated:
            return Skipped(path, f"larger than {FILE_CAP >> 20} MiB as served (stopped reading there)", SkipKind.TOO_LARGE)
        return answer.response.content


def _repo_id(target: Target) -> str:
    if target.kind is not TargetKind.HUB or not target.repo_id:
        raise UsageError(f"{target.label} is not a Hub repo")
    try:
        validate_repo_id(target.repo_id)
    except HFValidationError as error:
        raise UsageError(f"{target.repo_id!r} is not a valid Hub repo id: {first_line(error)}") from error
    return target.repo_id


def odd_file_name(name: Any) -> str | None:
    """Why a file name the Hub lists must not be requested or shown as is; None when it is fine."""
    if not isinstance(name, str) or not name:
        return "not a file name"
    if len(name) > _MAX_NAME:
        return f"a file name of {len(name)} characters"
    if "\0" in name:  # other control characters are listed, and escaped by every renderer
        return "a file name with a NUL byte"
    if "\\" in name:
        return "a file name with backslashes"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute file name"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "a file name with empty, . or .. parts"
    return None


def escaped_name(name: Any, limit: int = 120) -> str:
    """A hostile name made safe to print: control characters escaped, the length bounded."""
    text = name if isinstance(name, str) else repr(name)
    text = text.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 or ord(c) == 127 for c in text) else text
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _file_entries(siblings: Iterable[Any]) -> tuple[list[FileEntry], list[Skipped]]:
    """The listed files, and the odd names among them as unread (never requested)."""
    entries: list[FileEntry] = []
    odd: list[Skipped] = []
    for sibling in siblings:
        name = getattr(sibling, "rfilename", None)
        problem = odd_file_name(name)
        if problem is not None or not isinstance(name, str):
            odd.append(Skipped(escaped_name(name), f"not read: {problem}"))
            continue
        try:
            if sibling.lfs is not None:
                entries.append(FileEntry(name, int(sibling.lfs.size), lfs=True, sha256=sibling.lfs.sha256))
            else:
                entries.append(FileEntry(name, int(sibling.size or 0)))
        except (TypeError, ValueError, AttributeError):
            odd.append(Skipped(name, "not read: the Hub listed it without a valid size"))
    return entries, odd


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _declared(info: Any) -> tuple[str, ...] | None:
    """The `license` / `license_name` values a repo's card declares, else its Hub licence tags."""
    card = info.card_data.to_dict() if info.card_data is not None else {}
    declared = [*_as_list(card.get("license")), *_as_list(card.get("license_name"))]
    if not declared:
        declared = [t.split(":", 1)[1] for t in info.tags or () if isinstance(t, str) and t.startswith("license:")]
    return tuple(dict.fromkeys(str(v) for v in declared if v)) or None
