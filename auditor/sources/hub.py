"""The Hugging Face Hub as a source, through huggingface_hub's HTTP session, headers, URLs,
and error types; answers checked by auditor.sources.hub_schema.

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

Over 400 lines: HubSource's methods share one target's request scope and deadline; the HTTP
layer and the error mapping already live in http.py and hub_errors.py.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

import httpx2
from huggingface_hub import constants, hf_hub_url
from huggingface_hub.errors import GatedRepoError, HFValidationError, RemoteEntryNotFoundError
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, validate_repo_id

from auditor.bounded import BudgetExceeded, load_json
from auditor.errors import AuditorError, DeadlineExceeded, HubUnreachable, SourceError, SourceUnavailable, UsageError
from auditor.logs import log
from auditor.model import AncestorRecord, FileEntry, RepoSnapshot, SkipKind, Skipped, Target, TargetKind
from auditor.once import OncePerKey
from auditor.sources.blobs import BlobStore
from auditor.sources.http import (
    Answer,
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
from auditor.sources.hub_schema import BadAnswer, ListedFile, RepoInfo, parse_repo_info
from auditor.sources.interface import DEFAULT_TARGET_TIMEOUT, RepoSource
from auditor.sources.selection import FILE_CAP, select
from auditor.sources.texts import collect
from auditor.targets import valid_repo_id

_INFO_CAP = 64 << 20  # a model-info answer for a repo of 100,000 files is about 20 MB
LISTING_PAGE_CAP = 1000  # pages of a listing followed at most (AUDITOR_LISTING_PAGE_CAP to change)
_INFO_DEPTH = 64  # a model-info answer nests about 8 deep (cardData included)
_MAX_NAME = 1024  # the Hub's own limit on a path in a repo is well below this
_ANCESTOR_TEXT = re.compile(r"^(licen[cs]e|copying|notice)", re.I)  # an ancestor's licence and notice files
_ANCESTOR_TEXTS = 4
_CARD = "README.md"
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
        self._base_headers: dict[str, str] | None = None

    def _headers(self) -> dict[str, str]:
        """The Hub's request headers for this source's token, a fresh copy each time; built once, since
        building them looks the token up (a file read) and would cost each request that again."""
        if self._base_headers is None:
            self._base_headers = build_hf_headers(token=self.token)
        return dict(self._base_headers)

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

    def model_info(self, target: Target) -> RepoInfo:
        """The one metadata request: every file with its size and LFS data, the commit, the card's metadata."""
        repo_id = _repo_id(target)
        revision = target.revision
        url = f"{self.endpoint}/api/models/{repo_id}"
        if revision is not None:
            url += f"/revision/{quote(revision, safe='')}"
        params = {"blobs": "true", "securityStatus": "true"}
        return self._api(url, params, parse_repo_info, repo_id, revision, f"model info of {repo_id}")

    def snapshot(self, target: Target, info: RepoInfo) -> RepoSnapshot:
        """The snapshot of `target` given its model info: the chosen small files read at its commit."""
        repo_id = _repo_id(target)
        sha = info.sha or target.revision or "main"
        entries, odd = _file_entries(info.files)
        files = tuple(sorted(entries, key=lambda f: f.path))
        selection = select(files)
        # a gated repo's files are read only with access granted, never from another repo's copy
        read = self._read_gated(repo_id, sha, selection.read) if info.gated else self._read_texts(repo_id, sha, selection.read, info.files)
        texts, failed = collect(read)
        return RepoSnapshot(
            target=target,
            sha=info.sha,
            files=files,
            texts=texts,
            unread=tuple(sorted(selection.unread + tuple(failed) + tuple(odd), key=lambda s: s.path)),
            gated=info.gated,
            private=info.private,
            hub_card_data=info.card_data,
            security=info.security,
            tags=info.tags,
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
        headers = self._headers()
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
        entries, _ = _file_entries(info.files)
        files = tuple(entry.path for entry in entries)
        wanted = tuple(p for p in files if "/" not in p and _ANCESTOR_TEXT.match(p))[:_ANCESTOR_TEXTS]
        texts, _ = collect(self._read_texts(repo_id, info.sha or "main", wanted, () if info.gated else info.files))
        return AncestorRecord(
            repo_id, readable=True,
            card=info.card_data or {}, tags=info.tags, texts=texts, files=files,
        )

    def list_model_ids(self, author: str | None, search: str | None, filters: tuple[str, ...], limit: int | None) -> list[str]:
        """Repo ids from the Hub's model listing, page by page along its `Link: next` headers.

        Every id is checked against the Hub's id grammar (a listing from a mirror may hold
        `../x` or `/abs`, which must never become a local path); the paging stops at
        LISTING_PAGE_CAP pages and at a `next` link already followed."""
        params: list[tuple[str, str]] = [(k, v) for k, v in (("author", author), ("search", search)) if v]
        params += [("filter", f) for f in filters]
        if limit:
            params.append(("limit", str(limit)))
        url: str | None = f"{self.endpoint}/api/models"
        what = f"the model listing of {author or search or 'the Hub'}"
        headers = self._headers()
        ids: list[str] = []
        seen: set[str] = set()
        pages = 0
        page_cap = int(env_number("AUDITOR_LISTING_PAGE_CAP", LISTING_PAGE_CAP))
        while url is not None and (not limit or len(ids) < limit):
            if url in seen:
                log.warning("%s: the listing's next page points back to a page already read; stopped there", what)
                break
            if pages >= page_cap:
                log.warning("%s: stopped after %d pages (the listing page cap)", what, page_cap)
                break
            seen.add(url)
            pages += 1
            page = self._listing_page(url, tuple(params) if pages == 1 else None, headers, what)
            ids += [repo_id for repo_id in page.ids if repo_id not in ids]
            if page.refused:
                log.warning("%s: %d listed id(s) are not valid Hub repo ids and were left out", what, page.refused)
            url = page.next_url
        return ids[:limit] if limit else ids

    def _listing_page(self, url: str, params: Params, headers: dict[str, str], what: str) -> _ListingPage:
        def parsed(response: httpx2.Response) -> Any:
            data = load_json(response.content, max_depth=_INFO_DEPTH)
            if not isinstance(data, list):
                raise Malformed("not valid JSON of the expected shape: the listing is not a list")
            return data

        try:
            with self._api_slots:
                answer = self.http.get(url, params, headers, _INFO_CAP, current_scope(), what, parse=parsed)
            hf_raise_for_status(answer.response)
        except AuditorError:
            raise
        except ValueError as error:
            raise SourceUnavailable(f"{self.endpoint}'s answer for {what} is not valid JSON ({first_line(error)})") from error
        except Exception as error:  # noqa: BLE001 - the listing's failure, mapped to the auditor's error for its cause
            raise self.errors.error(error, what, None) from error
        ids: list[str] = []
        refused = 0
        for model in answer.parsed:
            repo_id = model.get("id") if isinstance(model, dict) else None
            if isinstance(repo_id, str) and valid_repo_id(repo_id):
                ids.append(repo_id)
            else:
                refused += 1
        return _ListingPage(ids, refused, self._next_page(url, answer.response, "listing"))

    def _next_page(self, url: str, response: httpx2.Response, name: str) -> str | None:
        """The page its `Link: next` header names after `url`'s (None: the last); a link off this
        endpoint is a malformed answer (`name` says which listing)."""
        following = response.links.get("next", {}).get("url")
        next_url = urljoin(url, following) if isinstance(following, str) and following else None
        if next_url is not None and not next_url.startswith(self.endpoint + "/"):
            raise SourceUnavailable(f"{self.endpoint}'s {name} points its next page at another host")
        return next_url

    def close(self) -> None:
        """Stop the file-read pool (threads end once their reads do)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # --- look-ups shared by every target of a run
    def _registry_info(self, repo_type: str, repo_id: str) -> RepoInfo | None:
        # Asked once per run however many targets name it, even concurrently; never retried
        # at length: these look-ups enrich a report, they never block it. After the Hub
        # proves unreachable once, nothing more is asked of it in this run.
        key = (repo_type, repo_id)
        fetch = lambda: None if self._unreachable else self._fetch_registry_info(repo_type, repo_id)  # noqa: E731
        return self._lookups.get(key, fetch, self._wait_limit, abandon_on=DeadlineExceeded)

    def _wait_limit(self) -> float:
        # how long a target waits for a look-up another target is making: its own time left
        return current_scope().remaining() or self.request_timeout

    def _fetch_registry_info(self, repo_type: str, repo_id: str) -> RepoInfo | None:
        """The model or dataset info of `repo_id`, or None (the reason kept in _lookup_errors)."""
        url = f"{self.endpoint}/api/{repo_type}s/{repo_id}"
        try:
            validate_repo_id(repo_id)
            return self._api(url, None, parse_repo_info, repo_id, None, f"{repo_type} info of {repo_id}", retries=1, retry_refused=False)
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
             retries: int | None = None, *, retry_refused: bool = True, form: dict[str, Any] | None = None) -> Any:
        """A JSON API answer, parsed; a malformed one is asked again like a failed request."""
        return self._api_answer(url, params, parse, repo_id, revision, what, retries, retry_refused=retry_refused, form=form).parsed

    def _api_answer(self, url: str, params: Params, parse: Callable[[Any], Any], repo_id: str, revision: str | None, what: str,
                    retries: int | None = None, *, retry_refused: bool = True, form: dict[str, Any] | None = None) -> Answer:
        """The answer of `_api` (its headers too), POSTed with `form` as its body when given."""
        headers = self._headers()
        scope = current_scope()

        def parsed(response: httpx2.Response) -> Any:
            try:
                return parse(load_json(response.content, max_depth=_INFO_DEPTH))
            except (BadAnswer, BudgetExceeded) as error:
                raise Malformed(f"not valid JSON of the expected shape: {error}") from error
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise Malformed(f"not valid JSON of the expected shape ({type(error).__name__})") from error

        try:
            with self._api_slots:
                answer = self.http.request("GET" if form is None else "POST", url, params, headers, _INFO_CAP, scope, what,
                                           form=form, parse=parsed, retries=retries, retry_refused=retry_refused)
            hf_raise_for_status(answer.response)
            return answer
        except AuditorError:
            raise
        except Exception as error:
            raise self.errors.error(error, repo_id, revision) from error

    # --- file reads
    def _read_texts(self, repo_id: str, sha: str, paths: tuple[str, ...], listed: Iterable[ListedFile]) -> list[tuple[str, bytes | Skipped]]:
        """The chosen files' bytes: from the blob store when their blob was read before, else downloaded (and kept)."""
        if self.blobs is None:
            return self._download_all(repo_id, sha, paths)
        blob_ids = {f.name: f.blob_id for f in listed if isinstance(f.name, str) and f.blob_id and f.lfs_size is None}
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

    def _read_gated(self, repo_id: str, sha: str, paths: tuple[str, ...]) -> list[tuple[str, bytes | Skipped]]:
        """A gated repo's chosen files: its card first, and when the Hub refuses that as gated, the others are not asked
        for (the card is the most public file of a repo: what refuses it refuses them), each listed as refused alike."""
        if _CARD not in paths or len(paths) == 1:
            return self._download_all(repo_id, sha, paths)
        card = self._download_all(repo_id, sha, (_CARD,))
        answer = card[0][1]
        others = tuple(path for path in paths if path != _CARD)
        rest: list[tuple[str, bytes | Skipped]]
        if isinstance(answer, Skipped) and answer.kind is SkipKind.GATED:
            rest = [(path, Skipped(path, answer.reason, SkipKind.GATED)) for path in others]
        else:
            rest = self._download_all(repo_id, sha, others)
        found = dict([*card, *rest])
        return [(path, found[path]) for path in paths]

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
        headers = self._headers()
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


@dataclass(frozen=True)
class _ListingPage:
    ids: list[str]
    refused: int  # entries whose id is not a valid Hub repo id
    next_url: str | None


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


def _file_entries(listed: Iterable[ListedFile]) -> tuple[list[FileEntry], list[Skipped]]:
    """The listed files, and the odd names among them as unread (never requested)."""
    entries: list[FileEntry] = []
    odd: list[Skipped] = []
    for file in listed:
        name = file.name
        problem = odd_file_name(name)
        if problem is not None or not isinstance(name, str):
            odd.append(Skipped(escaped_name(name), f"not read: {problem}"))
        elif file.lfs_size is not None:
            entries.append(FileEntry(name, file.lfs_size, lfs=True, sha256=file.lfs_sha256))
        else:
            entries.append(FileEntry(name, file.size or 0))
    return entries, odd


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _declared(info: RepoInfo) -> tuple[str, ...] | None:
    """The `license` / `license_name` values a repo's card declares, else its Hub licence tags."""
    card = info.card_data or {}
    declared = [*_as_list(card.get("license")), *_as_list(card.get("license_name"))]
    if not declared:
        declared = [t.split(":", 1)[1] for t in info.tags if t.startswith("license:")]
    return tuple(dict.fromkeys(str(v) for v in declared if v)) or None
