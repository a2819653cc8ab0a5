"""How setting values are written: one parser per kind of value, and the choices.

Each parser takes the raw text of an environment variable or CLI flag and returns the
parsed value, or raises ``ValueError`` with a message that reads after the variable's name
("ARCHIVER_MAX_RETRIES must be an integer, got 'x'").
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

API_CHOICES = ("auto", "loopback", "next-legacy", "next")
STORAGE_CHOICES = ("mock", "filesystem", "s3", "routing")
S3_STORAGE_CLASSES = (
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
CHECKSUM_CHOICES = ("sha256", "sha512", "sha1", "md5", "blake2b")


def _parse_str(value: str) -> str:
    return value.strip()


def _parse_int(value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"must be an integer, got {value!r}") from None
    if number < 0:
        raise ValueError(f"must not be negative, got {value!r}")
    return number


def _parse_positive_int(value: str) -> int:
    number = _parse_int(value)
    if number == 0:
        raise ValueError("must be at least 1, got 0")
    return number


def _parse_float(value: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError(f"must be a number, got {value!r}") from None
    if number < 0 or number != number:
        raise ValueError(f"must be a non-negative number, got {value!r}")
    return number


def _parse_bool(value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"must be true or false, got {value!r}")


def _parse_path_map(value: str) -> tuple[tuple[str, str], ...]:
    """``/data=/mnt/data;/other=/x`` -> ``(("/data", "/mnt/data"), ("/other", "/x"))``."""
    pairs = []
    for item in filter(None, (part.strip() for part in value.split(";"))):
        scicat, sep, local = item.partition("=")
        if not sep or not scicat.strip().startswith("/") or not local.strip().startswith("/"):
            raise ValueError(f"must be /scicat=/local prefix pairs joined by ';', got {item!r}")
        pairs.append((scicat.strip().rstrip("/") or "/", local.strip().rstrip("/") or "/"))
    return tuple(pairs)


def _parse_paths(value: str) -> tuple[str, ...]:
    """``/a;/b`` -> ``("/a", "/b")``: absolute folders joined by ';'."""
    paths = tuple(filter(None, (part.strip() for part in value.split(";"))))
    for path in paths:
        if not path.startswith("/"):
            raise ValueError(f"must be absolute folders joined by ';', got {path!r}")
    return paths


def _parse_folder(value: str) -> str:
    text = value.strip()
    if not text.startswith("/"):
        raise ValueError(f"must be an absolute folder, got {text!r}")
    return text


def _parse_endpoint(value: str) -> str:
    """An http(s) URL without credentials (S3 credentials come from the environment)."""
    text = value.strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as https://s3.example.org, got {text!r}")
    if parts.username or parts.password:
        raise ValueError("must not contain credentials; use AWS_ACCESS_KEY_ID or a file")
    return text.rstrip("/")


def _parse_storage_class(value: str) -> str:
    text = value.strip().upper()
    if text not in S3_STORAGE_CLASSES:
        raise ValueError(f"must be one of {', '.join(S3_STORAGE_CLASSES)}; got {value!r}")
    return text


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        text = value.strip().lower()
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}; got {value!r}")
        return text

    return parse


def normalise_scicat_url(value: str) -> str:
    """Return the server root of a SciCat base URL.

    ``http://host:3000``, ``http://host:3000/``, ``http://host:3000/api/v3`` and
    ``http://host:3000/api/v3/`` all give ``http://host:3000``. A path before ``/api``
    (a reverse-proxy prefix) is kept.
    """
    text = value.strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"must be an http(s) URL such as http://backend:3000/api/v3/, got {text!r}"
        )
    if parts.username or parts.password:
        raise ValueError("must not contain credentials; use ARCHIVER_SCICAT_USER/PASSWORD")
    path = parts.path.rstrip("/")
    for suffix in ("/api/v3", "/api/v4", "/api"):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def _parse_broker(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("must be a host name or an amqp:// URL")
    if "://" in text:
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("amqp", "amqps", "pyamqp", "memory", "filesystem", "redis"):
            raise ValueError(f"has an unsupported scheme {parts.scheme!r}")
        return text
    if "/" in text or " " in text:
        raise ValueError(f"must be a host name (optionally host:port) or a URL, got {text!r}")
    return text
