"""Request and error types shared by every route module of the emulator."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """An HTTP error answer; rendered NestJS-style or LoopBack-style by the server."""

    def __init__(
        self,
        status: int,
        message: str | list[str],
        code: str | None = None,
        body: dict[str, Any] | None = None,
    ):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.code = code
        #: the exact answer body, when the backend does not use NestJS's usual one
        self.body = body


def nest_error(status: int, message: Any) -> dict[str, Any]:
    """The body NestJS sends for an HTTP exception."""
    body: dict[str, Any] = {"statusCode": status, "message": message}
    if status != 500:
        body["error"] = REASONS.get(status, "Error")
    return body


def loopback_error(status: int, message: Any, code: str | None = None) -> dict[str, Any]:
    """The body LoopBack 3 sends for an error."""
    inner: dict[str, Any] = {"statusCode": status, "name": "Error", "message": message}
    if code:
        inner["code"] = code
    return {"error": inner}


@dataclass
class Request:
    """One parsed HTTP request as the route handlers see it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw_body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    user: dict[str, Any] | None = None
    #: the caller's :class:`~archiver.emulator.permissions.Rights` (authenticated routes)
    rights: Any = None

    @property
    def username(self) -> str:
        """The logged-in caller's username (``anonymous`` on open routes)."""
        return str((self.user or {}).get("username", "anonymous"))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def body(self) -> Any:
        """The JSON (or form-encoded) body; ``{}`` when empty; 400 when malformed."""
        if not self.raw_body.strip():
            return {}
        if self.content_type == "application/x-www-form-urlencoded":
            pairs = urllib.parse.parse_qsl(self.raw_body.decode("utf-8", "replace"))
            return dict(pairs)
        try:
            return json.loads(self.raw_body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "Unexpected token in JSON body") from None

    def object_body(self) -> dict[str, Any]:
        """The body, which must be a JSON object."""
        body = self.body()
        if not isinstance(body, dict):
            raise ApiError(400, "body must be a JSON object")
        return body

    def json_query(self, name: str) -> dict[str, Any]:
        """A JSON-encoded query parameter such as ``filter``; ``{}`` when absent."""
        text = self.query.get(name)
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise ApiError(400, f"{name} must be JSON") from None
        if not isinstance(value, dict):
            raise ApiError(400, f"{name} must be a JSON object")
        return value


def parse_target(target: str) -> tuple[str, dict[str, str]]:
    """Split a request target into the raw path and the decoded query parameters."""
    parts = urllib.parse.urlsplit(target)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return parts.path, query
