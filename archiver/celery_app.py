"""The Celery application object, configured from ``celeryconfig``.

``celery -A archiver worker`` finds it as ``archiver.app``. The pipeline's tasks live in
the top-level ``tasks`` package and are registered when the worker imports it. The worker
also accepts ``--with-bridge`` to consume SciCat's job queue itself. Started as
``celery -A archiver flower``, Flower keeps every path behind its authentication
(:mod:`archiver.flower_auth`).
"""

from __future__ import annotations

from celery import Celery

from archiver.flower_auth import protect_every_path, running_flower
from archiver.intake.worker_step import install

app = Celery("archiver", include=["tasks"])
app.config_from_object("celeryconfig")
install(app)
if running_flower():
    protect_every_path()
