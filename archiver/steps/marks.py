"""Lifecycle words and the job mark that says which job a dataset is being worked on by.

Steps are retried and redelivered, and their signatures are immutable, so no step receives
what an earlier one found. Instead every lifecycle update of a job writes the job id into
the dataset's ``archiveReturnMessage`` (archive) or ``retrieveReturnMessage`` (retrieve). A
later step, or a repeated one, reads the lifecycle back and knows whether the dataset is
this job's and how far it got.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping
from typing import Any

from archiver.ids import escape

# archiveStatusMessage words
DATASET_CREATED = "datasetCreated"
SCHEDULED_ARCHIVE = "scheduledForArchiving"
STARTED = "started"
ON_ARCHIVE_DISK = "datasetOnArchiveDisk"
MISSING_FILES = "missingFilesError"
ARCHIVE_FAILED = "scheduleArchiveJobFailed"
# retrieveStatusMessage words
SCHEDULED_RETRIEVE = "scheduledForRetrieval"
RETRIEVED = "datasetRetrieved"
RETRIEVE_FAILED = "datasetRetrievalFailed"

#: Error code of a dataset another job of ours is archiving or retrieving at the moment.
BUSY = "datasetBusy"

#: Key of the job id inside the return messages.
JOB_KEY = "jobId"


def lifecycle(dataset: Mapping[str, Any]) -> dict[str, Any]:
    value = dataset.get("datasetlifecycle")
    return dict(value) if isinstance(value, Mapping) else {}


def _marked_by(message: Any, job_id: str) -> bool:
    return isinstance(message, Mapping) and message.get(JOB_KEY) == job_id


def archive_state(dataset: Mapping[str, Any], job_id: str) -> str | None:
    """The dataset's ``archiveStatusMessage`` if this job marked it, else ``None``."""
    life = lifecycle(dataset)
    if _marked_by(life.get("archiveReturnMessage"), job_id):
        return str(life.get("archiveStatusMessage", ""))
    return None


def retrieve_state(dataset: Mapping[str, Any], job_id: str) -> str | None:
    """The dataset's ``retrieveStatusMessage`` if this job marked it, else ``None``."""
    life = lifecycle(dataset)
    if _marked_by(life.get("retrieveReturnMessage"), job_id):
        return str(life.get("retrieveStatusMessage", ""))
    return None


def busy_with(dataset: Mapping[str, Any], job_id: str, side: str = "archive") -> str | None:
    """The id of another job that has the dataset's ``side`` (``"archive"`` or
    ``"retrieve"``) ``started``, else ``None``: one job of ours per dataset at a time."""
    life = lifecycle(dataset)
    other = (life.get(f"{side}ReturnMessage") or {}).get(JOB_KEY)
    if life.get(f"{side}StatusMessage") == STARTED and other and other != job_id:
        return str(other)
    return None


def busy_message(verb: str, other: str) -> str:
    """The user error of a dataset another job is working on (``verb``: archived, ...)."""
    return (
        f"the dataset is being {verb} by job {other}; submit this job again once that job "
        "has finished"
    )


def may_archive(dataset: Mapping[str, Any]) -> bool:
    """Archivable, or already scheduled by a backend that marks datasets at job creation."""
    life = lifecycle(dataset)
    return life.get("archivable") is True or life.get("archiveStatusMessage") == SCHEDULED_ARCHIVE


def may_retrieve(dataset: Mapping[str, Any]) -> bool:
    return lifecycle(dataset).get("retrievable") is True


def mark(job_id: str, message: str, **details: Any) -> dict[str, Any]:
    """A return message carrying the job mark (and, as ``run``, the chain run that wrote it)."""
    return {JOB_KEY: job_id, "message": message, **details}


class JobLog(logging.LoggerAdapter[logging.Logger]):
    """Prefixes every line with the job id (and the dataset pid when given).

    The whole line is escaped (:func:`archiver.ids.escape`): ids and the texts logged with
    them (error messages quoting paths or SciCat's answers) cannot start a new log line.
    """

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        extra = self.extra or {}
        where = f"job {extra.get('job_id')}"
        if extra.get("pid"):
            where += f" dataset {extra['pid']}"
        return escape(f"[{where}] {msg}"), kwargs

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Format ``msg % args`` here, so the escaping covers the arguments too."""
        if self.isEnabledFor(level):
            try:
                text = str(msg) % args if args else str(msg)
            except (TypeError, ValueError):  # a wrong format must not fail the step
                text = f"{msg} {args!r}"
            super().log(level, text, **kwargs)

    def for_dataset(self, pid: str) -> JobLog:
        return JobLog(self.logger, {**(self.extra or {}), "pid": pid})


def job_log(name: str, job_id: str) -> JobLog:
    return JobLog(logging.getLogger(name), {"job_id": job_id})
