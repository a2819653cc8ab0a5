"""The pipeline's Celery tasks: one small task per step of an archive or retrieve job.

Importing this package registers every task with ``archiver.app``.
"""

from tasks import archive, job, reset, retrieve

__all__ = ["archive", "job", "reset", "retrieve"]
