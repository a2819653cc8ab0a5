"""The request pipeline: capacity, faults, latency, routing, authentication, errors, logging."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

from archiver.emulator import admin
from archiver.emulator.auth import TokenBook
from archiver.emulator.capacity import make_capacity
from archiver.emulator.faults import FaultBook
from archiver.emulator.jobs import to_v3
from archiver.emulator.permissions import PROFILES, Profile, Rights
from archiver.emulator.protocol import ApiError, Request, loopback_error, nest_error, parse_target
from archiver.emulator.publisher import Publisher, PublishError
from archiver.emulator.router import Router
from archiver.emulator.routes import build_routes
from archiver.emulator.store import Store
from archiver.emulator.url_action import UrlAction

log = logging.getLogger(__name__)
FLAVOURS = ("next", "next-legacy", "loopback")
_SLASHES = re.compile(r"/{2,}")


@dataclass(frozen=True)
class Config:
    """What kind of backend to emulate."""

    flavour: str = "next"
    publish_on: tuple[str, ...] = ("create",)
    latency_ms: float = 0
    lifecycle_route: bool = True
    #: the backend version emulated, e.g. ``(4, 13)`` or ``(5, 2)`` (``(0, 0)``: LoopBack).
    version: tuple[int, int] = (5, 2)
    #: the job configuration's ``url`` action (backend-next >= 4.14 only), if any.
    url_action: UrlAction | None = None
    #: capacity mode: at most this many API requests per second, one at a time (0: unlimited).
    capacity: float = 0


class App:
    """Everything a request handler may touch: config, store, tokens, faults, publisher."""

    def __init__(
        self,
        config: Config,
        tokens: TokenBook,
        publisher: Publisher | None,
        profile: Profile | None = None,
    ) -> None:
        self.config = config
        self.store = Store()
        self.tokens = tokens
        # LoopBack's ACLs are not modelled: every account may do everything there.
        permissive = profile is None or config.flavour == "loopback"
        self.profile: Profile = PROFILES["permissive"] if permissive or not profile else profile
        self._rights: dict[str, Rights] = {}
        self.faults = FaultBook()
        self.capacity = make_capacity(config.capacity)
        self.publisher = publisher
        self.router = Router(build_routes(config.flavour, config.lifecycle_route))
        self.request_log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()

    @property
    def loopback(self) -> bool:
        return self.config.flavour == "loopback"

    # -- pipeline ---------------------------------------------------------------------------
    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        """Answer one HTTP request: ``(status, JSON bytes)`` (empty bytes = no body)."""
        path, query = parse_target(target)
        req = Request(method, path, query, headers, body)
        if path.rstrip("/").startswith("/emulator"):
            status, payload = self._guard(lambda: admin.handle(self, req))
            return status, _encode(payload)
        with self.capacity.slot():
            status, payload = self._guard(lambda: self._api(req))
        with self._log_lock:
            self.request_log.append((method, path, status))
        return status, _encode(payload)

    def _api(self, req: Request) -> tuple[int, Any]:
        fault = self.faults.take(req.method, req.path)
        if fault is not None:
            time.sleep(fault.delay_s)
            if fault.status is not None:
                raise ApiError(fault.status, f"injected fault {fault.status}")
        if self.config.latency_ms:
            time.sleep(self.config.latency_ms / 1000.0)
        path = _SLASHES.sub("/", req.path) if self.loopback else req.path
        found = self.router.match(req.method, path)
        if found is None:
            raise ApiError(404, f"Cannot {req.method} {req.path}")
        route, req.params = found
        if route.auth:
            req.user = self._authenticate(req)
        return route.handler(self, req)

    def _guard(self, call: Any) -> tuple[int, Any]:
        try:
            return cast("tuple[int, Any]", call())
        except ApiError as exc:
            if self.loopback:
                return exc.status, loopback_error(exc.status, exc.message, exc.code)
            if exc.body is not None:
                return exc.status, exc.body
            return exc.status, nest_error(exc.status, exc.message)
        except Exception:  # noqa: BLE001 - a bug in the emulator answers 500, logged
            log.exception("emulator: unexpected error")
            return 500, nest_error(500, "Internal server error")

    # -- authentication -------------------------------------------------------------------
    def _token_of(self, req: Request) -> str | None:
        header = req.headers.get("authorization") or ""
        if self.loopback:
            header = header or req.headers.get("x-access-token", "")
            value = req.query.get("access_token") or header
        else:
            value = header or req.query.get("access_token", "")
        if value.lower().startswith("bearer "):
            value = value[7:]
        return value.strip() or None

    def _authenticate(self, req: Request) -> dict[str, Any]:
        state, token = self.tokens.check(self._token_of(req))
        if state == "ok" and token is not None:
            user = self.tokens.user(token.username)
            req.rights = self.rights_of(user)
            return user
        if self.loopback:
            raise ApiError(401, "Authorization Required", "AUTHORIZATION_REQUIRED")
        if state == "expired":
            raise ApiError(401, "SESSION_EXPIRED")
        raise ApiError(403, "Forbidden resource")

    def rights_of(self, user: dict[str, Any]) -> Rights:
        """The (cached) rights of a logged-in account under this backend's profile."""
        rights = self._rights.get(user["username"])
        if rights is None:
            rights = Rights(self.profile, user["username"], user["groups"], user["email"])
            self._rights[user["username"]] = rights
        return rights

    # -- publishing -----------------------------------------------------------------------
    def publish(self, doc: dict[str, Any], event: str) -> None:
        """Run the job actions after ``event`` ("create" or "update"): publish the job the
        way this backend does, then the ``url`` action if configured for the event."""
        self._publish(doc, event)
        action = self.config.url_action
        if action is not None and event in action.on:
            action.perform(doc)

    def _publish(self, doc: dict[str, Any], event: str) -> None:
        flavour = self.config.flavour
        if self.publisher is None or flavour == "next-legacy":
            return
        if event not in self.config.publish_on or (self.loopback and event != "create"):
            return
        if self.loopback:
            try:
                self.publisher.publish(to_v3(doc, native=True))
            except PublishError:
                pass  # LoopBack publishes asynchronously: the HTTP answer is unaffected
            return
        try:
            self.publisher.publish(doc)
        except PublishError as exc:
            raise ApiError(
                400,
                f"Invalid job input. Job '{doc['type']}' unable to perform action "
                f"'rabbitmq' due to {exc}",
            ) from None


def _encode(payload: Any) -> bytes:
    if payload is None:
        return b""
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")
