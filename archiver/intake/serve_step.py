"""Running the HTTP intake (``archiver serve``) inside ``celery -A archiver worker``.

Enabled by ``celery -A archiver worker --with-serve`` or ``ARCHIVER_SERVE_IN_WORKER=true``.
A worker bootstep starts :class:`~archiver.intake.http_intake.IntakeServer` in the worker's
main process when the worker starts and stops it when the worker stops; chains are queued
through the worker's app, exactly as ``archiver serve`` queues them. Run it in one worker
per host and port (a second one cannot bind the port and stops the worker with that line).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, bootsteps

from archiver import runtime
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
        return IntakeServer(parent.app, runtime.settings())


def install(app: Celery) -> None:
    """Add the ``--with-serve`` worker option and the step to ``app``."""
    worker_flag(
        app,
        "--with-serve",
        "Also run the HTTP intake for SciCat's url action (ARCHIVER_SERVE_IN_WORKER).",
    )
    app.steps["worker"].add(ServeStep)
