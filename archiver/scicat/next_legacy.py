"""Adapter for backend-next 4.0-4.13 (generation B: hard-coded v3 jobs, no RabbitMQ).

JWT from ``POST /api/v3/auth/login`` (``access_token``), sent as ``Authorization: Bearer``.
Jobs through ``/api/v3/Jobs`` (PATCH ``jobStatusMessage``). ``PATCH /datasets/{pid}`` with a
partial ``datasetlifecycle`` resets omitted fields on these servers, so lifecycle updates are
read-modify-write of the whole sub-document. The ``next`` adapter builds on this class.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, cast

from archiver.errors import (
    AuthError,
    JobApiRefused,
    NotFoundError,
    PermanentSciCatError,
    TransientSciCatError,
)
from archiver.scicat.adapter import TransportClient
from archiver.scicat.base import DatasetRef, Job
from archiver.scicat.convert import job_from_v3, oldest_first, v3_job_body
from archiver.scicat.http import HttpTransport, segment

log = logging.getLogger(__name__)

API = "/api/v3"
#: Lifecycle keys the server manages itself and that must not be written back.
_READ_ONLY = ("_id", "id")
#: Dataset counters that backend-next 4.x resets to 0 (its DTO defaults) on any
#: ``PATCH /datasets/{pid}`` that does not carry them; they are sent back unchanged.
COUNTERS = ("size", "packedSize", "numberOfFiles", "numberOfFilesArchived")


def make_transport(
    root: str, timeout: float, *, username: str | None = None, password: str | None = None,
    token: str | None = None,
) -> HttpTransport:  # fmt: skip
    """The transport of backend-next: ``auth/login``, ``access_token``, Bearer header."""
    return HttpTransport(
        root, timeout, login_path=f"{API}/auth/login", token_field="access_token",
        username=username, password=password, token=token,
    )  # fmt: skip


def refused_job_api(exc: AuthError, method: str, path: str) -> JobApiRefused:
    """The one-line explanation of a 403 from the v3 job API of backend-next 4.x."""
    return JobApiRefused(
        exc.operation,
        f"{method} {path} answered 403 ({exc.message}): backend-next 4.4.0 to 4.13.x refuse "
        "their own job API to every account, admin included; upgrade SciCat to 4.14 or newer",
        exc.status,
        exc.body,
    )


def kept_counters(dataset: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset's counters as they are, to send along with a ``PATCH /datasets/{pid}``."""
    return {
        k: dataset[k]
        for k in COUNTERS
        if isinstance(dataset.get(k), int | float) and not isinstance(dataset.get(k), bool)
    }


def _listing(answer: Any) -> list[dict[str, Any]]:
    return answer if isinstance(answer, list) else []


class NextLegacyClient(TransportClient):
    """backend-next 4.0-4.13."""

    generation = "next-legacy"

    def _ds(self, pid: str, tail: str = "") -> str:
        return f"{API}/datasets/{segment(pid)}{tail}"

    # -- jobs ----------------------------------------------------------------------------
    def get_job(self, job_id: str) -> Job:
        return job_from_v3(self._job_doc(f"{API}/Jobs/{segment(job_id)}", job_id))

    def _jobs_call(self, method: str, path: str, operation: str, **kwargs: Any) -> Any:
        """A call to the v3 job API; a 403 becomes :class:`JobApiRefused` (see
        :func:`refused_job_api`)."""
        try:
            return self.http.call(method, path, operation, **kwargs)
        except AuthError as exc:
            if exc.status != 403:
                raise
            raise refused_job_api(exc, method, f"{API}/Jobs") from None

    def _job_doc(self, path: str, job_id: str) -> Any:
        """GET a job; backend-next answers an unknown id with 400 "Invalid job id.", not 404."""
        try:
            return self._jobs_call("GET", path, "get job", expect=dict)
        except JobApiRefused:
            raise
        except PermanentSciCatError as exc:
            if exc.status != 400 or "invalid job id" not in exc.message.lower():
                raise
        raise NotFoundError("get job", f"no job {job_id}", 404)

    def update_job(
        self, job_id: str, status: str, message: str, result: Mapping[str, Any] | None = None
    ) -> None:
        body: dict[str, Any] = {"jobStatusMessage": status}
        if result is not None:
            body["jobResultObject"] = dict(result)
        path = f"{API}/Jobs/{segment(job_id)}"
        try:
            self._write_job("PATCH", path, body, job_id, status, result)
        except JobApiRefused:
            raise
        except AuthError as exc:
            if exc.status != 403:
                raise
            raise refused_job_api(exc, "PATCH", f"{API}/Jobs") from None

    def list_jobs(
        self, status: str, types: Sequence[str] = (), limit: int = 100, skip: int = 0
    ) -> list[Job]:
        where: dict[str, Any] = {"jobStatusMessage": status}
        if types:
            where["type"] = {"$in": list(types)}
        limits = {"limit": limit, "skip": skip, "order": "creationTime:asc"}
        query = {"where": where, "limits": limits}
        docs = _listing(
            self._jobs_call("GET", f"{API}/Jobs", "list jobs", params={"filter": json.dumps(query)})
        )
        return oldest_first([job_from_v3(d) for d in docs], docs)

    def create_job(
        self,
        job_type: str,
        datasets: Sequence[DatasetRef],
        params: Mapping[str, Any] | None = None,
        contact_email: str | None = None,
    ) -> Job:
        body = v3_job_body(job_type, datasets, params, self.initiator_email(contact_email))
        return job_from_v3(self.http.call("POST", f"{API}/Jobs", "create job", json_body=body))

    # -- datasets ------------------------------------------------------------------------
    def get_dataset(self, pid: str) -> dict[str, Any]:
        return cast("dict[str, Any]", self.http.call("GET", self._ds(pid), "get dataset"))

    def find_datasets(self, where: Mapping[str, Any], limit: int = 100) -> list[dict[str, Any]]:
        query = json.dumps({"where": dict(where), "limits": {"limit": limit}})
        return _listing(
            self.http.call("GET", f"{API}/datasets", "find datasets", params={"filter": query})
        )

    def _dataset_page(self, pids: list[str], relations: list[str]) -> list[Any]:
        query: dict[str, Any] = {
            "where": {"pid": {"$in": pids}},
            "limits": {"limit": len(pids), "skip": 0},
        }
        if relations:
            query["include"] = [{"relation": r} for r in relations]
        params = {"filter": json.dumps(query)}
        return _listing(self.http.call("GET", f"{API}/datasets", "read datasets", params=params))

    def create_dataset(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            self.http.call("POST", f"{API}/datasets", "create dataset", json_body=dict(body)),
        )

    def delete_dataset(self, pid: str) -> None:
        self.http.call("DELETE", self._ds(pid), "delete dataset")

    def update_lifecycle(
        self, pid: str, changes: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._read_modify_write(pid, changes, current)

    def _read_modify_write(
        self, pid: str, changes: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send the whole lifecycle (this route replaces the sub-document) and the dataset's
        counters (which the route would otherwise reset to 0); ``current`` spares the read."""
        dataset = current if current is not None else self.get_dataset(pid)
        current = dataset.get("datasetlifecycle") or {}
        merged = {k: v for k, v in current.items() if k not in _READ_ONLY}
        merged.update(changes)
        if not changes:
            return merged
        body: dict[str, Any] = {"datasetlifecycle": merged}
        body.update(kept_counters(dataset))
        answer = self.http.call("PATCH", self._ds(pid), "update lifecycle", json_body=body)
        lifecycle = answer.get("datasetlifecycle") if isinstance(answer, dict) else None
        return dict(lifecycle) if isinstance(lifecycle, dict) else merged

    # -- OrigDatablocks ------------------------------------------------------------------
    def list_origdatablocks(self, pid: str) -> list[dict[str, Any]]:
        return _listing(
            self.http.call("GET", self._ds(pid, "/origdatablocks"), "list origdatablocks")
        )

    def create_attachment(self, pid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        path = self._ds(pid, "/attachments")
        return cast(
            "dict[str, Any]",
            self.http.call("POST", path, "create attachment", json_body=dict(body)),
        )

    def create_origdatablock(self, pid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        path = self._ds(pid, "/origdatablocks")
        return cast(
            "dict[str, Any]",
            self.http.call("POST", path, "create origdatablock", json_body=dict(body)),
        )

    # -- DataBlocks ----------------------------------------------------------------------
    def list_datablocks(self, pid: str) -> list[dict[str, Any]]:
        return _listing(self.http.call("GET", self._ds(pid, "/datablocks"), "list datablocks"))

    def create_datablock(
        self, pid: str, body: Mapping[str, Any], dataset: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Create a DataBlock; a duplicate ``archiveId`` becomes a permanent 409.

        The dataset sub-route answers a duplicate ``archiveId`` with a 500 (the duplicate-key
        error is not mapped there), which would otherwise look transient.
        """
        payload = {k: v for k, v in body.items() if k != "datasetId"}
        try:
            return cast(
                "dict[str, Any]",
                self.http.call(
                    "POST", self._ds(pid, "/datablocks"), "create datablock", json_body=payload
                ),
            )
        except TransientSciCatError as exc:
            if exc.status != 500 or not self._has_archive_id(pid, payload.get("archiveId")):
                raise
        raise PermanentSciCatError(
            "create datablock",
            f"dataset {pid} already has a DataBlock with archiveId {payload.get('archiveId')!r} "
            "(the server answered 500)",
            409,
        )

    def _has_archive_id(self, pid: str, archive_id: Any) -> bool:
        if not archive_id:
            return False
        try:
            blocks = self.list_datablocks(pid)
        except TransientSciCatError:
            return False
        return any(b.get("archiveId") == archive_id for b in blocks)

    def delete_datablock(self, pid: str, datablock_id: str) -> None:
        path = self._ds(pid, f"/datablocks/{segment(datablock_id)}")
        self.http.call("DELETE", path, "delete datablock")
