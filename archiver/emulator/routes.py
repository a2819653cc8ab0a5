"""Assembles the route table of each flavour; also the login and health routes of
backend-next."""

from __future__ import annotations

from typing import Any

from archiver.emulator import routes_blocks, routes_datasets, routes_jobs, routes_loopback
from archiver.emulator.protocol import ApiError, Request
from archiver.emulator.router import Route
from archiver.emulator.store import now_iso


def login(app: Any, req: Request) -> tuple[int, Any]:
    """``POST /api/v3/auth/login`` (JSON or form body) -> 201 with a JWT."""
    body = req.object_body()
    token = app.tokens.login(body.get("username"), body.get("password"))
    if token is None:
        raise ApiError(401, "Unauthorized")
    user = app.tokens.user(token.username)
    user.pop("group")
    user.pop("groups")
    ttl = int(app.tokens.ttl)
    return 201, {
        "access_token": token.value,
        "id": token.value,
        "expires_in": ttl,
        "ttl": ttl,
        "created": now_iso(),
        "userId": user["id"],
        "user": user,
    }


def users_login_stub(app: Any, req: Request) -> tuple[int, Any]:
    """The deprecated ``/api/v3/Users/login`` of backend-next answers 201 with no body."""
    return 201, None


def health(app: Any, req: Request) -> tuple[int, Any]:
    return 200, {"status": "ok", "info": {}, "error": {}, "details": {}}


def _next_common() -> list[Route]:
    return [
        Route("POST", "/api/v3/auth/login", login, auth=False),
        Route("POST", "/api/v3/users/login", users_login_stub, auth=False),
        Route("GET", "/api/v3/health", health, auth=False),
    ]


def build_routes(flavour: str, lifecycle_route: bool = True) -> list[Route]:
    """Every route the given flavour serves, in matching order."""
    if flavour == "loopback":
        return routes_loopback.routes()
    if flavour == "next-legacy":
        lifecycle_route = False
    elif flavour != "next":
        raise ValueError(f"unknown flavour {flavour!r}: use next, next-legacy or loopback")
    return (
        _next_common()
        + routes_jobs.routes(flavour)
        + routes_datasets.routes(lifecycle_route)
        + routes_blocks.routes()
    )


def route_table(flavour: str = "next", lifecycle_route: bool = True) -> list[tuple[str, str]]:
    """``(method, path template)`` of every route a flavour serves (for contract tests)."""
    return [(r.method, r.template) for r in build_routes(flavour, lifecycle_route)]
