"""Running the HTTP intake (``archiver serve``) inside ``celery -A archiver worker``.

Enabled by ``celery -A archiver worker --with-serve`` or ``ARCHIVER_SERVE_IN_WORKER=true``.
A worker bootstep starts :class:`~archiver.intake.http_intake.IntakeServer` in the worker's
main process when the worker starts and stops it when the worker stops; chains are queued
through the worker's app, exactly as ``archiver serve`` queues them. Run it in one worker
per host and port: a worker that cannot bind the port, or has no credentials, stops at
start with one line saying so.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, bootsteps

from archiver import runtime
from archiver.errors import ConfigError
from archiver.intake.http_intake import IntakeServer
from archiver.intake.worker_step import worker_flag


class ServeStep(bootsteps.StartStopStep):
    """The HTTP intake as a step of the worker: bound when the worker is built (a port in
    use stops the worker at once), served from start until stop or terminate."""

    label = "http-intake"

    def __init__(self, parent: Any, with_serve: bool = False, **options: Any) -> None:
        self.enabled = bool(with_serve) or runtime.settings().serve_in_worker
        super().__init__(parent, **options)

    def create(self, parent: Any) -> IntakeServer:
        settings = runtime.settings()
        try:
            return IntakeServer(parent.app, settings)
        except ConfigError as exc:
            raise SystemExit(
                f"archiver: the HTTP intake (--with-serve) cannot start: {exc}"
            ) from None
        except OSError as exc:
            address = f"{settings.serve_host}:{settings.serve_port}"
            raise SystemExit(
                f"archiver: the HTTP intake (--with-serve) cannot listen on {address} "
                f"({exc.strerror or exc}): set ARCHIVER_SERVE_HOST/ARCHIVER_SERVE_PORT"
            ) from None


def install(app: Celery) -> None:
    """Add the ``--with-serve`` worker option and the step to ``app``."""
    worker_flag(
        app,
        "--with-serve",
        "Also run the HTTP intake for SciCat's url action (ARCHIVER_SERVE_IN_WORKER).",
    )
    app.steps["worker"].add(ServeStep)
