"""The HTTP intake (``archiver serve``): takes the job SciCat's ``url`` job action POSTs.

SciCat's ``url`` action sends one HTTP request per job event, with the body and headers
its job configuration renders (``body: "{{{jsonify job}}}"``, a Basic ``Authorization``
header); any non-2xx answer makes SciCat fail the request that created or updated the job
and show our answer to the caller. So the answers are:

* ``POST /jobs``: ``202`` once the job's chain was confirmed by the broker, ``200`` for a
  job that is not new work (an update echo, another job type, a duplicate: the same
  :class:`~archiver.intake.handler.JobIntake` decisions as the bridge), ``400`` with the
  reason for a body the bridge would quarantine, ``401`` (with ``WWW-Authenticate``)
  without the right credentials, ``411``/``413`` without a length or with too large a body,
  ``503`` (with ``Retry-After``) when the broker did not take the chain within seconds.
* ``GET /health``: ``200`` when the broker answers, else ``503``; no credentials needed,
  nothing secret in it.

Every answer is one line of JSON. Requests are handled one at a time past authentication
(the duplicate memory and the publisher are shared).
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import kombu
from celery import Celery

from archiver.intake.basic_auth import CHALLENGE, Credentials, credentials
from archiver.intake.handler import JobIntake
from archiver.intake.messages import MAX_BODY_BYTES
from archiver.settings import Settings

logger = logging.getLogger("archiver.serve")

JOBS_PATH = "/jobs"
HEALTH_PATH = "/health"
#: Publish retries of one POST: about 3 s against a broker that is down, then 503.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.5, "interval_step": 1, "interval_max": 1}
#: Seconds SciCat is told to wait before sending the job again after a 503.
RETRY_AFTER = "30"
#: Seconds a client may take to send its request.
REQUEST_TIMEOUT = 30.0


class IntakeServer(ThreadingHTTPServer):
    """``IntakeServer(app, settings).start()``; answers on :attr:`url` until :meth:`stop`."""

    daemon_threads = True

    def __init__(
        self, app: Celery, settings: Settings, host: str | None = None, port: int | None = None
    ) -> None:
        self.settings = settings
        self.credentials: Credentials = credentials(settings)
        retry = {"retry": True, "retry_policy": PUBLISH_RETRY}
        # Only backend-next >= 4.14 has the url action: a v3 body (job_v3) is from it too.
        self.intake = JobIntake(app, settings, publish_options=retry, sender_api="next")
        self.lock = threading.Lock()
        self.counts = {"started": 0, "dropped": 0, "refused": 0, "unavailable": 0}
        self._thread: threading.Thread | None = None
        address = (settings.serve_host if host is None else host,
                   settings.serve_port if port is None else port)  # fmt: skip
        super().__init__(address, IntakeHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> IntakeServer:
        """Serve in a background thread; returns self."""
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, name="http-intake",
            daemon=True,
        )  # fmt: skip
        self._thread.start()
        logger.info("HTTP intake listening on %s (POST %s, GET %s)", self.url, JOBS_PATH,
                    HEALTH_PATH)  # fmt: skip
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (the request in progress is finished)."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(10)
            self._thread = None
        self.server_close()

    def take(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """The status and answer for one authenticated job body."""
        with self.lock:
            try:
                outcome, reason = self.intake.handle_body(body)
            except Exception as exc:  # noqa: BLE001 - the broker did not take the chain
                self.counts["unavailable"] += 1
                logger.error("could not queue the job's chain (%s): answered 503", exc)
                return 503, {
                    "error": f"the broker did not accept the job's chain ({exc}); "
                    "nothing was started: send the job again"
                }
        if outcome == "quarantine":
            self.counts["refused"] += 1
            logger.warning("unusable job body refused with 400: %s", reason)
            return 400, {"error": f"unusable job: {reason}"}
        self.counts[outcome] += 1
        return (202 if outcome == "started" else 200), {"outcome": outcome, "reason": reason}

    def health(self) -> tuple[int, dict[str, Any]]:
        """200 when the broker accepts a connection now, else 503."""
        try:
            with kombu.Connection(self.settings.broker, connect_timeout=3) as conn:
                conn.connect()
        except Exception as exc:  # noqa: BLE001 - any failure means no chain can be queued
            return 503, {"status": "unavailable", "broker": f"unreachable ({type(exc).__name__})"}
        return 200, {"status": "ok", "broker": "reachable"}


class IntakeHandler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection to the intake."""

    server: IntakeServer
    protocol_version = "HTTP/1.1"
    timeout = REQUEST_TIMEOUT
    server_version = "scicat-archiver"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path.split("?", 1)[0] == HEALTH_PATH:
            self._answer(*self.server.health())
        elif self.path.split("?", 1)[0] == JOBS_PATH:
            self._answer(405, {"error": f"{JOBS_PATH} takes POST"}, {"Allow": "POST"})
        else:
            self._not_found()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        if self.path.split("?", 1)[0].rstrip("/") != JOBS_PATH:
            if self.path.split("?", 1)[0] == HEALTH_PATH:
                self._answer(405, {"error": f"{HEALTH_PATH} takes GET"}, {"Allow": "GET"})
                return
            self._not_found()
            return
        if not self.server.credentials.accepts(self.headers.get("Authorization")):
            self._drain()
            self._answer(
                401,
                {"error": "wrong or missing credentials: send ARCHIVER_SERVE_USER and its "
                          "password with Basic auth"},
                {"WWW-Authenticate": CHALLENGE},
            )  # fmt: skip
            return
        body = self._body()
        if body is not None:
            self._answer(*self.server.take(body))

    def _body(self) -> bytes | None:
        """The request body, or ``None`` after answering why it cannot be read."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            self._answer(411, {"error": "send the job with a Content-Length, not chunked"})
            return None
        raw = self.headers.get("Content-Length")
        try:
            length = int(raw) if raw is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._answer(411, {"error": "a Content-Length header with the body's size is needed"})
            return None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._answer(413, {"error": f"the body has {length} bytes, more than {MAX_BODY_BYTES}"})
            return None
        return self.rfile.read(length)

    def _drain(self) -> None:
        """Read and drop a small body (so the client sees our answer, not a reset), or
        close the connection after answering."""
        raw = self.headers.get("Content-Length") or ""
        if raw.isdigit() and int(raw) <= MAX_BODY_BYTES:
            self.rfile.read(int(raw))
        else:
            self.close_connection = True

    def _not_found(self) -> None:
        self._answer(404, {"error": f"no such path: POST jobs to {JOBS_PATH}, GET {HEALTH_PATH}"})

    def _answer(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = (json.dumps(payload) + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 503 and self.path.startswith(JOBS_PATH):
            self.send_header("Retry-After", RETRY_AFTER)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        # Health probes come every few seconds: only at DEBUG.
        level = logging.DEBUG if self.path.startswith(HEALTH_PATH) else logging.INFO
        logger.log(level, "%s %s", self.address_string(), format % args)
