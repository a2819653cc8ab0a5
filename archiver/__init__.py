"""scicat-archiver: the archival system beside a SciCat data catalogue.

A job travels intake (``archiver.intake``) → plan (``archiver.plan``) → tasks (``tasks``)
→ steps (``archiver.steps``) → SciCat client (``archiver.scicat``) → storage
(``archiver.storage``).

``archiver.app`` is the Celery application, so ``celery -A archiver worker`` works. It is
built on first use: importing a pure module (``archiver.intake.messages``, the settings)
loads neither Celery nor the HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery

    app: Celery

__version__ = "0.1.0"
__all__ = ["app", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from archiver.celery_app import app

        return app
    raise AttributeError(f"module 'archiver' has no attribute {name!r}")
