"""Flower started on the archiver app keeps every path behind its authentication.

Flower 2.2 checks ``--basic-auth`` (or OAuth) on its pages and API but not on ``/metrics``
(Prometheus figures: worker names, task counts) and ``/healthcheck``. When the Celery
command line loads the archiver app for ``celery -A archiver flower``,
:func:`protect_every_path` puts those two handlers behind the same check as the rest:
without credentials they answer 401. Without any authentication configured nothing
changes. The broker API (queue lengths) needs no credentials in ``FLOWER_BROKER_API``:
given ``http://rabbitmq:15672/api/``, Flower logs in with the broker URL's user and password.
"""

from __future__ import annotations

import click


def running_flower() -> bool:
    """``True`` while the ``celery`` command line is starting its ``flower`` subcommand."""
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.invoked_subcommand == "flower"


def protect_every_path() -> None:
    """Require Flower's authentication on ``/metrics`` and ``/healthcheck`` too."""
    import tornado.web
    from flower.views import monitor

    for handler in (monitor.Metrics, monitor.Healthcheck):
        if not getattr(handler.get, "archiver_protected", False):
            handler.get = tornado.web.authenticated(handler.get)
            handler.get.archiver_protected = True
