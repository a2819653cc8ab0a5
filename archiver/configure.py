"""One configuration path: a process's settings, applied to everything at once.

Every entry point builds its :class:`~archiver.settings.Settings` once (the worker from the
environment, the ``archiver`` commands from the environment and their global flags, the
demo and the tests from their own values) and hands them to :func:`apply`. It sets, together,

* the per-process runtime (:mod:`archiver.runtime`: SciCat clients, storage),
* the root logger's level (``ARCHIVER_LOG_LEVEL``),
* and, when given, the Celery app's configuration (:func:`celeryconfig.from_settings`),

so that no part keeps the environment's values while another follows a command-line flag
(``archiver --broker-url X --task-queue Y bridge`` consumes from X and publishes its chains
to X, queue Y).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from archiver.settings import Settings

if TYPE_CHECKING:
    from celery import Celery

#: The format of every archiver process's log lines (the worker's come from Celery).
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def apply_logging(settings: Settings) -> None:
    """Give the root logger the level of ``settings`` (and a handler, if it has none)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=LOG_FORMAT)
    root.setLevel(settings.log_level)


def apply_to_app(app: Celery, settings: Settings) -> None:
    """Configure ``app`` for ``settings``: broker, task queue, retry policy, result backend.

    The app caches its queue table and producer pool from an earlier configuration; both are
    dropped so the new broker and task queue are the ones used.
    """
    import celeryconfig

    app.conf.update(celeryconfig.from_settings(settings))
    app.__dict__.pop("amqp", None)
    # The pool is bound to the broker of the first configuration; drop the reference (not
    # the pool: kombu shares pools per URL).
    app._pool = None


def apply(settings: Settings, app: Celery | None = None) -> None:
    """Use ``settings`` in this process: runtime, logging and (when given) the Celery app."""
    from archiver import runtime

    runtime.configure(settings)
    apply_logging(settings)
    if app is not None:
        apply_to_app(app, settings)
