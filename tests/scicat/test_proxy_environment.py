"""Proxy and CA-bundle variables are honoured, read once when the transport is made."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from archiver.scicat.http import HttpTransport, pin_environment

SCICAT = "http://scicat.example.invalid:3000"


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers every request itself and records the target URL."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).seen.append(self.path)
        body = json.dumps({"via": "proxy"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy():
    _Proxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Proxy.seen
    server.shutdown()
    server.server_close()


def _transport() -> HttpTransport:
    return HttpTransport(SCICAT, 5, login_path="/api/v3/auth/login", token_field="id",
                         token="fixed-token")  # fmt: skip


def test_calls_go_through_the_proxy_named_in_the_environment(proxy, monkeypatch):
    url, seen = proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    transport = _transport()
    monkeypatch.delenv("HTTP_PROXY")  # read once: a later change does not matter
    assert transport.call("GET", "/api/v3/datasets/x", "read dataset") == {"via": "proxy"}
    assert seen == [f"{SCICAT}/api/v3/datasets/x"]
    assert transport.session.trust_env is False


def test_no_proxy_matching_the_scicat_host_means_a_direct_connection(proxy, monkeypatch):
    url, _ = proxy
    monkeypatch.setenv("HTTP_PROXY", url)
    monkeypatch.setenv("NO_PROXY", "scicat.example.invalid")
    assert _transport().session.proxies == {}


def test_a_ca_bundle_variable_becomes_the_sessions_verification(monkeypatch, tmp_path):
    bundle = tmp_path / "site-ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = requests.Session()
    pin_environment(session, "https://scicat.example.invalid")
    assert session.verify == str(bundle)


def test_a_session_that_already_ignores_the_environment_is_left_alone(proxy, monkeypatch):
    url, _ = proxy
    monkeypatch.setenv("HTTPS_PROXY", url)
    session = requests.Session()
    session.trust_env = False
    pin_environment(session, "https://scicat.example.invalid")
    assert session.proxies == {}
