"""Accounts and login tokens: JWT-shaped tokens (backend-next) and opaque ones (LoopBack)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

#: scicatlive's functional accounts.
DEFAULT_ACCOUNTS = {
    "admin": "2jf70TPNZsS",
    "ingestor": "aman",
    "archiveManager": "aman",
    "proposalIngestor": "aman",
}
_SECRET = b"emulator-secret"


@dataclass
class Token:
    """One issued token."""

    value: str
    username: str
    issued: float
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def user_record(username: str) -> dict[str, Any]:
    """The user document the backend returns after login (functional account)."""
    return {
        "id": hashlib.sha1(username.encode()).hexdigest()[:24],
        "username": username,
        "email": f"{username.lower()}@your.site",
        "emailVerified": True,
        "realm": "",
        "authStrategy": "local",
        "group": username.lower(),
    }


class TokenBook:
    """Accounts, issued tokens and their expiry. Thread-safe."""

    def __init__(self, accounts: dict[str, str] | None, ttl: float, jwt: bool = True):
        self.accounts = dict(DEFAULT_ACCOUNTS if accounts is None else accounts)
        self.ttl = ttl
        self.jwt = jwt
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def login(self, username: Any, password: Any) -> Token | None:
        """A new token, or ``None`` for wrong credentials."""
        if not isinstance(username, str) or self.accounts.get(username) != password:
            return None
        now = time.time()
        value = self._mint(username, now) if self.jwt else secrets.token_urlsafe(48)
        token = Token(value, username, now, now + self.ttl)
        with self._lock:
            self._tokens[value] = token
        return token

    def _mint(self, username: str, now: float) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {**user_record(username), "iat": int(now), "exp": int(now + self.ttl)}
        claims["jti"] = secrets.token_hex(8)
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(_SECRET, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def check(self, value: str | None) -> tuple[str, Token | None]:
        """``("ok", token)``, ``("expired", token)`` or ``("unknown", None)``."""
        if not value:
            return "unknown", None
        with self._lock:
            token = self._tokens.get(value)
        if token is None:
            return "unknown", None
        if time.time() >= token.expires:
            return "expired", token
        return "ok", token

    def expire_all(self) -> None:
        """Every token issued so far is expired from now on."""
        now = time.time()
        with self._lock:
            for token in self._tokens.values():
                token.expires = min(token.expires, now)
