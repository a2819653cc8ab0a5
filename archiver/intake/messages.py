"""Parsing job messages from the SciCat queue, and deciding whether they are new work.

Pure functions, no I/O. A body arrives as bytes with no content type; it is either the v3
(LoopBack) job document or the v4 one (backend-next >= 4.14). :func:`parse_job_message`
turns it into a :class:`JobMessage` or raises :class:`~archiver.errors.MessageError` with
a short reason (the bridge quarantines such messages). :func:`decide` says whether a parsed
message should start a chain: only jobs of a handled type in the submitted state do;
echoes of our own updates and other job types are left alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from archiver.errors import MessageError
from archiver.ids import MAX_ID_LENGTH, check_job_id, check_pid, escape
from archiver.scicat.base import SUBMITTED, DatasetRef, Job

#: Job types the pipeline runs.
HANDLED_TYPES = frozenset({"archive", "retrieve", "reset"})
#: Largest body accepted; SciCat job documents are a few kilobytes.
MAX_BODY_BYTES = 1024 * 1024
__all__ = ["MAX_ID_LENGTH", "Decision", "JobMessage", "decide", "parse_job_message"]


@dataclass(frozen=True)
class JobMessage:
    """A job as read from the queue. ``shape`` is ``"v3"`` or ``"v4"``."""

    job: Job
    shape: str


@dataclass(frozen=True)
class Decision:
    """Whether to start a chain for a message, and why (for the log line)."""

    start: bool
    reason: str


def parse_job_message(body: bytes | str) -> JobMessage:
    """Parse a raw body into a :class:`JobMessage`; raise :class:`MessageError` if unusable."""
    document = _load_object(body)
    job_id = check_job_id(document.get("id", document.get("_id")))
    job_type = document.get("type")
    if not isinstance(job_type, str) or not job_type:
        raise MessageError(f"job {escape(job_id)}: no job type")
    shape = _shape(document)
    if shape == "v4":
        return JobMessage(_v4_job(job_id, job_type, document), "v4")
    return JobMessage(_v3_job(job_id, job_type, document), "v3")


def decide(message: JobMessage) -> Decision:
    """Start a chain only for a handled job type in the submitted state."""
    job = message.job
    if job.type not in HANDLED_TYPES:
        return Decision(False, f"job type {job.type!r} is not handled here; left alone")
    if job.status != SUBMITTED:
        return Decision(False, f"status is {job.status!r}, not {SUBMITTED!r} (an update echo)")
    if not job.datasets:
        return Decision(True, "new job without datasets (will be reported as failed)")
    return Decision(True, "new job")


def _load_object(body: bytes | str) -> dict[str, Any]:
    if isinstance(body, bytes | bytearray | memoryview):
        raw = bytes(body)
        if len(raw) > MAX_BODY_BYTES:
            raise MessageError(f"the body has {len(raw)} bytes, more than {MAX_BODY_BYTES}")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MessageError(f"the body is not UTF-8 (byte {exc.start})") from None
    elif isinstance(body, str):
        text = body
        if len(text) > MAX_BODY_BYTES:
            raise MessageError(f"the body has {len(text)} characters, more than {MAX_BODY_BYTES}")
    else:
        raise MessageError(f"the body is a {type(body).__name__}, not bytes")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MessageError(f"the body is not JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise MessageError("the body is JSON nested too deeply") from None
    if not isinstance(document, dict):
        raise MessageError(f"the body is a JSON {type(document).__name__}, not an object")
    return document


def _shape(document: dict[str, Any]) -> str:
    params = document.get("jobParams")
    if "statusCode" in document:
        return "v4"
    # backend-next's job_v3 template helper (a url action's v3 body) keeps jobParams whole,
    # datasetList included, next to the v3 jobStatusMessage and datasetList.
    if "jobStatusMessage" in document:
        return "v3"
    if isinstance(params, dict) and "datasetList" in params:
        return "v4"
    if "datasetList" in document:
        return "v3"
    raise MessageError(
        "unknown job shape: neither v4 (statusCode, jobParams.datasetList) "
        "nor v3 (jobStatusMessage, datasetList)"
    )


def _v4_job(job_id: str, job_type: str, document: dict[str, Any]) -> Job:
    params = document.get("jobParams")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise MessageError(f"job {escape(job_id)}: jobParams is not an object")
    status = _text(document.get("statusCode", SUBMITTED), job_id, "statusCode")
    message = _text(document.get("statusMessage", ""), job_id, "statusMessage")
    datasets = _datasets(params.get("datasetList", []), job_id)
    return Job(
        job_id, job_type, status, message, datasets, params, _object(document, "jobResultObject")
    )


def _v3_job(job_id: str, job_type: str, document: dict[str, Any]) -> Job:
    params = document.get("jobParams")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise MessageError(f"job {escape(job_id)}: jobParams is not an object")
    status = _text(document.get("jobStatusMessage") or SUBMITTED, job_id, "jobStatusMessage")
    datasets = _datasets(document.get("datasetList", []), job_id)
    return Job(
        job_id, job_type, status, status, datasets, params, _object(document, "jobResultObject")
    )


def _text(value: Any, job_id: str, key: str) -> str:
    if not isinstance(value, str):
        raise MessageError(f"job {escape(job_id)}: {key} is not a string")
    return value


def _object(document: dict[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def _datasets(value: Any, job_id: str) -> tuple[DatasetRef, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MessageError(f"job {escape(job_id)}: datasetList is not a list")
    refs: list[DatasetRef] = []
    seen: set[str] = set()
    for index, entry in enumerate(value):
        pid = entry.get("pid") if isinstance(entry, dict) else None
        if not isinstance(pid, str):
            raise MessageError(f"job {escape(job_id)}: datasetList[{index}] has no usable pid")
        check_pid(pid, f"job {escape(job_id)}: datasetList[{index}]")
        if pid in seen:
            continue
        seen.add(pid)
        refs.append(DatasetRef(pid, tuple(_files(entry.get("files"), job_id, index))))
    return tuple(refs)


def _files(value: Any, job_id: str, index: int) -> list[str]:
    """File lists are strings; old tools nested the list one level deeper: flatten it."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MessageError(f"job {escape(job_id)}: datasetList[{index}].files is not a list")
    files: list[str] = []
    for item in value:
        if isinstance(item, str):
            files.append(item)
        elif isinstance(item, list) and all(isinstance(x, str) for x in item):
            files.extend(item)
        else:
            raise MessageError(
                f"job {escape(job_id)}: datasetList[{index}].files holds a non-string"
            )
    return files
