"""The single HTTP funnel to SciCat: one ``requests.Session``, tokens, error classification.

Every call of every adapter goes through :meth:`HttpTransport.call`. It

- applies the default timeout (``settings.scicat_timeout``) to every request;
- logs in lazily on the first call, renews the token shortly before it expires (from the
  login answer's ``expires_in``/``ttl`` or the JWT ``exp`` claim) and, on a 401, renews once
  and repeats the call;
- turns every outcome that is not a 2xx into an :mod:`archiver.errors` class, and a 2xx that
  is not JSON (a reverse proxy's maintenance page) or not of the expected JSON type into a
  transient error, never into a string the caller takes for an answer;
- flags a write whose outcome is unknown (read timeout, connection dropped after sending,
  504) with ``outcome_unknown=True``, so the caller re-reads before repeating it;
- encodes ids as data: every path segment is percent-encoded, ``.`` and ``..`` included;
- scrubs tokens and passwords from every error text and from urllib3's debug log lines.

Proxy (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) and CA bundle
(``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) variables are read once, when the transport is
made (:func:`pin_environment`), not on every call as ``requests`` does by default: that scan
of the environment was a fifth of a worker's CPU (docs/performance.md).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests
import urllib3

from archiver.errors import (
    AuthError,
    NotFoundError,
    PermanentSciCatError,
    SciCatError,
    TransientSciCatError,
)
from archiver.scicat.auth import Grant, grant_from_login, scrub

log = logging.getLogger(__name__)

BODY_LIMIT = 500


#: Methods whose effect is lost with the answer: their outcome can be unknown.
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def segment(value: str) -> str:
    """URL-encode one path segment; pids contain ``/``, which must become ``%2F``.

    ``.`` and ``..`` are dot segments that clients and servers remove (``/jobs/..`` would be
    ``/``): as whole segments, their dots are encoded too (``%2E``).
    """
    text = quote(str(value), safe="")
    if text in (".", ".."):
        return text.replace(".", "%2E")
    return text


def describe_type(value: Any) -> str:
    """``"a JSON list"``, ``"a JSON string"``: for error messages about an answer's shape."""
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return f"a JSON {names.get(type(value), 'number')}"


def server_message(text: str) -> str:
    """The human part of an error answer (NestJS ``message``, LoopBack ``error.message``)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return text.strip()[:BODY_LIMIT] or "(empty answer)"
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        doc = doc["error"]
    message = doc.get("message") if isinstance(doc, dict) else None
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    return str(message or text.strip())[:BODY_LIMIT]


def classify(operation: str, status: int | None, message: str, body: str = "") -> SciCatError:
    """Map an HTTP outcome onto the error tree (``status=None``: no answer at all)."""
    if status is None or status == 429 or status >= 500:
        kind: type[SciCatError] = TransientSciCatError
    elif status == 404:
        kind = NotFoundError
    elif status in (401, 403):
        kind = AuthError
    else:
        kind = PermanentSciCatError
    return kind(operation, message, status, body[:BODY_LIMIT])


def connection_failure(exc: requests.ConnectionError) -> tuple[str, bool]:
    """A short reason for a failed connection, and whether the request may have been sent.

    A refused or unresolvable connection never sent anything; a connection dropped while
    waiting for the answer ("Connection aborted", a reset) may have delivered the request.
    """
    reason = exc.args[0] if exc.args else exc
    cause = getattr(reason, "reason", None) or reason  # urllib3's MaxRetryError wraps it
    if isinstance(cause, urllib3.exceptions.ProtocolError) or "aborted" in str(cause).lower():
        return "connection dropped before the answer", True
    text = str(cause)
    if isinstance(cause, urllib3.exceptions.NameResolutionError) or "resolve" in text.lower():
        return "host name not found", False
    if "refused" in text.lower():
        return "connection refused", False
    return f"cannot connect ({type(cause).__name__})", False


def pin_environment(session: requests.Session, root: str) -> None:
    """Apply the proxy and CA-bundle environment for ``root`` to ``session`` now, once.

    Same rules as ``requests`` (``NO_PROXY`` matching ``root`` means no proxy; a CA bundle
    variable replaces the default verification), then ``trust_env`` is switched off so no
    call reads the environment again. A session that already ignores the environment is
    left alone.
    """
    if not session.trust_env:
        return
    for scheme, proxy in requests.utils.get_environ_proxies(root).items():
        session.proxies.setdefault(scheme, proxy)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False


class HttpTransport:
    """Owns the session and the token of one SciCat server.

    Arguments:
        root: server root such as ``http://backend:3000`` (no ``/api/v3``).
        timeout: seconds for every call.
        login_path: where to post ``{username, password}``.
        token_field: the key of the token in the login answer (``id`` or ``access_token``).
        token_in_query: send the token as ``access_token`` query parameter (LoopBack)
            instead of an ``Authorization: Bearer`` header.
        token: a fixed token (``ARCHIVER_SCICAT_TOKEN``); no login, no renewal.
    """

    def __init__(
        self,
        root: str,
        timeout: float,
        *,
        login_path: str,
        token_field: str,
        token_in_query: bool = False,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.root = root.rstrip("/")
        self.timeout = timeout
        self.login_path = login_path
        self.token_field = token_field
        self.token_in_query = token_in_query
        self._username = username
        self._password = password
        self._fixed = token.removeprefix("Bearer ").strip() if token else None
        self._grant: Grant | None = Grant(self._fixed) if self._fixed else None
        self._old_tokens: list[str] = []
        #: The logged-in account's e-mail, when the login answer names it (backend-next).
        self.account_email: str | None = None
        self._lock = threading.Lock()
        self.session = session or requests.Session()
        self.session.headers["Accept"] = "application/json"
        pin_environment(self.session, self.root)

    # -- secrets --------------------------------------------------------------------------
    @property
    def secrets(self) -> tuple[str, ...]:
        current = (self._grant.token,) if self._grant else ()
        return tuple(s for s in (self._password, *current, *self._old_tokens) if s)

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets)

    # -- login ----------------------------------------------------------------------------
    def login(self) -> None:
        """Log in now (replacing any current token)."""
        with self._lock:
            self._login_locked()

    def _login_locked(self) -> None:
        if self._fixed:
            return
        if not (self._username and self._password):
            raise AuthError(
                "login",
                "no SciCat credentials: set ARCHIVER_SCICAT_USER and ARCHIVER_SCICAT_PASSWORD",
            )
        body = {"username": self._username, "password": self._password}
        response = self._send("POST", self.login_path, "login", json_body=body, auth=False)
        if response.status_code == 404:
            raise AuthError(
                "login",
                f"SciCat has no {self.login_path} route: wrong ARCHIVER_SCICAT_API?",
                404,
            )
        if response.status_code in (400, 401, 403):
            raise AuthError(
                "login",
                f"SciCat refused the login of user {self._username!r} "
                f"({self.scrub(server_message(response.text))[:120]}): "
                "check ARCHIVER_SCICAT_USER and ARCHIVER_SCICAT_PASSWORD",
                response.status_code,
                self.scrub(response.text[:BODY_LIMIT]),
            )
        answer = self._decode(response, "login")
        grant = grant_from_login(answer, self.token_field)
        if grant is None:
            raise AuthError("login", f"the login answer has no {self.token_field!r}")
        if self._grant:  # keep recent tokens scrubbable: late errors may still quote them
            self._old_tokens = [*self._old_tokens[-4:], self._grant.token]
        self._grant = grant
        user = answer.get("user") if isinstance(answer, dict) else None
        email = user.get("email") if isinstance(user, dict) else None
        self.account_email = email if isinstance(email, str) and email else None
        log.info("logged in to SciCat at %s as %s", self.root, self._username)

    def ensure_login(self) -> None:
        """Log in now unless a valid token is at hand (a fixed token counts as valid)."""
        self._token()

    def _token(self) -> str:
        with self._lock:
            grant = self._grant
            if grant is None or (grant.renew_at is not None and time.monotonic() >= grant.renew_at):
                if grant is not None:
                    log.info("SciCat token about to expire: renewing it")
                self._login_locked()
            assert self._grant is not None
            return self._grant.token

    def _renew_after_401(self, used: str, operation: str) -> None:
        if self._fixed:
            raise AuthError(
                operation,
                "SciCat refused the token given in ARCHIVER_SCICAT_TOKEN (expired or revoked?); "
                "give a fresh token or use ARCHIVER_SCICAT_USER/PASSWORD",
                401,
            )
        with self._lock:
            if self._grant is None or self._grant.token == used:
                log.info("SciCat answered 401 to %s: logging in again", operation)
                self._login_locked()

    # -- calls ----------------------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: type | None = None,
    ) -> Any:
        """Send one authenticated request; return the decoded JSON answer (``None`` if empty).

        ``expect`` (``dict`` or ``list``): the JSON type the answer must have; any other
        answer is a :class:`TransientSciCatError` (a proxy or a backend in trouble).
        """
        token = self._token()
        response = self._send(method, path, operation, json_body, params, headers, token)
        if response.status_code == 401:
            self._renew_after_401(token, operation)
            token = self._token()
            response = self._send(method, path, operation, json_body, params, headers, token)
        answer = self._decode(response, operation, write=method.upper() in WRITES)
        if expect is not None and not isinstance(answer, expect):
            raise TransientSciCatError(
                operation,
                f"SciCat answered {method} {path} with {describe_type(answer)}, "
                f"not a JSON {'object' if expect is dict else 'list'}",
                response.status_code,
            )
        return answer

    def probe(self, method: str, path: str, operation: str) -> int:
        """An unauthenticated request whose status is all we want; errors only when no answer."""
        return self._send(method, path, operation, auth=False).status_code

    def _send(
        self,
        method: str,
        path: str,
        operation: str,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = None,
        *,
        auth: bool = True,
    ) -> requests.Response:
        query = dict(params or {})
        head = dict(headers or {})
        if auth and token:
            if self.token_in_query:
                query["access_token"] = token
            else:
                head["Authorization"] = f"Bearer {token}"
        failure: str | None = None
        sent = False  # the request may have reached SciCat
        try:
            return self.session.request(
                method, self.root + path, params=query or None, json=json_body,
                headers=head, timeout=self.timeout,
            )  # fmt: skip
        except requests.ConnectTimeout:
            failure = f"no connection within {self.timeout:g} s"
        except requests.Timeout:
            failure, sent = f"no answer within {self.timeout:g} s", True
        except requests.ConnectionError as exc:
            failure, sent = connection_failure(exc)
        except requests.RequestException as exc:
            failure = type(exc).__name__
        # Raised outside the except block so that no chained exception keeps the raw URL.
        # One short line: what failed, where (no credentials), and the setting to check.
        unknown = sent and method.upper() in WRITES
        where = f"{self.root}{path.split('?', 1)[0]}"
        hint = "is SciCat up and ARCHIVER_SCICAT_URL right?"
        if unknown:
            hint = "it may have been applied: re-read before repeating it"
        raise TransientSciCatError(
            operation, self.scrub(f"{method} {where}: {failure}; {hint}"), outcome_unknown=unknown
        )

    def _decode(self, response: requests.Response, operation: str, write: bool = False) -> Any:
        status = response.status_code
        if 200 <= status < 300:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                kind = response.headers.get("Content-Type", "").split(";")[0] or "no content type"
                raise TransientSciCatError(
                    operation,
                    f"SciCat answered {status} with {kind}, not JSON: a proxy in front of SciCat?",
                    status,
                    self.scrub(response.text[:BODY_LIMIT]),
                ) from None
            except RecursionError:
                raise TransientSciCatError(
                    operation, f"SciCat answered {status} with JSON nested too deeply", status
                ) from None
        text = self.scrub(response.text)
        error = classify(operation, status, server_message(text), text)
        if write and status == 504 and isinstance(error, TransientSciCatError):
            error.outcome_unknown = True  # a gateway gave up waiting: SciCat may have done it
        raise error

    def close(self) -> None:
        self.session.close()
