"""The pipeline's Celery tasks: one small task per step of an archive or retrieve job,
and the periodic fixity audit.

Importing this package registers every task with ``archiver.app``.
"""

from tasks import archive, audit, job, reset, retrieve

__all__ = ["archive", "audit", "job", "reset", "retrieve"]
