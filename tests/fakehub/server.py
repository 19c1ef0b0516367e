"""A small real HTTP server that answers what huggingface_hub's client asks of the Hub.

Routes: GET /api/models (the listing: `author`, `search`, `filter`, `limit`),
GET /api/models/{id}[/revision/{rev}] (`blobs`, `securityStatus`), GET
/api/models/{id}/commits/{rev} (the commit listing, `p` pages linked by a `Link` header),
POST /api/models/{id}/paths-info/{rev} (`paths`, `expand`: blob ids and last commits), and HEAD / GET
/{id}/resolve/{rev}/{path} with Range support. Errors carry the Hub's `X-Error-Code`
(RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo) so huggingface_hub raises the same
exceptions it raises against the real Hub. Every request is counted by kind (api, head, get)
and every byte of file content sent is counted per path, for tests that assert on cost.

Counters and injected failures are kept per scope: `scoped(name)` gives an endpoint
`<server>/~<name>` whose requests are counted apart from every other scope's, so a request
still in flight from one test can never show up in another's counters. Requests without a
scope prefix are counted in the default scope (`FakeHub.stats`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from fakehub.history import commit_log_page, paths_info
from fakehub.repos import FixtureRepo, load_roots

_CHUNK = 1 << 16
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_SCOPE = re.compile(r"^/~([\w.-]+)(/.*)?$")


@dataclass
class RequestRecord:
    method: str
    kind: str
    path: str
    status: int
    range: str | None = None
    revision: str | None = None
    at: float = field(default_factory=time.time)  # when the server answered it, by its own clock


@dataclass
class Stats:
    """What the server was asked and what it sent since the last reset."""

    requests: Counter = field(default_factory=Counter)  # kind -> count: api, head, get, other
    bytes_sent: int = 0  # file content only, headers and JSON excluded
    bytes_by_path: Counter = field(default_factory=Counter)  # file path in its repo -> bytes sent
    log: list[RequestRecord] = field(default_factory=list)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())


class FakeHub:
    """Serves fixture repos on 127.0.0.1 (a random port) from a background thread."""

    def __init__(self, roots, admin_tokens=(), host: str = "127.0.0.1", port: int = 0):
        self.repos: dict[str, FixtureRepo] = load_roots(roots)
        self.admin_tokens = frozenset(admin_tokens)  # tokens that may read every repo
        self._lock = threading.Lock()
        self._stats: dict[str, Stats] = {}
        self._failures: dict[str, Counter] = {}
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.hub = self
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakehub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def stats(self) -> Stats:
        """The default scope's counters (requests without a `/~<scope>` prefix)."""
        return self.stats_for("")

    def stats_for(self, scope: str) -> Stats:
        with self._lock:
            return self._stats.setdefault(scope, Stats())

    def reset(self, scope: str = "") -> None:
        """Forget one scope's counters and the injected failures it was already served."""
        with self._lock:
            self._stats[scope] = Stats()
            self._failures.pop(scope, None)

    def scoped(self, scope: str) -> ScopedHub:
        """A view of this server with its own endpoint, counters and failure injection."""
        if not re.fullmatch(r"[\w.-]+", scope):
            raise ValueError(f"bad scope name {scope!r}")
        return ScopedHub(self, scope)

    # --- used by the handler, under the lock
    def record(self, record: RequestRecord, scope: str = "") -> None:
        with self._lock:
            stats = self._stats.setdefault(scope, Stats())
            stats.requests[record.kind] += 1
            stats.log.append(record)

    def count_bytes(self, path: str, sent: int, scope: str = "") -> None:
        with self._lock:
            stats = self._stats.setdefault(scope, Stats())
            stats.bytes_sent += sent
            stats.bytes_by_path[path] += sent

    def injected_failure(self, repo: FixtureRepo, kind: str, scope: str = "") -> int | None:
        with self._lock:
            served = self._failures.setdefault(scope, Counter())
            for index, rule in enumerate(repo.fail):
                key = (repo.id, index)
                if kind in rule.kinds and served[key] < rule.times:
                    served[key] += 1
                    return rule.status
        return None


class ScopedHub:
    """One scope of a FakeHub: what a single test sees (endpoint, stats, reset, repos)."""

    def __init__(self, hub: FakeHub, scope: str):
        self.hub = hub
        self.scope = scope
        self.repos = hub.repos
        self.admin_tokens = hub.admin_tokens

    @property
    def endpoint(self) -> str:
        return f"{self.hub.endpoint}/~{self.scope}"

    @property
    def stats(self) -> Stats:
        return self.hub.stats_for(self.scope)

    def reset(self) -> None:
        """Forget this scope's counters and injected failures already served."""
        self.hub.reset(self.scope)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's connection pool expects
    disable_nagle_algorithm = True  # else a body written after its headers waits for a delayed ACK (40 ms)
    server_version = "fakehub/1"

    @property
    def hub(self) -> FakeHub:
        return self.server.hub

    def log_message(self, format, *args) -> None:  # quiet: tests read stats, not logs
        pass

    def do_GET(self) -> None:
        self._enter_scope()
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._enter_scope()
        self._dispatch(head=True)

    def do_POST(self) -> None:
        self._enter_scope()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        url = urlsplit(self.path)
        repo_id, route, revision = _repo_route(url.path, "/api/models/")
        if route == "paths-info":
            return self._paths_info(repo_id, revision, parse_qs(body.decode("utf-8", "replace")))
        self._send_json(404, {"error": "not served by the fake Hub"}, kind="other", record_path=self.path)

    # --- routing
    def _enter_scope(self) -> None:
        """Strip a `/~<scope>` prefix from the path; counters and failures go to that scope."""
        match = _SCOPE.match(self.path)
        self.scope = match.group(1) if match else ""
        if match:
            self.path = match.group(2) or "/"

    def _dispatch(self, head: bool) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path.rstrip("/") == "/api/models" and not head:
            return self._list_models(query)
        repo_id, route, revision = _repo_route(url.path, "/api/models/")
        if route == "commits" and not head:
            return self._commits(repo_id, revision, int(query.get("p", ["0"])[-1] or 0))
        for prefix, repo_type in (("/api/models/", "model"), ("/api/datasets/", "dataset")):
            if url.path.startswith(prefix) and not head:
                return self._repo_info(url.path[len(prefix):], query, repo_type)
        if "/resolve/" in url.path:
            repo_part, _, rest = url.path[1:].partition("/resolve/")
            revision, _, file_path = rest.partition("/")
            return self._resolve(unquote(repo_part), unquote(revision), unquote(file_path), head)
        self._send_json(404, {"error": "not served by the fake Hub"}, kind="other", record_path=url.path)

    def _token(self) -> str | None:
        value = self.headers.get("Authorization") or ""
        return value[len("Bearer "):].strip() if value.startswith("Bearer ") else None

    def _may_read(self, repo: FixtureRepo) -> bool:
        token = self._token()
        return token is not None and (token in repo.tokens or token in self.hub.admin_tokens)

    def _common_errors(self, repo_id: str, kind: str, record_path: str, repo_type: str = "model") -> FixtureRepo | None:
        """The repo when it may be served, else the Hub's answer is sent and None returned."""
        repo = self.hub.repos.get(repo_id)
        if repo is None or repo.repo_type != repo_type:
            self._send_error(404, "RepoNotFound", "Repository not found", kind, record_path)
            return None
        status = self.hub.injected_failure(repo, kind, self.scope)
        if status is not None:
            self._send_error(status, None, "Injected failure", kind, record_path)
            return None
        if repo.private and not self._may_read(repo):
            self._send_error(401, "RepoNotFound", "Repository not found", kind, record_path)
            return None
        return repo

    def _repo_info(self, rest: str, query: dict, repo_type: str) -> None:
        repo_id, sep, revision = rest.partition("/revision/")
        repo_id, revision = unquote(repo_id), (unquote(revision) if sep else None)
        repo = self._common_errors(repo_id, "api", self.path, repo_type)
        if repo is None:
            return
        sha = repo.resolve(revision)
        if sha is None:
            return self._send_error(404, "RevisionNotFound", f"Invalid rev id: {revision}", "api", self.path)
        flag = lambda name: query.get(name, ["false"])[-1].lower() in ("1", "true")  # noqa: E731
        self._send_json(200, repo.at(sha).info(sha, blobs=flag("blobs"), security=flag("securityStatus")), "api", self.path)

    def _revision_of(self, repo_id: str, revision: str) -> tuple[FixtureRepo, str] | None:
        """The repo and the commit `revision` names, else the Hub's error is sent and None returned."""
        repo = self._common_errors(repo_id, "api", self.path)
        if repo is None:
            return None
        sha = repo.resolve(revision)
        if sha is None:
            self._send_error(404, "RevisionNotFound", f"Invalid rev id: {revision}", "api", self.path)
            return None
        return repo, sha

    def _commits(self, repo_id: str, revision: str, page: int) -> None:
        """GET /api/models/{id}/commits/{rev}: the commits reachable from rev, newest first, a page at a time."""
        found = self._revision_of(repo_id, revision)
        if found is None:
            return
        repo, sha = found
        entries, more = commit_log_page(repo, sha, page)
        headers = {}
        if more:
            scope = f"/~{self.scope}" if self.scope else ""
            url = f"http://{self.headers.get('Host')}{scope}/api/models/{repo_id}/commits/{quote(revision, safe='')}?p={page + 1}"
            headers["Link"] = f'<{url}>; rel="next"'
        self._send_json(200, entries, "api", self.path, headers)

    def _paths_info(self, repo_id: str, revision: str, form: dict) -> None:
        """POST /api/models/{id}/paths-info/{rev}: the paths asked for that exist at rev."""
        found = self._revision_of(repo_id, revision)
        if found is None:
            return
        repo, sha = found
        expand = form.get("expand", ["False"])[-1].lower() in ("1", "true")
        self._send_json(200, paths_info(repo, sha, form.get("paths", []), expand), "api", self.path)

    def _list_models(self, query: dict) -> None:
        """GET /api/models: public model repos by `author`, `search` (in the id) and `filter` tags, sorted by id."""
        author, search = query.get("author", [""])[-1], query.get("search", [""])[-1].lower()
        tags = [t for value in query.get("filter", []) for t in value.split(",") if t]
        limit = int(query.get("limit", ["0"])[-1] or 0)
        found = [
            {"_id": repo.info(repo.sha, False, False)["_id"], "id": repo.id, "modelId": repo.id, "tags": repo.tags(),
             "private": False, "gated": repo.gated, "createdAt": "2025-01-15T12:00:00.000Z"}
            for repo in sorted(self.hub.repos.values(), key=lambda r: r.id)
            if repo.repo_type == "model" and not repo.private
            and (not author or repo.id.split("/")[0] == author) and search in repo.id.lower()
            and all(tag in repo.tags() for tag in tags)
        ]
        self._send_json(200, found[:limit] if limit else found, "api", "/api/models")

    def _resolve(self, repo_id: str, revision: str, file_path: str, head: bool) -> None:
        kind = "head" if head else "get"
        repo = self._common_errors(repo_id, kind, file_path)
        if repo is None:
            return
        sha = repo.resolve(revision)
        if sha is None:
            return self._send_error(404, "RevisionNotFound", f"Invalid rev id: {revision}", kind, file_path)
        commit = {"X-Repo-Commit": sha}
        if repo.gated and not self._may_read(repo):
            status = 403 if self._token() else 401
            message = f"Access to model {repo.id} is restricted. You must have access to it and be authenticated to access it."
            return self._send_error(status, "GatedRepo", message, kind, file_path, commit)
        sibling = repo.at(sha).siblings.get(file_path)
        if sibling is None:
            return self._send_error(404, "EntryNotFound", f"{file_path} does not exist on \"{revision}\"", kind, file_path, commit)
        headers = {**commit, "ETag": f'"{sibling.etag}"', "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if sibling.lfs:
            headers.update({"X-Linked-Etag": f'"{sibling.sha256}"', "X-Linked-Size": str(sibling.size)})
        start, end, status = 0, sibling.size, 200
        range_header = self.headers.get("Range")
        if range_header and not head:
            parsed = _parse_range(range_header, sibling.size)
            if parsed is None:
                headers["Content-Range"] = f"bytes */{sibling.size}"
                return self._send_error(416, None, "Range Not Satisfiable", kind, file_path, headers, range_header)
            start, end, status = parsed[0], parsed[1], 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{sibling.size}"
        self.hub.record(RequestRecord(self.command, kind, file_path, status, range_header, revision), self.scope)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        if not head:
            self._stream(sibling, file_path, start, end)

    def _stream(self, sibling, file_path: str, start: int, end: int) -> None:
        position = start
        try:
            while position < end:
                data = sibling.blob.read(position, min(_CHUNK, end - position))
                if not data:
                    break
                # counted before it is written: once the client holds the bytes, the count has them
                self.hub.count_bytes(file_path, len(data), self.scope)
                self.wfile.write(data)
                position += len(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # --- responses
    def _send_error(self, status, code, message, kind, record_path, headers=None, range_header=None) -> None:
        extra = dict(headers or {})
        if code:
            extra["X-Error-Code"] = code
        extra["X-Error-Message"] = message
        self._send_json(status, {"error": message}, kind, record_path, extra, range_header)

    def _send_json(self, status, body, kind, record_path, headers=None, range_header=None) -> None:
        self.hub.record(RequestRecord(self.command, kind, record_path, status, range_header), self.scope)
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def _repo_route(path: str, prefix: str) -> tuple[str, str, str]:
    """(repo id, route, revision) of `{prefix}{org}/{name}/{route}/{rev}`; empty strings when not of that shape."""
    if not path.startswith(prefix):
        return "", "", ""
    parts = path[len(prefix):].split("/", 3)
    if len(parts) < 4:
        return "", "", ""
    return unquote(f"{parts[0]}/{parts[1]}"), parts[2], unquote(parts[3])


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """[start, end) of a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range; None if unsatisfiable."""
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        start, end = max(0, size - int(last)), size
    else:
        start = int(first)
        end = min(size, int(last) + 1) if last else size
    if start >= size or start >= end:
        return None
    return start, end
