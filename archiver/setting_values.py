"""How setting values are written: one parser per kind of value, the choices, and how a
value is shown without its secrets.

Each parser takes the raw text of an environment variable or CLI flag and returns the
parsed value, or raises ``ValueError`` with a message that reads after the variable's name
("ARCHIVER_MAX_RETRIES must be an integer, got 'x'"). :func:`masked` is what ``archiver
config`` prints for a value: passwords inside URLs (``amqp://user:pw@host``,
``redis://:pw@host``, ``?password=pw``) become ``***``.
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


#: Query parameters of a URL whose value is a secret (``redis://host/0?password=x``).
SECRET_QUERY_KEYS = ("password", "passwd", "pass", "pw", "secret", "token", "key")


def masked(value: object) -> object:
    """``value`` safe to print: every URL in it has its password (and secret query
    parameters) replaced by ``***``; other values are returned as they are."""
    if isinstance(value, str) and "://" in value:
        return _masked_url(value)
    if isinstance(value, tuple):
        return tuple(masked(item) for item in value)
    return value


def _masked_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = _split_authority(rest)
    userinfo, at, hostinfo = authority.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        authority = f"{user}:***@{hostinfo}" if colon else f"{userinfo}@{hostinfo}"
    path, question, query = tail.partition("?")
    if question:
        items = []
        for item in query.split("&"):
            name, equals, _value = item.partition("=")
            secret = equals and name.lower() in SECRET_QUERY_KEYS
            items.append(f"{name}=***" if secret else item)
        tail = f"{path}?{'&'.join(items)}"
    return f"{scheme}{sep}{authority}{slash}{tail}"


def _split_authority(rest: str) -> tuple[str, str, str]:
    """``user:pw@host:1/path?q`` -> ``("user:pw@host:1", "/", "path?q")``. A password may
    hold an unquoted '/', so the authority ends at the first '/' or '?' after the last '@'
    before the query."""
    at = rest.rfind("@", 0, rest.find("?") if "?" in rest else len(rest))
    ends = [i for i in (rest.find("/", at + 1), rest.find("?", at + 1)) if i >= 0]
    if not ends:
        return rest, "", ""
    cut = min(ends)
    if rest[cut] == "?":
        return rest[:cut], "", rest[cut:]
    return rest[:cut], "/", rest[cut + 1 :]


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


def _parse_fraction(value: str) -> float:
    number = _parse_float(value)
    if number > 1:
        raise ValueError(f"must be a fraction between 0 and 1, got {value!r}")
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

    parse.choices = choices  # type: ignore[attr-defined]
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


def _level_choice(value: str) -> str:
    """A log level, any case -> upper case."""
    return _choice(LEVEL_CHOICES)(value).upper()


LEVEL_CHOICES = ("debug", "info", "warning", "error")

#: What ``--help`` shows for each kind of value (choices show their list).
METAVARS: dict[Callable[[str], object], str] = {
    _parse_str: "TEXT",
    _parse_int: "INTEGER",
    _parse_positive_int: "INTEGER",
    _parse_float: "NUMBER",
    _parse_fraction: "NUMBER",
    _parse_bool: "BOOLEAN",
    _parse_path_map: "PREFIX=PREFIX;...",
    _parse_paths: "FOLDER;...",
    _parse_folder: "FOLDER",
    normalise_scicat_url: "URL",
    _parse_broker: "HOST|URL",
}


def choices_of(parse: Callable[[str], object]) -> tuple[str, ...]:
    """The values a choice parser accepts (empty for any other parser)."""
    if parse is _level_choice:
        return LEVEL_CHOICES
    return getattr(parse, "choices", ())


def metavar(parse: Callable[[str], object]) -> str:
    """How ``--help`` names the value of a flag parsed by ``parse``."""
    choices = choices_of(parse)
    if choices:
        return "[" + "|".join(choices) + "]"
    return METAVARS.get(parse, "TEXT")
