"""A reverse proxy in front of the emulator, as sites run one in front of SciCat.

It forwards every request unchanged, except while a rule is armed:

- ``answer(count, status, content_type, body)``: the next ``count`` requests get this answer
  and never reach SciCat (a proxy's maintenance page: ``200 text/html``);
- ``late(method, pattern, count, seconds)``: the request is forwarded and applied, then the
  answer is held back ``seconds`` (the client times out although the write landed);
- ``hold(method, pattern, count, seconds)``: the request waits ``seconds`` before it is
  forwarded (the client times out; the write lands later).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

MAINTENANCE = b"<html><body><h1>Down for maintenance</h1></body></html>"


@dataclass
class Rule:
    kind: str
    count: int
    method: str | None = None
    pattern: re.Pattern[str] | None = None
    seconds: float = 0.0
    status: int = 200
    content_type: str = "text/html"
    body: bytes = MAINTENANCE


class Proxy:
    """``Proxy(upstream_url)``; ``.url`` is where clients connect. ``stop()`` at the end."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.lock = threading.Lock()
        self.session = requests.Session()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, count: int, status: int = 200, content_type: str = "text/html",
               body: bytes = MAINTENANCE) -> None:  # fmt: skip
        self._add(Rule("answer", count, status=status, content_type=content_type, body=body))

    def late(self, method: str, pattern: str, count: int, seconds: float) -> None:
        self._add(Rule("late", count, method, re.compile(pattern), seconds))

    def hold(self, method: str, pattern: str, count: int, seconds: float) -> None:
        self._add(Rule("hold", count, method, re.compile(pattern), seconds))

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _add(self, rule: Rule) -> None:
        with self.lock:
            self.rules.append(rule)

    def _take(self, method: str, path: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.method and not method.startswith(rule.method):
                    continue
                if rule.pattern is not None and not rule.pattern.search(path):
                    continue
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
                return rule
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                rule = proxy._take(self.command, self.path)
                if rule is not None and rule.kind == "answer":
                    return self._reply(rule.status, rule.content_type, rule.body)
                if rule is not None and rule.kind == "hold":
                    time.sleep(rule.seconds)
                skip = {"host", "content-length", "connection"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
                answer = proxy.session.request(
                    self.command, proxy.upstream + self.path, data=body, headers=headers
                )
                if rule is not None and rule.kind == "late":
                    time.sleep(rule.seconds)
                kind = answer.headers.get("Content-Type", "application/json")
                self._reply(answer.status_code, kind, answer.content)

            def _reply(self, status: int, content_type: str, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up waiting
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        return Handler
