"""A tiny route table: ``(method, "/api/v3/datasets/{pid}")`` templates matched by regex.

Path parameters match one raw segment (pids arrive with ``/`` encoded as ``%2F``) and are
URL-decoded after matching. Matching is case-insensitive, as Express and LoopBack are.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[..., tuple[int, Any]]


@dataclass
class Route:
    """One route: method, path template, handler, and whether it needs a token."""

    method: str
    template: str
    handler: Handler
    auth: bool = True
    regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        self.regex = re.compile(f"^{pattern}/?$", re.IGNORECASE)


class Router:
    """Finds the route for a request; tells 404 (no path) from 404 (no method) alike."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            found = route.regex.match(path)
            if found:
                params = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
                return route, params
        return None

    def table(self) -> list[tuple[str, str]]:
        """``(method, template)`` of every route, in matching order."""
        return [(r.method, r.template) for r in self.routes]
