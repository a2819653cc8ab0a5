"""The Celery application object, configured from ``celeryconfig``.

``celery -A archiver worker`` finds it as ``archiver.app``. The pipeline's tasks live in
the top-level ``tasks`` package and are registered when the worker imports it. The worker
also accepts ``--with-bridge`` to consume SciCat's job queue itself.
"""

from __future__ import annotations

from celery import Celery

from archiver.intake.worker_step import install

app = Celery("archiver", include=["tasks"])
app.config_from_object("celeryconfig")
install(app)
