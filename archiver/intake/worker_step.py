"""Running the bridge inside ``celery -A archiver worker``.

Enabled by ``celery -A archiver worker --with-bridge`` or ``ARCHIVER_BRIDGE_IN_WORKER=true``.
A Celery ``ConsumerStep`` consumes the job queue on its own channel of the worker's
connection and uses the same message handling as ``archiver bridge``. Run it in one worker
only (or accept that each worker process group holds its own duplicate memory; the
chain's claim step still prevents duplicate work). Like ``archiver bridge``, it also runs
the reconciler (:mod:`archiver.intake.reconcile`) in a thread of the worker's main process.
"""

from __future__ import annotations

from typing import Any

import click
from celery import Celery, bootsteps
from celery.utils.log import worker_logger
from kombu import Consumer

from archiver import runtime
from archiver.intake import reconcile
from archiver.intake.bridge import PREFETCH, MessageHandler, job_queue
from archiver.intake.broker_login import RefusedLoginFilter
from archiver.intake.handler import JobIntake
from archiver.setting_values import masked


class BridgeStep(bootsteps.ConsumerStep):
    """Consumes the SciCat job queue inside the worker."""

    def __init__(self, parent: Any, with_bridge: bool = False, **options: Any) -> None:
        self.enabled = bool(with_bridge) or runtime.settings().bridge_in_worker
        self.reconciler: reconcile.Reconciler | None = None
        super().__init__(parent, **options)

    def get_consumers(self, channel: Any) -> list[Consumer]:
        settings = runtime.settings()
        channel.basic_qos(0, PREFETCH, False)
        publisher = self.app.connection_for_write(transport_options={"confirm_publish": True})
        handler = MessageHandler(JobIntake(self.app, settings), settings, publisher)
        return [Consumer(channel, queues=[job_queue(settings)], on_message=handler, accept=None)]

    def start(self, parent: Any) -> None:
        self.app = parent.app
        super().start(parent)
        if self.reconciler is None:  # start() runs again after every reconnect
            self.reconciler = reconcile.background(self.app, runtime.settings())
            reconcile.start_thread(self.reconciler)

    def shutdown(self, parent: Any) -> None:
        if self.reconciler is not None:
            self.reconciler.stop()
        super().shutdown(parent)


def worker_flag(app: Celery, flag: str, help: str) -> None:  # noqa: A002 - click's name
    """Add the boolean option ``flag`` to ``celery -A archiver worker``."""
    app.user_options["worker"].add(click.Option([flag], is_flag=True, default=False, help=help))


def install(app: Celery) -> None:
    """Add the ``--with-bridge`` worker option and the step to ``app``, and make a refused
    broker login end the worker with one line instead of Celery's traceback."""
    worker_logger.addFilter(RefusedLoginFilter(lambda: str(masked(app.conf.broker_url))))
    worker_flag(
        app,
        "--with-bridge",
        "Also consume SciCat's job queue in this worker (ARCHIVER_BRIDGE_IN_WORKER).",
    )
    app.steps["consumer"].add(BridgeStep)
