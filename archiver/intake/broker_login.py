"""Telling a refused broker login apart from an unreachable broker, in one line.

RabbitMQ answers a wrong user or password with ``ACCESS_REFUSED`` and a user without
access to the virtual host with ``NOT_ALLOWED``. Neither gets better by itself within
seconds, and a traceback says nothing an operator can act on: :func:`refusal_line` names
the settings to check instead. The bridge prints it once per attempt (with backoff); the
worker, which Celery stops on such an error, logs it instead of Celery's traceback
(:class:`RefusedLoginFilter`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from amqp.exceptions import AccessRefused, NotAllowed

#: The settings that decide what the archiver logs in to the broker with.
BROKER_SETTINGS = "ARCHIVER_BROKER_URL, ARCHIVER_BROKER_USER and ARCHIVER_BROKER_PASSWORD"


def is_refused(exc: BaseException | None) -> bool:
    """``True`` when the broker answered but refused the login or the virtual host."""
    return isinstance(exc, AccessRefused | NotAllowed)


def refusal_line(exc: BaseException, where: str) -> str:
    """One line saying the broker refused the login and which settings to check.

    ``where`` is the broker URL with its password masked.
    """
    reason = str(getattr(exc, "reply_text", "") or exc).split(". For details")[0]
    return f"the broker at {where} refused the login ({reason}): check {BROKER_SETTINGS}"


class RefusedLoginFilter(logging.Filter):
    """Turns Celery's "Unrecoverable error" record for a refused login into one line.

    Installed on the ``celery.worker`` logger: Celery logs that record with the
    whole traceback (about 60 lines) just before the worker exits.
    """

    def __init__(self, where: Callable[[], str]) -> None:
        super().__init__()
        self.where = where

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if is_refused(exc):
            assert exc is not None
            record.msg, record.args = f"worker stops: {refusal_line(exc, self.where())}", ()
            record.exc_info, record.exc_text = None, None
        return True
