"""A Hub on 127.0.0.1 that answers exactly what a test scripts: any status, headers and body per
path, so each hostile answer (wrong types, redirect loops, gzip garbage, a listing whose next
page is itself) can be served to the real CLI. Unscripted paths answer 404; a POST (paths-info)
is answered as a GET of its path."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedHub:
    def __init__(self) -> None:
        self.routes: dict[str, Reply | Callable[[str], Reply]] = {}
        self.hits: Counter = Counter()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.hub = self  # type: ignore[attr-defined]

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ScriptedHub:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go as two writes: without it each answer waits for a delayed ACK

    def log_message(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_POST(self) -> None:  # paths-info: the form body is read and not looked at
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        hub: ScriptedHub = self.server.hub  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        hub.hits[path] += 1
        route = hub.routes.get(path)
        reply = route(self.path) if callable(route) else route or Reply(404, b'{"error": "not found"}', {"X-Error-Code": "RepoNotFound"})
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", **reply.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)
