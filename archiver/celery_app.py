"""The Celery application object, configured from ``celeryconfig``.

``celery -A archiver worker`` finds it as ``archiver.app``. The pipeline's tasks live in
the top-level ``tasks`` package and are registered when the worker imports it. The worker
also accepts ``--with-bridge`` to consume SciCat's job queue itself and ``--with-serve``
to run the HTTP intake for SciCat's url action. Started as
``celery -A archiver flower``, Flower keeps every path behind its authentication
(:mod:`archiver.flower_auth`). The worker is named ``archiver-<pid>@<host>`` unless ``-n``
says otherwise (:mod:`archiver.worker_name`).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.utils.objects import cached_property

from archiver.flower_auth import protect_every_path, running_flower
from archiver.intake import serve_step
from archiver.intake.worker_step import install


class ArchiverCelery(Celery):
    """The Celery app whose worker program has a unique default node name."""

    @cached_property
    def Worker(self) -> Any:  # noqa: N802 - Celery's name
        return self.subclass_with_self("archiver.worker_name:ArchiverWorker")


app = ArchiverCelery("archiver", include=["tasks"])
app.config_from_object("celeryconfig")
install(app)
serve_step.install(app)
if running_flower():
    protect_every_path()
