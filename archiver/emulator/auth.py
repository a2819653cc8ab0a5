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

from archiver.emulator.permissions import Account, accounts_from

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


def user_record(account: Account) -> dict[str, Any]:
    """The user document the backend returns after login (functional account)."""
    return {
        "id": hashlib.sha1(account.username.encode()).hexdigest()[:24],
        "username": account.username,
        "email": account.email,
        "emailVerified": True,
        "realm": "",
        "authStrategy": "local",
        "group": account.groups[0] if account.groups else "",
        "groups": list(account.groups),
    }


class TokenBook:
    """Accounts, issued tokens and their expiry. Thread-safe."""

    def __init__(self, accounts: dict[str, Any] | None, ttl: float, jwt: bool = True):
        self.accounts = accounts_from(accounts)
        self.ttl = ttl
        self.jwt = jwt
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def login(self, username: Any, password: Any) -> Token | None:
        """A new token, or ``None`` for wrong credentials."""
        account = self.accounts.get(username) if isinstance(username, str) else None
        if account is None or account.password != password:
            return None
        now = time.time()
        value = self._mint(username, now) if self.jwt else secrets.token_urlsafe(48)
        token = Token(value, username, now, now + self.ttl)
        with self._lock:
            self._tokens[value] = token
        return token

    def user(self, username: str) -> dict[str, Any]:
        """The user record of a known account."""
        return user_record(self.accounts[username])

    def _mint(self, username: str, now: float) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {**self.user(username), "iat": int(now), "exp": int(now + self.ttl)}
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
