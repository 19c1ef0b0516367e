"""A fault-injecting HTTP proxy on 127.0.0.1, in front of the fake Hub, for robustness tests.

`FaultProxy(upstream, {repo_id: Fault(kind, on=..., times=...)})` forwards every request to
the upstream Hub, except those of a repo given a fault: for the first `times` matching
requests (`on` "api" for model info, "file" for file reads, "readme" for README.md only,
"any") it answers with the fault instead. Faults that hold a connection open (a trickle, a
stall, a huge body) end as soon as the client goes away or the proxy stops, and within
`max_hold` seconds in any case, so the proxy can never keep a test running.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

HOSTILE_NAMES = ("../escape.txt", "/etc/passwd", "dir\\LICENSE", "nul\x00name.md", "x" * 5000)


@dataclass(frozen=True)
class Fault:
    """`kind`: truncated-json, html, wrong-shape, hostile-names, trickle, retry-after, stall,
    status (answer `status`, no Hub headers), reset, huge. `times` 0 means every time."""

    kind: str
    on: str = "api"
    times: int = 0
    status: int = 503


class FaultProxy:
    def __init__(self, upstream: str, faults: dict[str, Fault], max_hold: float = 20.0):
        self.upstream = urlsplit(upstream)
        self.faults = faults
        self.max_hold = max_hold
        self.stopping = threading.Event()
        self.served: Counter = Counter()  # (repo id, fault kind) -> faults served
        self.served_at: list[tuple[float, str, str]] = []  # (time.time(), repo id, fault kind) of each fault served
        self.held = threading.Event()  # set when a "hold" fault has a request waiting
        self.release = threading.Event()  # lets held requests through
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.proxy = self

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultProxy:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="faultproxy", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def fault_for(self, repo_id: str, request_kind: str, file_path: str | None) -> Fault | None:
        fault = self.faults.get(repo_id)
        if fault is None:
            return None
        applies = (
            fault.on == "any"
            or fault.on == request_kind
            or (fault.on == "readme" and request_kind == "file" and file_path == "README.md")
        )
        with self._lock:
            if not applies or (fault.times and self.served[(repo_id, fault.kind)] >= fault.times):
                return None
            self.served[(repo_id, fault.kind)] += 1
            self.served_at.append((time.time(), repo_id, fault.kind))
        return fault


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format, *args) -> None:
        pass

    @property
    def proxy(self) -> FaultProxy:
        return self.server.proxy

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def do_GET(self) -> None:
        self._handle(head=False)

    def _handle(self, head: bool) -> None:
        path = urlsplit(self.path).path
        repo_id, kind, file_path = _classify(path)
        fault = self.proxy.fault_for(repo_id, kind, file_path) if repo_id else None
        if fault is None:
            return self._forward(head)
        getattr(self, "_" + fault.kind.replace("-", "_"))(fault, head)

    # --- plain forwarding
    def _upstream(self, head: bool) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.proxy.upstream.hostname, self.proxy.upstream.port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            prefix = self.proxy.upstream.path.rstrip("/")  # a scope of the fake Hub: /~<scope>
            connection.request("HEAD" if head else "GET", prefix + self.path, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _forward(self, head: bool, body: bytes | None = None) -> None:
        status, headers, upstream_body = self._upstream(head)
        body = upstream_body if body is None else body
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _answer(self, status: int, body: bytes, content_type: str, extra: dict | None = None, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    # --- faults (one method per kind)
    def _truncated_json(self, fault: Fault, head: bool) -> None:
        _, _, body = self._upstream(head)
        self._answer(200, body[: len(body) // 2], "application/json", head=head)

    def _html(self, fault: Fault, head: bool) -> None:
        self._answer(200, b"<!DOCTYPE html><html><body>Bad gateway</body></html>", "text/html", head=head)

    def _wrong_shape(self, fault: Fault, head: bool) -> None:
        self._answer(200, json.dumps({"id": 7, "siblings": "none", "cardData": [1, 2]}).encode(), "application/json", head=head)

    def _hostile_names(self, fault: Fault, head: bool) -> None:
        _, _, body = self._upstream(head)
        info = json.loads(body)
        info["siblings"] += [{"rfilename": name, "size": 10, "blobId": "0" * 40} for name in HOSTILE_NAMES]
        self._answer(200, json.dumps(info).encode(), "application/json", head=head)

    def _retry_after(self, fault: Fault, head: bool) -> None:
        self._answer(429, b"Too Many Requests", "text/plain", {"Retry-After": "3600"}, head=head)

    def _status(self, fault: Fault, head: bool) -> None:
        self._answer(fault.status, b"plain error page", "text/plain", head=head)

    def _trickle(self, fault: Fault, head: bool) -> None:
        """One byte at a time, `max_hold` seconds apart at most: until the client leaves."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            self.wfile.write(b"{")
            self.wfile.flush()
            while not self.proxy.stopping.wait(0.05):
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def _stall(self, fault: Fault, head: bool) -> None:
        """Never answer: the client's read timeout has to end it."""
        self.proxy.stopping.wait(self.proxy.max_hold)
        self.close_connection = True

    def _hold(self, fault: Fault, head: bool) -> None:
        """Wait until the test releases held requests, then forward; a proxy stopping drops them
        instead, so no request reaches the fake Hub after the test that made it."""
        self.proxy.held.set()
        self.proxy.release.wait(self.proxy.max_hold)
        if self.proxy.stopping.is_set():
            self.close_connection = True
            return
        self._forward(head)

    def _reset(self, fault: Fault, head: bool) -> None:
        """Close the connection with a TCP reset instead of an answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def _huge(self, fault: Fault, head: bool) -> None:
        """A body of 200 MB (as the listing never said), sent until the client stops reading."""
        size = 200 * 1024 * 1024
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if head:
            return
        chunk = b"# huge\n" * 9362
        sent = 0
        try:
            while sent < size and not self.proxy.stopping.is_set():
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        self.close_connection = True


def _classify(path: str) -> tuple[str | None, str, str | None]:
    """(repo id, "api" or "file", file path) of a Hub request path."""
    if path.startswith("/api/models/"):
        rest = unquote(path[len("/api/models/"):])
        return "/".join(rest.split("/")[:2]), "api", None
    if "/resolve/" in path:
        repo_part, _, rest = path[1:].partition("/resolve/")
        return unquote(repo_part), "file", unquote(rest.partition("/")[2])
    return None, "other", None
