"""The Hugging Face Hub as a source, through huggingface_hub only: no hand-written Hub HTTP.

One `model_info` call lists every file with its size and LFS metadata and pins the commit;
then the small files `selection` chooses are downloaded concurrently at that commit with
`hf_hub_download` (a HEAD and a GET each) into a temporary cache that is deleted afterwards.
No weight byte is ever fetched; `read_range` asks for exactly the bytes it is given. Hub
failures become the auditor's errors (NotFound, AccessDenied, SourceUnavailable), except a
gated repo without access: its files are listed and named in `unread`, and the audit goes on.
"""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from tempfile import TemporaryDirectory

import httpx2
from huggingface_hub import HfApi, constants, get_token, hf_hub_download, hf_hub_url
from huggingface_hub.errors import (
    DisabledRepoError,
    FileMetadataError,
    GatedRepoError,
    HFValidationError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_stream_backoff
from huggingface_hub.utils.tqdm import silent_tqdm

from auditor.errors import AccessDenied, AuditorError, NotFound, SourceError, SourceUnavailable, UsageError
from auditor.model import AncestorRecord, FileEntry, RepoSnapshot, Skipped, Target, TargetKind
from auditor.sources.interface import RepoSource
from auditor.sources.selection import FILE_CAP, select
from auditor.sources.texts import collect

_TOKEN_HELP = "--token, HF_TOKEN or `hf auth login`"
_UNAVAILABLE_STATUS = (408, 429, 500, 502, 503, 504)
_ANCESTOR_TEXT = re.compile(r"^(licen[cs]e|copying|notice)", re.I)  # an ancestor's licence and notice files
_ANCESTOR_TEXTS = 4


class HubSource(RepoSource):
    """Reads model repos from a Hub endpoint (the public Hub unless `endpoint` says otherwise).

    `token`: a token string, False for anonymous access, or None for huggingface_hub's own
    lookup (HF_TOKEN, then the token `hf auth login` stored). `retries` and `retry_wait`
    govern the metadata call and range reads; file downloads keep huggingface_hub's retries.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | bool | None = None,
        *,
        timeout: float = 10.0,
        workers: int = 4,
        retries: int = 2,
        retry_wait: float = 1.0,
    ):
        self.endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
        self.token = token
        self.timeout = timeout
        self.workers = max(1, workers)
        self.retries = max(0, retries)
        self.retry_wait = retry_wait
        self.api = HfApi(endpoint=self.endpoint, token=token)
        self._bytes_read = 0
        self._lock = threading.Lock()
        self._lookups: dict[tuple[str, str], object | None] = {}  # (type, id) -> its info, None if it failed
        self._lookup_errors: dict[tuple[str, str], str] = {}
        self._ancestors: dict[str, AncestorRecord] = {}
        self._unreachable = False

    # --- RepoSource
    def fetch(self, target: Target) -> RepoSnapshot:
        repo_id = _repo_id(target)
        info = self._model_info(repo_id, target.revision)
        sha = info.sha or target.revision or "main"
        files = tuple(sorted((_file_entry(s) for s in info.siblings or ()), key=lambda f: f.path))
        selection = select(files)
        texts, failed = collect(self._download_all(repo_id, sha, selection.read))
        card_data = info.card_data.to_dict() if info.card_data is not None else None
        return RepoSnapshot(
            target=target,
            sha=info.sha,
            files=files,
            texts=texts,
            unread=tuple(sorted(selection.unread + tuple(failed), key=lambda s: s.path)),
            gated=info.gated or False,
            private=bool(info.private),
            hub_card_data=card_data,
            security=info.security_repo_status,
            tags=tuple(info.tags or ()),
        )

    def read_range(self, snapshot: RepoSnapshot, path: str, start: int, length: int) -> bytes:
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
            data = self._stream_range(url, headers, start, length)
        except AuditorError:
            raise
        except Exception as error:
            raise self._error(error, repo_id, revision, path) from error
        with self._lock:
            self._bytes_read += len(data)
        return data

    def bytes_read(self) -> int:
        return self._bytes_read

    def dataset_licences(self, repo_id: str) -> tuple[str, ...] | None:
        """The licences a dataset's card declares (one cached API call)."""
        info = self._registry_info("dataset", repo_id)
        return _declared(info) if info is not None else None

    def ancestor(self, repo_id: str) -> AncestorRecord:
        """A model named as an ancestor: its card, tags and licence texts (the model-info request is shared, cached)."""
        if repo_id not in self._ancestors:
            self._ancestors[repo_id] = self._read_ancestor(repo_id)
        return self._ancestors[repo_id]

    def _read_ancestor(self, repo_id: str) -> AncestorRecord:
        info = self._registry_info("model", repo_id)
        if info is None:
            reason = self._lookup_errors.get(("model", repo_id), "the Hub could not be reached")
            return AncestorRecord(repo_id, readable=False, reason=reason)
        files = tuple(s.rfilename for s in info.siblings or ())
        wanted = tuple(p for p in files if _ANCESTOR_TEXT.match(p.rsplit("/", 1)[-1]) and "/" not in p)[:_ANCESTOR_TEXTS]
        texts, _ = collect(self._download_all(repo_id, info.sha or "main", wanted))
        return AncestorRecord(
            repo_id, readable=True,
            card=info.card_data.to_dict() if info.card_data is not None else {},
            tags=tuple(info.tags or ()), texts=texts, files=files,
        )

    def _registry_info(self, repo_type: str, repo_id: str):
        # One attempt each, no retries: these look-ups enrich a report, they never block it.
        # One request per distinct repo per run; after the Hub proves unreachable once,
        # nothing more is asked of it.
        key = (repo_type, repo_id)
        with self._lock:
            if key in self._lookups:
                return self._lookups[key]
        info = None if self._unreachable else self._fetch_registry_info(repo_type, repo_id)
        with self._lock:
            self._lookups[key] = info
        return info

    # --- the metadata call
    def _model_info(self, repo_id: str, revision: str | None, *, files: bool = True):
        for attempt in range(self.retries + 1):
            try:
                return self.api.model_info(
                    repo_id, revision=revision, files_metadata=files, securityStatus=files or None, timeout=self.timeout
                )
            except Exception as error:
                mapped = self._error(error, repo_id, revision)
                if not isinstance(mapped, SourceUnavailable) or attempt == self.retries:
                    raise mapped from error
            time.sleep(self.retry_wait * 2**attempt)
        raise AssertionError("unreachable")

    def _fetch_registry_info(self, repo_type: str, repo_id: str):
        read = self.api.dataset_info if repo_type == "dataset" else self.api.model_info
        try:
            return read(repo_id, timeout=self.timeout)
        except Exception as error:  # noqa: BLE001 - mapped below; an unknown or private repo is simply not looked up
            try:
                mapped = self._error(error, repo_id, None)
            except Exception:  # noqa: BLE001 - an error huggingface_hub raises that is not the Hub's answer
                self._lookup_errors[(repo_type, repo_id)] = _first_line(error)
                return None
            self._lookup_errors[(repo_type, repo_id)] = _lookup_failure(mapped)
            self._unreachable = self._unreachable or isinstance(mapped, SourceUnavailable)
            return None

    # --- file reads
    def _download_all(self, repo_id: str, sha: str, paths: tuple[str, ...]) -> list[tuple[str, bytes | Skipped]]:
        if not paths:
            return []
        with TemporaryDirectory(prefix="auditor-hub-") as cache:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(paths))) as pool:
                futures = [pool.submit(self._download, repo_id, sha, path, cache) for path in paths]
                try:
                    return [(path, future.result()) for path, future in zip(paths, futures)]
                except BaseException:
                    for future in futures:
                        future.cancel()  # one fatal error ends the fetch: do not start the rest
                    raise

    def _download(self, repo_id: str, sha: str, path: str, cache: str) -> bytes | Skipped:
        try:
            local = hf_hub_download(
                repo_id,
                path,
                revision=sha,
                cache_dir=cache,
                token=self.token,
                endpoint=self.endpoint,
                etag_timeout=self.timeout,
                tqdm_class=silent_tqdm,
            )
        except GatedRepoError:
            return Skipped(path, self._gated_reason(repo_id))
        except RemoteEntryNotFoundError:
            return Skipped(path, f"listed by the Hub but missing at {sha}")
        except Exception as error:
            raise self._error(error, repo_id, sha, path) from error
        with open(local, "rb") as handle:
            return handle.read(FILE_CAP + 1)

    def _stream_range(self, url: str, headers: dict, start: int, length: int) -> bytes:
        with http_stream_backoff(
            "GET", url, headers=headers, timeout=self.timeout, max_retries=self.retries, base_wait_time=self.retry_wait
        ) as response:
            if response.status_code == 416:
                return b""
            hf_raise_for_status(response)
            if response.status_code == 200 and start > 0:
                # the server ignored Range: skipping to `start` would mean downloading what we must not
                raise SourceError(f"{url}: the server ignored the byte range asked for")
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) >= length:
                    break
            return bytes(data[:length])

    # --- errors
    def _has_token(self) -> bool:
        if isinstance(self.token, str):
            return bool(self.token)
        return self.token is None and get_token() is not None

    def _gated_reason(self, repo_id: str) -> str:
        reason = f"gated: request access at {self.endpoint}/{repo_id}"
        if self._has_token():
            return reason + " (the token given has not been granted access)"
        return reason + f", then pass a token ({_TOKEN_HELP})"

    def _denied(self, repo_id: str) -> AccessDenied:
        if self._has_token():
            return AccessDenied(
                f"{self.endpoint} refused the token for {repo_id}: check it is valid and has access ({_TOKEN_HELP})"
            )
        return AccessDenied(
            f"{repo_id} is private or does not exist on {self.endpoint}: if you have access, pass a token ({_TOKEN_HELP})"
        )

    def _error(self, error: Exception, repo_id: str, revision: str | None, path: str | None = None) -> AuditorError:
        """The auditor's error for a huggingface_hub or network failure (returned, for the caller to raise)."""
        where = f"{repo_id}/{path}" if path else repo_id
        if isinstance(error, AuditorError):
            return error
        if isinstance(error, GatedRepoError):
            return AccessDenied(f"{where}: {self._gated_reason(repo_id)}")
        if isinstance(error, RevisionNotFoundError):
            return NotFound(f"revision {revision} not found in {repo_id} on {self.endpoint}")
        if isinstance(error, RemoteEntryNotFoundError):
            return NotFound(f"{path} not found in {repo_id} at {revision} on {self.endpoint}")
        if isinstance(error, RepositoryNotFoundError):
            if error.response is not None and error.response.status_code == 404:
                return NotFound(f"repository {repo_id} not found on {self.endpoint}")
            return self._denied(repo_id)
        if isinstance(error, DisabledRepoError):
            return AccessDenied(f"{repo_id} is disabled on {self.endpoint}")
        if isinstance(error, HfHubHTTPError):
            status = error.response.status_code if error.response is not None else None
            if status in (401, 403):
                return self._denied(repo_id)
            if status in _UNAVAILABLE_STATUS:
                return SourceUnavailable(f"{self.endpoint} answered {status} for {where}, also after retries")
            return SourceError(f"{self.endpoint} answered {status} for {where}: {_first_line(error)}")
        if isinstance(error, HFValidationError):
            return UsageError(f"{repo_id!r} is not a valid Hub repo id: {_first_line(error)}")
        if isinstance(error, (LocalEntryNotFoundError, OfflineModeIsEnabled, FileMetadataError, httpx2.TransportError)):
            return SourceUnavailable(f"could not read {where} from {self.endpoint}: {_first_line(error)}")
        if isinstance(error, OSError):  # e.g. huggingface_hub's size consistency check on a cut download
            return SourceUnavailable(f"reading {where} from {self.endpoint} failed: {_first_line(error)}")
        raise error


def _repo_id(target: Target) -> str:
    if target.kind is not TargetKind.HUB or not target.repo_id:
        raise UsageError(f"{target.label} is not a Hub repo")
    return target.repo_id


def _file_entry(sibling) -> FileEntry:
    if sibling.lfs is not None:
        return FileEntry(sibling.rfilename, int(sibling.lfs.size), lfs=True, sha256=sibling.lfs.sha256)
    return FileEntry(sibling.rfilename, int(sibling.size or 0))


def _lookup_failure(error: AuditorError) -> str:
    """Why a registry look-up failed, in a few words for the report."""
    if isinstance(error, SourceUnavailable):
        return "the Hub could not be reached"
    if isinstance(error, NotFound):
        return "not found on the Hub"
    if isinstance(error, AccessDenied):
        return "private or gated: access denied"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _declared(info) -> tuple[str, ...] | None:
    """The `license` / `license_name` values a repo's card declares, else its Hub licence tags."""
    card = info.card_data.to_dict() if info.card_data is not None else {}
    declared = [*_as_list(card.get("license")), *_as_list(card.get("license_name"))]
    if not declared:
        declared = [t.split(":", 1)[1] for t in info.tags or () if t.startswith("license:")]
    return tuple(dict.fromkeys(str(v) for v in declared if v)) or None


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
