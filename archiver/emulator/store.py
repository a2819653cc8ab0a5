"""The emulator's in-memory state (datasets, blocks, attachments, jobs) and its defaults.

One re-entrant lock guards everything; every accessor returns deep copies so that callers
may serialise or change them without holding the lock.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from archiver.emulator import filters
from archiver.emulator.protocol import ApiError

PID_PREFIX = "PID.SAMPLE.PREFIX"


def now_iso() -> str:
    """The current UTC time as the backend writes it (milliseconds, ``Z``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


def acl_of(doc: Mapping[str, Any]) -> tuple[str, tuple[str, ...], bool, tuple[str, ...]]:
    """``(ownerGroup, accessGroups, isPublished, sharedWith)`` of a dataset, job or block."""
    return (
        doc.get("ownerGroup") or "",
        tuple(doc.get("accessGroups") or ()),
        bool(doc.get("isPublished")),
        tuple(doc.get("sharedWith") or ()),
    )


class Store:
    """Everything the emulated backend stores."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.started = now_iso()
        self.datasets: dict[str, dict[str, Any]] = {}
        self.origdatablocks: dict[str, dict[str, Any]] = {}
        self.datablocks: dict[str, dict[str, Any]] = {}
        self.attachments: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self._archive_ids: dict[str, str] = {}

    # -- lifecycle ------------------------------------------------------------------------
    def lifecycle_defaults(self) -> dict[str, Any]:
        """A new dataset's lifecycle (dates: server start and now, as the backend does)."""
        now = now_iso()
        return {
            "archivable": True,
            "retrievable": False,
            "publishable": False,
            "dateOfDiskPurging": self.started,
            "archiveRetentionTime": now,
            "dateOfPublishing": now,
            "publishedOn": self.started,
            "isOnCentralDisk": True,
            "archiveStatusMessage": "datasetCreated",
            "retrieveStatusMessage": "",
            "archiveReturnMessage": {},
            "retrieveReturnMessage": {},
            "retrieveIntegrityCheck": False,
        }

    # -- datasets -------------------------------------------------------------------------
    def insert_dataset(self, doc: dict[str, Any], user: str = "admin") -> dict[str, Any]:
        """Store a new dataset: pid, bookkeeping and lifecycle defaults filled in."""
        doc = copy.deepcopy(doc)
        with self.lock:
            pid = doc.get("pid") or f"{PID_PREFIX}/{new_id()}"
            if pid in self.datasets:
                raise ApiError(409, "Dataset with the same pid already exists")
            given = doc.get("datasetlifecycle") or {}
            doc["pid"] = pid
            doc["datasetlifecycle"] = {**self.lifecycle_defaults(), **given}
            folder = str(doc.get("sourceFolder", "")).rstrip("/")
            doc.setdefault("datasetName", "/".join(folder.split("/")[-2:]).lstrip("/") or pid)
            for key in ("size", "packedSize", "numberOfFiles", "numberOfFilesArchived"):
                doc.setdefault(key, 0)
            doc.setdefault("accessGroups", [])
            doc.setdefault("isPublished", False)
            now = now_iso()
            doc.update(createdBy=user, updatedBy=user, createdAt=now, updatedAt=now)
            self.datasets[pid] = doc
            return copy.deepcopy(doc)

    def _dataset(self, pid: str) -> dict[str, Any]:
        doc = self.datasets.get(pid)
        if doc is None:
            raise ApiError(404, f"Dataset {pid} not found")
        return doc

    def dataset(self, pid: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._dataset(pid))

    def dataset_or_none(self, pid: Any) -> dict[str, Any] | None:
        """A copy of the dataset, or ``None`` when there is none of that pid."""
        with self.lock:
            doc = self.datasets.get(pid) if isinstance(pid, str) else None
            return None if doc is None else copy.deepcopy(doc)

    def query(
        self,
        table: str,
        filt: Mapping[str, Any],
        translate: Callable[[str], str] = lambda k: k,
        pid: str | None = None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` (optionally of one dataset) matching a ``filter``, copied;
        ``keep`` drops rows the caller may not see before filtering and paging."""
        rows: Any = getattr(self, table)
        with self.lock:
            rows = rows.values() if pid is None else self._blocks_of(rows, pid)
            if keep is not None:
                rows = [r for r in rows if keep(r)]
            return copy.deepcopy(filters.apply(rows, filt, translate))

    def acl(self, pid: str) -> tuple[str, tuple[str, ...], bool, tuple[str, ...]]:
        """``(ownerGroup, accessGroups, isPublished, sharedWith)`` of a dataset; 404 if absent."""
        doc = self.datasets.get(pid)
        if doc is None:
            raise ApiError(404, f"dataset: {pid} not found")
        return acl_of(doc)

    def owner_group(self, pid: str) -> str | None:
        """The dataset's ownerGroup, or ``None`` when it does not exist."""
        with self.lock:
            doc = self.datasets.get(pid)
            return None if doc is None else doc.get("ownerGroup", "")

    def update_dataset(
        self, pid: str, changes: dict[str, Any], lifecycle: str, user: str = "admin"
    ) -> dict[str, Any]:
        """Apply ``changes``; a ``datasetlifecycle`` in them is merged or replaced.

        ``lifecycle="replace"`` rebuilds the sub-document from defaults + the given keys
        (backend-next's ``PATCH /datasets/{pid}``); ``"merge"`` keeps omitted keys (LoopBack).
        """
        changes = copy.deepcopy(changes)
        with self.lock:
            doc = self._dataset(pid)
            given = changes.pop("datasetlifecycle", None)
            if isinstance(given, dict):
                base = (
                    self.lifecycle_defaults() if lifecycle == "replace" else doc["datasetlifecycle"]
                )
                doc["datasetlifecycle"] = {**base, **given}
            doc.update(changes)
            doc.update(updatedBy=user, updatedAt=now_iso())
            return copy.deepcopy(doc)

    def merge_lifecycle(
        self, pid: str, changes: dict[str, Any], user: str = "admin"
    ) -> dict[str, Any]:
        """Merge ``changes`` into the lifecycle; returns the whole lifecycle."""
        with self.lock:
            doc = self._dataset(pid)
            doc["datasetlifecycle"].update(copy.deepcopy(changes))
            doc.update(updatedBy=user, updatedAt=now_iso())
            return copy.deepcopy(doc["datasetlifecycle"])

    def delete_dataset(self, pid: str) -> dict[str, Any]:
        with self.lock:
            doc = self._dataset(pid)
            for block in self._blocks_of(self.datablocks, pid):
                self._archive_ids.pop(block["archiveId"], None)
                del self.datablocks[block["_id"]]
            for table in (self.origdatablocks, self.attachments):
                for block in self._blocks_of(table, pid):
                    del table[block["_id"]]
            del self.datasets[pid]
            return copy.deepcopy(doc)

    # -- blocks ---------------------------------------------------------------------------
    @staticmethod
    def _blocks_of(table: dict[str, dict[str, Any]], pid: str) -> list[dict[str, Any]]:
        return [b for b in table.values() if b.get("datasetId") == pid]

    def _new_block(self, pid: str, body: dict[str, Any], user: str) -> dict[str, Any]:
        dataset = self._dataset(pid)
        now = now_iso()
        block_id = new_id()
        doc = {
            "_id": block_id,
            "id": block_id,
            "ownerGroup": dataset.get("ownerGroup", ""),
            "accessGroups": list(dataset.get("accessGroups", [])),
            "isPublished": False,
            **copy.deepcopy(body),
            "datasetId": pid,
            "createdBy": user,
            "updatedBy": user,
            "createdAt": now,
            "updatedAt": now,
        }
        if dataset.get("instrumentGroup") and "instrumentGroup" not in doc:
            doc["instrumentGroup"] = dataset["instrumentGroup"]
        return doc

    def add_origdatablock(
        self, pid: str, body: dict[str, Any], user: str = "admin"
    ) -> dict[str, Any]:
        """Store an OrigDatablock; the dataset's size and numberOfFiles grow."""
        with self.lock:
            doc = self._new_block(pid, body, user)
            self.origdatablocks[doc["_id"]] = doc
            dataset = self.datasets[pid]
            dataset["size"] = dataset.get("size", 0) + doc.get("size", 0)
            dataset["numberOfFiles"] = dataset.get("numberOfFiles", 0) + len(doc["dataFileList"])
            return copy.deepcopy(doc)

    def add_datablock(self, pid: str, body: dict[str, Any], user: str = "admin") -> dict[str, Any]:
        """Store a DataBlock; 409 on a duplicate archiveId (callers remap the status)."""
        with self.lock:
            if body.get("archiveId") in self._archive_ids:
                raise ApiError(409, "A datablock with this this unique key already exists!")
            doc = self._new_block(pid, body, user)
            self.datablocks[doc["_id"]] = doc
            self._archive_ids[doc["archiveId"]] = doc["_id"]
            self._count_archived(pid, doc, +1)
            return copy.deepcopy(doc)

    def _count_archived(self, pid: str, block: dict[str, Any], sign: int) -> None:
        dataset = self.datasets.get(pid)
        if dataset is not None:
            dataset["packedSize"] = dataset.get("packedSize", 0) + sign * block.get("packedSize", 0)
            files = len(block.get("dataFileList", []))
            dataset["numberOfFilesArchived"] = (
                dataset.get("numberOfFilesArchived", 0) + sign * files
            )

    def delete_datablock(self, block_id: str, pid: str | None = None) -> dict[str, Any]:
        with self.lock:
            doc = self.datablocks.get(block_id)
            if doc is None or (pid is not None and doc["datasetId"] != pid):
                raise ApiError(404, f"Datablock {block_id} not found")
            del self.datablocks[block_id]
            self._archive_ids.pop(doc["archiveId"], None)
            self._count_archived(doc["datasetId"], doc, -1)
            return copy.deepcopy(doc)

    def list_blocks(self, kind: str, pid: str | None = None) -> list[dict[str, Any]]:
        """``kind`` is ``"datablocks"``, ``"origdatablocks"`` or ``"attachments"``."""
        table = getattr(self, kind)
        with self.lock:
            rows = table.values() if pid is None else self._blocks_of(table, pid)
            return copy.deepcopy(list(rows))

    def add_attachment(self, pid: str, body: dict[str, Any], user: str = "admin") -> dict[str, Any]:
        with self.lock:
            doc = self._new_block(pid, body, user)
            doc["aid"] = doc.pop("id")
            doc.setdefault("thumbnail", "")
            self.attachments[doc["_id"]] = doc
            return copy.deepcopy(doc)

    def dataset_files(self, pid: str) -> set[str]:
        """Every file path listed in the dataset's OrigDatablocks."""
        with self.lock:
            blocks = self._blocks_of(self.origdatablocks, pid)
            return {f.get("path") for b in blocks for f in b.get("dataFileList", [])}

    # -- jobs -----------------------------------------------------------------------------
    def put_job(self, doc: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.jobs[doc["id"]] = copy.deepcopy(doc)
            return copy.deepcopy(doc)

    def job(self, job_id: str) -> dict[str, Any] | None:
        with self.lock:
            doc = self.jobs.get(job_id)
            return None if doc is None else copy.deepcopy(doc)

    def delete_job(self, job_id: str) -> dict[str, Any] | None:
        """Remove a job; returns it, or ``None`` when it does not exist."""
        with self.lock:
            return self.jobs.pop(job_id, None)

    def update_job(
        self, job_id: str, mutate: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any] | None:
        """Change a stored job in place under the lock; ``None`` when it does not exist."""
        with self.lock:
            doc = self.jobs.get(job_id)
            if doc is None:
                return None
            mutate(doc)
            return copy.deepcopy(doc)

    def missing_pids(self, pids: Iterable[str]) -> list[str]:
        """The pids among ``pids`` that are missing."""
        with self.lock:
            return [p for p in pids if p not in self.datasets]

    def job_summaries(self) -> list[dict[str, Any]]:
        """Each job's id, type, statusCode, createdAt and updatedAt (cheap to poll)."""
        keys = ("id", "type", "statusCode", "createdAt", "updatedAt")
        with self.lock:
            return [{k: doc.get(k) for k in keys} for doc in self.jobs.values()]

    def snapshot(self) -> dict[str, Any]:
        """All state as plain JSON-able data (for ``GET /emulator/state``)."""
        with self.lock:
            return copy.deepcopy(
                {
                    "jobs": list(self.jobs.values()),
                    "datasets": list(self.datasets.values()),
                    "datablocks": list(self.datablocks.values()),
                    "origdatablocks": list(self.origdatablocks.values()),
                    "attachments": list(self.attachments.values()),
                }
            )
