"""The default node name of ``celery -A archiver worker``: unique on its host.

Celery names a worker ``celery@<host>`` unless ``-n`` says otherwise, and a node name's
remote-control queue (``<name>.celery.pidbox``) is exclusive: a second worker of that name
on the broker (any Celery program on the same host) dies at start with
``RESOURCE_LOCKED``. The archiver's worker is named ``archiver-<pid>@<host>`` instead, so
the README's command works beside any other worker; ``-n`` still chooses a name. Its log
level is ``ARCHIVER_LOG_LEVEL`` unless ``--loglevel`` is given (Celery's default, WARNING,
used to hide it).
"""

from __future__ import annotations

import os
import socket
from typing import Any

import click
from celery.apps.worker import Worker

from archiver import runtime


def default_node_name() -> str:
    """``archiver-<pid>@<host>``."""
    return f"archiver-{os.getpid()}@{socket.gethostname()}"


def option_given(name: str) -> bool:
    """``True`` when the worker's command line (or its environment) set option ``name``:
    Celery's options have defaults of their own, so only click knows whether one was given."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or name not in ctx.params:
        return True  # not started from Celery's command line: the caller chose
    return ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT


def name_given() -> bool:
    """``True`` when ``-n`` was given."""
    return option_given("hostname")


class ArchiverWorker(Worker):
    """Celery's worker program with :func:`default_node_name` when ``-n`` is not given, and
    the level of ``ARCHIVER_LOG_LEVEL`` when ``--loglevel`` is not given."""

    def __init__(self, app: Any = None, hostname: str | None = None, **kwargs: Any) -> None:
        if not hostname or not name_given():
            hostname = default_node_name()
        if not option_given("loglevel"):
            kwargs["loglevel"] = runtime.settings().log_level
        super().__init__(app=app, hostname=hostname, **kwargs)
