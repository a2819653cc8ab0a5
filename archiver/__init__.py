"""scicat-archiver: the archival system beside a SciCat data catalogue.

A job travels intake (``archiver.intake``) → plan (``archiver.plan``) → tasks (``tasks``)
→ SciCat client (``archiver.scicat``) → storage (``archiver.storage``).

``archiver.app`` is the Celery application, so ``celery -A archiver worker`` works.
"""

from archiver.celery_app import app

__version__ = "0.1.0"
__all__ = ["app", "__version__"]
