"""A counting HTTP proxy in front of an external SciCat, so the bench can show calls per job.

A real backend keeps no request log the bench could read. With ``--count-calls`` the
pipeline processes and the minimal script talk to SciCat through this proxy (on 127.0.0.1,
port 0), which forwards every request unchanged and records its method and path; the
bench's own polling and seeding go around it. It logs nothing and keeps no header or body,
so tokens and passwords pass through without being stored. Costs each call a local hop.
"""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

#: Request headers not forwarded (hop-by-hop, or set by ``requests`` itself).
_DROPPED = frozenset({"host", "connection", "content-length", "transfer-encoding",
                      "accept-encoding", "keep-alive", "proxy-connection"})  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: headers and body go out in separate writes: with Nagle's algorithm and the client's
    #: delayed ACK each keep-alive answer would stall ~40 ms
    disable_nagle_algorithm = True
    server: _Server

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _DROPPED}
        headers["Accept-Encoding"] = "identity"
        self.server.record(self.command, urllib.parse.urlsplit(self.path).path)
        try:
            answer = self.server.session().request(
                self.command, self.server.upstream + self.path, data=body, headers=headers,
                timeout=300, allow_redirects=False,
            )  # fmt: skip
        except requests.RequestException as exc:
            payload = f'{{"message": "bench proxy: SciCat did not answer ({type(exc).__name__})"}}'
            self._answer(502, payload.encode(), "application/json")
            return
        self._answer(answer.status_code, answer.content, answer.headers.get("Content-Type"))

    def _answer(self, status: int, payload: bytes, content_type: str | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

    def log_message(self, format: str, *args: Any) -> None:
        return  # nothing is logged: requests carry tokens


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        super().__init__(("127.0.0.1", 0), _Handler)

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.calls.append((method, path))

    def session(self) -> requests.Session:
        found: requests.Session | None = getattr(self._local, "session", None)
        if found is None:
            found = self._local.session = requests.Session()
        return found


class CountingProxy:
    """Forwards to ``upstream`` (a SciCat server root) and counts; a context manager."""

    def __init__(self, upstream: str) -> None:
        self._server = _Server(upstream)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def calls(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every request forwarded so far."""
        with self._server._lock:
            return list(self._server.calls)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
