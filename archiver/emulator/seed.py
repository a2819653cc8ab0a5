"""Seeding state directly (Python API and admin API): sensible defaults for required fields."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from archiver.emulator import jobs as j
from archiver.emulator.store import Store, new_id, now_iso


def dataset(store: Store, fields: dict[str, Any]) -> str:
    """Store a dataset with defaults for every required field; returns its pid."""
    tag = new_id()[:8]
    doc = {
        "type": "raw",
        "owner": "Demo Owner",
        "ownerGroup": "ingestor",
        "contactEmail": "owner@example.org",
        "sourceFolder": f"/data/emulator/{tag}",
        "creationTime": now_iso(),
        "principalInvestigator": "Demo PI",
        "creationLocation": "/emulator/instrument",
        **copy.deepcopy(fields),
    }
    return str(store.insert_dataset(doc)["pid"])


def origdatablock(
    store: Store, pid: str, files: Sequence[dict[str, Any]] | None, fields: dict[str, Any]
) -> str:
    """Store an OrigDatablock; ``size`` defaults to the sum of the file sizes."""
    file_list = copy.deepcopy(list(files or [{"path": "file.dat", "size": 0, "time": now_iso()}]))
    body = {"size": sum(int(f.get("size", 0)) for f in file_list), "dataFileList": file_list}
    body.update(copy.deepcopy(fields))
    return str(store.add_origdatablock(pid, body)["_id"])


def job(
    store: Store,
    job_type: str,
    pids: Sequence[str],
    status: str = j.DEFAULT_STATUS,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store a v4 job for ``pids`` (all files) with the given status; returns it."""
    job_params = {
        **copy.deepcopy(params or {}),
        "datasetList": [{"pid": p, "files": []} for p in pids],
    }
    owner_group = (store.owner_group(pids[0]) if pids else None) or ""
    message = j.DEFAULT_MESSAGE if status == j.DEFAULT_STATUS else status
    doc = j.new_job(job_type, job_params, "admin", owner_group, "admin@your.site", status, message)
    return store.put_job(doc)
