"""Job ids and dataset pids are data: the rules they must meet, and how they are logged.

An id arrives from a queue message or a SciCat listing and ends up in URLs, folder names and
log lines. :func:`check_job_id` and :func:`check_pid` refuse, with one line naming the id
(escaped), what cannot be used safely: empty or blank ids, ids longer than
:data:`MAX_ID_LENGTH`, control characters (a newline, a tab, NUL, ESC, DEL, C1 codes, line
and paragraph separators), lone surrogates, and ids that are ``.`` or ``..`` (for pids,
which legitimately contain ``/``, also any ``/``-separated part that is ``.`` or ``..``).

:func:`escape` renders any text for a log line or an error message: backslashes and the
characters above become visible escapes (``\\n``, ``\\x1b``, ``\\u2028``), so a newline in
an id cannot start a forged log line.
"""

from __future__ import annotations

import re

from archiver.errors import MessageError

#: Longest job id or pid accepted.
MAX_ID_LENGTH = 512

#: Characters never allowed in an id, and escaped in logs: C0 controls, DEL, C1 controls,
#: line/paragraph separators, bidi controls, and lone surrogates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_ESCAPED = re.compile("[\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: object) -> str:
    """``text`` safe for one log line: backslashes and control characters made visible."""
    return _ESCAPED.sub(_escape_char, str(text))


def shown(text: str, limit: int = 80) -> str:
    """An id as quoted in an error message: escaped and cut to ``limit`` characters."""
    if len(text) <= limit:
        return f"'{escape(text)}'"
    return f"'{escape(text[:limit])}...' ({len(text)} characters)"


def problem(value: str, *, pid: bool) -> str | None:
    """Why ``value`` cannot be used as a job id (or a pid), or ``None`` when it can."""
    if not value.strip():
        return "is empty"
    if len(value) > MAX_ID_LENGTH:
        return f"is {len(value)} characters long, more than {MAX_ID_LENGTH}"
    bad = _UNSAFE.search(value)
    if bad is not None:
        return f"contains the control character {escape(bad.group())}"
    parts = value.split("/") if pid else [value]
    if value in (".", "..") or any(part in (".", "..") for part in parts):
        return "is or contains a '.' or '..' path segment"
    return None


def check_job_id(value: object) -> str:
    """``value`` if it is a usable job id; otherwise :class:`MessageError` naming it."""
    if not isinstance(value, str) or not value.strip():
        raise MessageError("the job has no id (string 'id' or '_id')")
    why = problem(value, pid=False)
    if why is not None:
        raise MessageError(f"the job id {shown(value)} {why}: such a job cannot be processed")
    return value


def check_pid(value: str, where: str) -> str:
    """``value`` if it is a usable pid; otherwise :class:`MessageError` naming it and
    ``where`` it was found (e.g. ``job X: datasetList[3]``)."""
    why = problem(value, pid=True)
    if why is not None:
        raise MessageError(f"{where}: the pid {shown(value)} {why}")
    return value
