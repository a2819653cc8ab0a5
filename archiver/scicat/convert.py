"""Pure conversions between SciCat's v3 / v4 job documents and :class:`Job`.

Reads are tolerant: a missing field becomes an empty value, ``files`` written by old tools as
nested lists are flattened, a dataset entry given as a bare pid string is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from archiver.scicat.base import DatasetRef, Job


def flatten_files(files: Any) -> tuple[str, ...]:
    """``["a", ["b", ["c"]]]`` -> ``("a", "b", "c")``; ``None`` or a non-list -> ``()``."""
    if isinstance(files, str):
        return (files,)
    if not isinstance(files, Iterable) or isinstance(files, Mapping):
        return ()
    out: list[str] = []
    for item in files:
        if isinstance(item, list | tuple):
            out.extend(flatten_files(item))
        elif isinstance(item, Mapping) and isinstance(item.get("path"), str):
            out.append(item["path"])
        elif isinstance(item, str):
            out.append(item)
    return tuple(out)


def dataset_refs(entries: Any) -> tuple[DatasetRef, ...]:
    """A ``datasetList`` as :class:`DatasetRef` tuples (entries without a pid are dropped)."""
    if not isinstance(entries, list | tuple):
        return ()
    refs: list[DatasetRef] = []
    for entry in entries:
        if isinstance(entry, str):
            refs.append(DatasetRef(entry))
        elif isinstance(entry, Mapping) and entry.get("pid"):
            refs.append(DatasetRef(str(entry["pid"]), flatten_files(entry.get("files"))))
    return tuple(refs)


def dataset_list(datasets: Sequence[DatasetRef]) -> list[dict[str, Any]]:
    """The wire form of a dataset list: ``[{"pid": ..., "files": [...]}]``."""
    return [{"pid": ref.pid, "files": list(ref.files)} for ref in datasets]


def _job_id(doc: Mapping[str, Any]) -> str:
    return str(doc.get("id") or doc.get("_id") or "")


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _times(doc: Mapping[str, Any]) -> dict[str, str]:
    """``created``/``updated`` of a job document (``updated`` falls back to ``created``)."""
    created = str(doc.get("createdAt") or doc.get("creationTime") or "")
    return {"created": created, "updated": str(doc.get("updatedAt") or created)}


def job_from_v3(doc: Mapping[str, Any]) -> Job:
    """A v3 job (LoopBack, backend-next ``/api/v3/jobs``)."""
    status = str(doc.get("jobStatusMessage") or "")
    params = _mapping(doc.get("jobParams"))
    entries = doc.get("datasetList") or params.get("datasetList")
    return Job(
        id=_job_id(doc),
        type=str(doc.get("type") or ""),
        status=status,
        message=str(doc.get("statusMessage") or status),
        datasets=dataset_refs(entries),
        params=params,
        result=_mapping(doc.get("jobResultObject")),
        **_times(doc),
    )


def job_from_v4(doc: Mapping[str, Any]) -> Job:
    """A v4 job (backend-next >= 4.14, ``/api/v4/jobs`` and the RabbitMQ message)."""
    params = _mapping(doc.get("jobParams"))
    status = str(doc.get("statusCode") or "")
    return Job(
        id=_job_id(doc),
        type=str(doc.get("type") or ""),
        status=status,
        message=str(doc.get("statusMessage") or status),
        datasets=dataset_refs(params.get("datasetList") or doc.get("datasetList")),
        params=params,
        result=_mapping(doc.get("jobResultObject")),
        **_times(doc),
    )


def job_from_any(doc: Mapping[str, Any]) -> Job:
    """Either shape: v4 when the document has ``statusCode``, v3 otherwise."""
    return job_from_v4(doc) if "statusCode" in doc else job_from_v3(doc)


def oldest_first(jobs: list[Job], docs: Sequence[Mapping[str, Any]]) -> list[Job]:
    """Sort jobs by the creation time of their documents (``createdAt``/``creationTime``)."""
    keys = [str(d.get("createdAt") or d.get("creationTime") or "") for d in docs]
    order = sorted(range(len(jobs)), key=lambda i: keys[i])
    return [jobs[i] for i in order]


def status_message(status: str, message: str) -> str:
    """v4 needs a non-empty ``statusMessage``: fall back to the status word."""
    return message.strip() or status


def v3_job_body(
    job_type: str, datasets: Sequence[DatasetRef], params: Mapping[str, Any] | None, email: str
) -> dict[str, Any]:
    """The body of ``POST /Jobs`` on v3 job APIs (LoopBack and backend-next 4.0-4.13)."""
    return {
        "type": job_type,
        "datasetList": dataset_list(datasets),
        "jobParams": dict(params or {}),
        "emailJobInitiator": email,
    }
