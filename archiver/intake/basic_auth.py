"""HTTP Basic authentication of the HTTP intake: its credentials and the header check.

The user comes from ``ARCHIVER_SERVE_USER``, the password from ``ARCHIVER_SERVE_PASSWORD``
or the file ``ARCHIVER_SERVE_PASSWORD_FILE``, never from the command line. Comparison is
constant-time, and nothing here logs or returns a secret.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass, field
from pathlib import Path

from archiver.errors import ConfigError
from archiver.settings import Settings

#: The challenge sent with every 401 answer.
CHALLENGE = 'Basic realm="scicat-archiver", charset="UTF-8"'


@dataclass(frozen=True)
class Credentials:
    """The one account allowed to post jobs."""

    user: str
    password: str = field(repr=False)

    def accepts(self, header: str | None) -> bool:
        """``True`` when ``header`` (an ``Authorization`` value) names this account."""
        given = parse_basic(header)
        if given is None:
            return False
        user_ok = hmac.compare_digest(given[0].encode(), self.user.encode())
        password_ok = hmac.compare_digest(given[1].encode(), self.password.encode())
        return user_ok and password_ok


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``(user, password)`` of a ``Basic`` header, or ``None`` when it is not one."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = text.partition(":")
    return (user, password) if colon else None


def credentials(settings: Settings) -> Credentials:
    """The intake's credentials from ``settings``; ConfigError naming what to set."""
    if settings.serve_password and settings.serve_password_file:
        raise ConfigError(
            "both ARCHIVER_SERVE_PASSWORD and ARCHIVER_SERVE_PASSWORD_FILE are set: keep one"
        )
    password = settings.serve_password
    if settings.serve_password_file:
        path = settings.serve_password_file
        try:
            password = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"ARCHIVER_SERVE_PASSWORD_FILE: cannot read {path}: {exc.strerror}"
            ) from None
        if not password:
            raise ConfigError(f"ARCHIVER_SERVE_PASSWORD_FILE: {path} is empty")
    if not settings.serve_user or not password:
        raise ConfigError(
            "the HTTP intake needs ARCHIVER_SERVE_USER and ARCHIVER_SERVE_PASSWORD (or "
            "ARCHIVER_SERVE_PASSWORD_FILE): the account SciCat's url action sends"
        )
    if ":" in settings.serve_user:
        raise ConfigError("ARCHIVER_SERVE_USER must not contain ':' (Basic auth splits there)")
    return Credentials(settings.serve_user, password)
