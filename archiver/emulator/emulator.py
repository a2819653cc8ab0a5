"""The :class:`Emulator` facade: start/stop the server, seed state, inspect it, inject faults."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from archiver.emulator import seed
from archiver.emulator.app import FLAVOURS, App, Config
from archiver.emulator.auth import TokenBook
from archiver.emulator.permissions import DEFAULT_PROFILE, make_profile
from archiver.emulator.publisher import make_publisher
from archiver.emulator.server import EmulatorHTTPServer
from archiver.emulator.url_action import UrlAction

PUBLISH_EVENTS = ("create", "update")
#: next-legacy's default version: 4.3, the last one whose job API works (every logged-in
#: account may read and update jobs). 4.4-4.13 refuse every GET/PATCH/DELETE on
#: /api/v3/Jobs with 403, admin included (observed on real v4.5.1 and v4.13.0); pass
#: ``version="4.13"`` for that.
DEFAULT_LEGACY_VERSION = "4.3"
#: next's default version: 5.2.1, what scicatlive runs.
DEFAULT_NEXT_VERSION = "5.2.1"
_RANGES = {
    "next-legacy": ((4, 0), (4, 13), "4.0 to 4.13"),
    "next": ((4, 14), (99, 0), "4.14 or later"),
}


def parse_version(flavour: str, version: str | None) -> tuple[int, int]:
    """``"4.13"``, ``"4.13.0"`` or ``"v5.2.1"`` -> ``(4, 13)`` / ``(5, 2)``, checked against the
    flavour's range (next-legacy 4.0-4.13, next 4.14 and later, loopback none)."""
    if flavour not in _RANGES:
        if version is not None:
            raise ValueError(f"version applies to the next and next-legacy flavours, not {flavour}")
        return (0, 0)
    default = DEFAULT_LEGACY_VERSION if flavour == "next-legacy" else DEFAULT_NEXT_VERSION
    text = default if version is None else version
    low, high, words = _RANGES[flavour]
    found = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", text.strip())
    if not found or not low <= (int(found[1]), int(found[2])) <= high:
        other = "next" if flavour == "next-legacy" else "next-legacy"
        raise ValueError(
            f"{flavour} version {text!r} is not {words} (e.g. {default}); "
            f"other versions are the {other} flavour"
        )
    return int(found[1]), int(found[2])


class Emulator:
    """An in-memory SciCat backend of one flavour, served over HTTP on ``url``.

    Permissions follow ``profile`` (default ``"scicatlive"``: backend v5.2.1 configured like
    scicatlive, see :mod:`archiver.emulator.permissions`; ``"permissive"``: every account
    may do everything). Single group settings are overridden by keyword, as comma-separated
    strings or iterables, e.g. ``delete_groups="admin,archivemanager"``; ``job_auth``
    replaces job types' ``(create auth, update auth)``. ``accounts`` maps user names to a
    password (the account's group is its name in lower case) or ``(password, [groups])``;
    the default is scicatlive's functional accounts plus ``user1`` (group ``group1``).
    ``version`` picks the release (next-legacy: 4.0-4.13, default 4.3; next: 4.14 and later,
    default 5.2.1): the job API lock-out of 4.4-4.13 and the counter reset on dataset PATCH
    of 4.6-4.14. ``url_action`` adds the job configuration's ``url`` action (next only):
    each job event it is configured for is sent to an HTTP endpoint, after publishing.
    ``capacity`` > 0 is capacity mode: at most that many API requests per
    second, served one at a time, like a saturated backend (:mod:`archiver.emulator.capacity`).
    """

    def __init__(
        self,
        flavour: str = "next",
        host: str = "127.0.0.1",
        port: int = 0,
        publish_on: Sequence[str] = ("create",),
        amqp_url: str | None = None,
        exchange: str = "jobs.write",
        queue: str = "client.jobs.write",
        routing_key: str = "jobqueue",
        latency_ms: float = 0,
        token_ttl: float = 3600,
        accounts: Mapping[str, Any] | None = None,
        lifecycle_route: bool = True,
        profile: str = DEFAULT_PROFILE,
        version: str | None = None,
        job_auth: Mapping[str, tuple[str, str]] | None = None,
        url_action: UrlAction | None = None,
        capacity: float = 0,
        **group_settings: str | Iterable[str] | None,
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown flavour {flavour!r}: use one of {', '.join(FLAVOURS)}")
        parsed = parse_version(flavour, version)
        unknown = set(publish_on) - set(PUBLISH_EVENTS)
        if unknown:
            raise ValueError(f"publish_on may only contain create and update, not {unknown}")
        if url_action is not None and flavour != "next":
            raise ValueError("only the next flavour (backend-next >= 4.14) has job actions")
        self.flavour = flavour
        self.host, self.port = host, port
        style = "loopback" if flavour == "loopback" else "next"
        publisher = (
            make_publisher(amqp_url, exchange, queue, routing_key, style) if amqp_url else None
        )
        config = Config(
            flavour, tuple(publish_on), latency_ms, lifecycle_route, parsed, url_action,
            float(capacity),
        )  # fmt: skip
        tokens = TokenBook(dict(accounts) if accounts is not None else None, token_ttl,
                           jwt=flavour != "loopback")  # fmt: skip
        self.profile = make_profile(profile, job_auth, **group_settings)
        self._app = App(config, tokens, publisher, self.profile)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- running --------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Bind and serve in a background thread; returns self."""
        if self._server is None:
            self._server = EmulatorHTTPServer((self.host, self.port), self._app)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name="scicat-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` is called from elsewhere."""
        self.start()
        assert self._thread is not None
        self._thread.join()

    def stop(self) -> None:
        """Stop serving, cut open connections, close the broker connection."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.cut_connections()
            server.server_close()
        if self._app.publisher is not None:
            self._app.publisher.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:3000`` (API under /api/v3 and /api/v4)."""
        return f"http://{self.host}:{self.port}"

    # -- seeding ----------------------------------------------------------------------------
    def add_dataset(self, **fields: Any) -> str:
        """Store a dataset directly (defaults for required fields); returns its pid."""
        return seed.dataset(self._app.store, fields)

    def add_origdatablock(
        self, pid: str, files: Sequence[dict[str, Any]] | None = None, **fields: Any
    ) -> str:
        """Store an OrigDatablock of ``pid``; returns its id."""
        return seed.origdatablock(self._app.store, pid, files, fields)

    def add_job(
        self,
        job_type: str,
        pids: Sequence[str],
        status: str = "jobSubmitted",
        params: dict[str, Any] | None = None,
        publish: bool = False,
    ) -> str:
        """Store a job (v4 document); ``publish=True`` sends it like a create. Returns its id."""
        doc = seed.job(self._app.store, job_type, pids, status, params)
        if publish:
            self._app.publish(doc, "create")
        return str(doc["id"])

    # -- inspection -------------------------------------------------------------------------
    def job(self, job_id: str) -> dict[str, Any]:
        doc = self._app.store.job(job_id)
        if doc is None:
            raise KeyError(job_id)
        return doc

    def jobs(self) -> list[dict[str, Any]]:
        return self._app.store.query("jobs", {})

    def dataset(self, pid: str) -> dict[str, Any]:
        with self._app.store.lock:
            if pid not in self._app.store.datasets:
                raise KeyError(pid)
            return self._app.store.dataset(pid)

    def datablocks(self, pid: str) -> list[dict[str, Any]]:
        return self._app.store.list_blocks("datablocks", pid)

    def origdatablocks(self, pid: str) -> list[dict[str, Any]]:
        return self._app.store.list_blocks("origdatablocks", pid)

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """``(method, path, status)`` of every API request served (admin calls excluded)."""
        with self._app._log_lock:
            return list(self._app.request_log)

    @property
    def capacity(self) -> float:
        """API requests per second in capacity mode; 0 when unlimited."""
        return self._app.capacity.rate

    @property
    def published(self) -> int:
        """How many messages were published to RabbitMQ."""
        return 0 if self._app.publisher is None else self._app.publisher.count

    # -- faults and tokens ------------------------------------------------------------------
    def inject_fault(
        self,
        path: str,
        status: int | None = 503,
        count: int = 1,
        method: str | None = None,
        delay_s: float = 0.0,
    ) -> None:
        """The next ``count`` API requests whose path matches regex ``path`` answer ``status``
        (after ``delay_s``); ``status=None`` only delays them."""
        self._app.faults.add(path, status, count, method, delay_s)

    def clear_faults(self) -> None:
        self._app.faults.clear()

    def expire_tokens(self) -> None:
        """Every token issued so far is expired (its next use answers 401)."""
        self._app.tokens.expire_all()
