"""Job documents: the stored v4 shape, its v3 views, and the checks made at creation."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from archiver.emulator.protocol import ApiError
from archiver.emulator.store import Store, new_id, now_iso

JOB_TYPES = ("archive", "retrieve", "public", "reset")
LEGACY_JOB_TYPES = ("archive", "retrieve", "public")
CONFIG_VERSION = "v1.0 scicat-archiver emulator"
DEFAULT_STATUS = "jobSubmitted"
DEFAULT_MESSAGE = "Job submitted."

#: v3 field names (filters, updates) -> where the v4 document keeps them.
V3_FIELDS = {
    "jobStatusMessage": "statusCode",
    "emailJobInitiator": "contactEmail",
    "creationTime": "createdAt",
    "datasetList": "jobParams.datasetList",
    "executionTime": "jobParams.executionTime",
}


def v3_field(name: str) -> str:
    """Translate a v3 filter field name to the stored v4 one."""
    if name in V3_FIELDS:
        return V3_FIELDS[name]
    for old, new in V3_FIELDS.items():
        if name.startswith(old + "."):
            return new + name[len(old) :]
    return name


def new_job(
    job_type: str,
    params: Mapping[str, Any] | None,
    user: str,
    owner_group: str = "",
    contact_email: str = "",
    status: str = DEFAULT_STATUS,
    message: str = DEFAULT_MESSAGE,
) -> dict[str, Any]:
    """A fresh v4 job document in the key order mongoose produces."""
    job_id = new_id()
    now = now_iso()
    return {
        "createdBy": user,
        "updatedBy": user,
        "ownerGroup": owner_group,
        "accessGroups": [],
        "isPublished": False,
        "_id": job_id,
        "id": job_id,
        "ownerUser": user,
        "type": job_type,
        "statusCode": status,
        "statusMessage": message,
        "jobParams": copy.deepcopy(dict(params or {})),
        "contactEmail": contact_email,
        "configVersion": CONFIG_VERSION,
        "jobResultObject": {},
        "createdAt": now,
        "updatedAt": now,
        "__v": 0,
    }


def to_v3(doc: Mapping[str, Any], native: bool = False) -> dict[str, Any]:
    """The v3 view of a stored job.

    ``native=False``: backend-next's v3 shim (``jobParams.username`` added). ``native=True``:
    a backend that stores v3 jobs itself (LoopBack, next-legacy), with bookkeeping fields.
    """
    params = {
        k: v for k, v in doc["jobParams"].items() if k not in ("datasetList", "executionTime")
    }
    if not native and doc.get("ownerUser"):
        params.setdefault("username", doc["ownerUser"])
    out: dict[str, Any] = {
        "id": doc["id"],
        "emailJobInitiator": doc.get("contactEmail", ""),
        "type": doc["type"],
        "creationTime": doc["createdAt"],
        "jobParams": params,
        "jobStatusMessage": doc["statusCode"],
        "datasetList": copy.deepcopy(doc["jobParams"].get("datasetList", [])),
        "jobResultObject": copy.deepcopy(doc.get("jobResultObject", {})),
    }
    if "executionTime" in doc["jobParams"]:
        out["executionTime"] = doc["jobParams"]["executionTime"]
    if native:
        out.update(createdBy=doc["createdBy"], createdAt=doc["createdAt"])
        out.update(updatedBy=doc["updatedBy"], updatedAt=doc["updatedAt"])
    return out


def check_dataset_list(store: Store, entries: Any, status: int = 422) -> list[dict[str, Any]]:
    """backend-next's generic datasetList checks: non-empty, exact entries, pids and files exist."""
    if not isinstance(entries, list) or not entries:
        raise ApiError(status, "List of passed datasets is empty.")
    for entry in entries:
        ok = isinstance(entry, dict) and set(entry) == {"pid", "files"}
        ok = ok and isinstance(entry["pid"], str) and isinstance(entry["files"], list)
        if not ok or not all(isinstance(f, str) for f in entry["files"]):
            raise ApiError(status, "Dataset list entries need exactly pid (string) and files.")
    missing = store.missing_pids(e["pid"] for e in entries)
    if missing:
        raise ApiError(status, f"Datasets with pid {missing} do not exist.")
    for entry in entries:
        if entry["files"]:
            absent = set(entry["files"]) - store.dataset_files(entry["pid"])
            if absent:
                raise ApiError(status, f"Files {sorted(absent)} not in dataset {entry['pid']}.")
    return entries


def check_and_mark_v3(store: Store, job_type: str, pids: list[str], missing_status: int) -> None:
    """LoopBack and backend-next < 4.14: pids must exist, lifecycle must allow the job (409),
    then the lifecycle is marked as scheduled."""
    missing = store.missing_pids(pids)
    if missing:
        raise ApiError(missing_status, f"Datasets with pid {missing} do not exist.")
    table: dict[str, tuple[str, dict[str, Any]]] = {
        "archive": (
            "archivable",
            {
                "archivable": False,
                "retrievable": False,
                "archiveStatusMessage": "scheduledForArchiving",
            },
        ),
        "retrieve": ("retrievable", {"retrieveStatusMessage": "scheduledForRetrieval"}),
    }
    if job_type not in table:
        return
    flag, changes = table[job_type]
    with store.lock:
        bad = [p for p in pids if not store.datasets[p]["datasetlifecycle"].get(flag)]
        if bad:
            raise ApiError(409, f"The following datasets are not in {flag} state: {bad}")
        for pid in pids:
            store.merge_lifecycle(pid, changes)


def v3_create_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """jobParams of the v4 document made from a v3 create body."""
    params = dict(body.get("jobParams") or {})
    params["datasetList"] = body.get("datasetList", [])
    if "executionTime" in body:
        params["executionTime"] = body["executionTime"]
    return params


def apply_v3_update(doc: dict[str, Any], body: Mapping[str, Any], user: str) -> None:
    """Apply a v3 job update to a stored v4 document (in place)."""
    if "jobStatusMessage" in body:
        doc["statusCode"] = doc["statusMessage"] = body["jobStatusMessage"]
    if "jobResultObject" in body:
        doc["jobResultObject"] = copy.deepcopy(body["jobResultObject"])
    if "executionTime" in body:
        doc["jobParams"]["executionTime"] = body["executionTime"]
    doc.update(updatedBy=user, updatedAt=now_iso())
