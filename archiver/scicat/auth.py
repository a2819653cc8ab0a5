"""Token lifetimes and secret scrubbing for the SciCat funnel.

A :class:`Grant` is a token plus the moment to renew it, read from a login answer
(``expires_in``/``ttl`` seconds, else the JWT ``exp`` claim). :func:`scrub` removes passwords
and tokens from any text; a log filter does the same for urllib3's request lines, which print
the URL, ``access_token`` query parameter included.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

#: Renew this many seconds before expiry (at most; short-lived tokens use a fifth of their life).
RENEW_MARGIN = 60.0

_QUERY_TOKEN = re.compile(r"(access_token=)[^&\s'\"]+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SECRET_KEYS = re.compile(r'("(?:access_token|id_token|password|token)"\s*:\s*)"[^"]*"')


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove known secrets and anything shaped like a token from ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    text = _QUERY_TOKEN.sub(r"\1***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _JWT.sub("***", text)
    return _SECRET_KEYS.sub(r'\1"***"', text)


class _ScrubLogFilter(logging.Filter):
    """Rewrites urllib3's request lines, which print the URL with ``access_token=``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_urllib3_log = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _ScrubLogFilter) for f in _urllib3_log.filters):
    _urllib3_log.addFilter(_ScrubLogFilter())


@dataclass(frozen=True)
class Grant:
    """A token and the monotonic time at which it should be renewed (``None``: never)."""

    token: str
    renew_at: float | None = None


def grant_from_login(answer: Any, token_field: str) -> Grant | None:
    """Read a login answer; ``None`` when it holds no token."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get(token_field), str):
        return None
    token = answer[token_field]
    lifetime = _number(answer.get("expires_in")) or _number(answer.get("ttl"))
    if lifetime is None:
        exp = jwt_expiry(token)
        lifetime = exp - time.time() if exp is not None else None
    if lifetime is None:
        return Grant(token)
    margin = min(RENEW_MARGIN, max(lifetime, 0.0) / 5)
    return Grant(token, time.monotonic() + lifetime - margin)


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim (epoch seconds) of a JWT, or ``None`` if it is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return _number(payload.get("exp")) if isinstance(payload, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)
