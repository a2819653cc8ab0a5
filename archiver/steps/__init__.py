"""The work of each pipeline step, as plain functions of (client, storage, context).

Celery tasks in the top-level ``tasks`` package are thin wrappers around these functions,
so the same steps run in a worker, in ``archiver batch --in-process`` and in unit tests.
State between steps lives in SciCat: a dataset a job works on carries the job id in its
``archiveReturnMessage`` / ``retrieveReturnMessage`` (see :mod:`archiver.steps.marks`).
"""
