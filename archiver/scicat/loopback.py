"""Adapter for the LoopBack 3.x SciCat backend (generation A, ``SciCatProject/backend-v3``).

Token from ``POST /api/v3/Users/login`` (``id``, ``ttl``), sent as ``access_token`` query
parameter. Jobs are v3 (``jobStatusMessage``), updated with a partial ``PUT``; a partial
``datasetlifecycle`` sent with ``PUT /Datasets/{pid}`` is merged by the server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from archiver.scicat.adapter import TransportClient
from archiver.scicat.base import DatasetRef, Job
from archiver.scicat.convert import job_from_v3, oldest_first, v3_job_body
from archiver.scicat.http import HttpTransport, segment

API = "/api/v3"


def make_transport(
    root: str, timeout: float, *, username: str | None = None, password: str | None = None,
    token: str | None = None,
) -> HttpTransport:  # fmt: skip
    """The transport LoopBack needs: ``Users/login``, token in ``id``, sent in the query."""
    return HttpTransport(
        root, timeout, login_path=f"{API}/Users/login", token_field="id", token_in_query=True,
        username=username, password=password, token=token,
    )  # fmt: skip


class LoopBackClient(TransportClient):
    """SciCat 3.x (LoopBack)."""

    generation = "loopback"

    # -- jobs ----------------------------------------------------------------------------
    def get_job(self, job_id: str) -> Job:
        path = f"{API}/Jobs/{segment(job_id)}"
        return job_from_v3(self.http.call("GET", path, "get job", expect=dict))

    def update_job(
        self, job_id: str, status: str, message: str, result: Mapping[str, Any] | None = None
    ) -> None:
        body: dict[str, Any] = {"jobStatusMessage": status}
        if result is not None:
            body["jobResultObject"] = dict(result)
        path = f"{API}/Jobs/{segment(job_id)}"
        self._write_job("PUT", path, body, job_id, status, result)

    def list_jobs(
        self, status: str, types: Sequence[str] = (), limit: int = 100, skip: int = 0
    ) -> list[Job]:
        where: dict[str, Any] = {"jobStatusMessage": status}
        if types:
            where["type"] = {"inq": list(types)}
        query = {"where": where, "order": "creationTime ASC", "limit": limit, "skip": skip}
        docs = self.http.call(
            "GET", f"{API}/Jobs", "list jobs", params={"filter": json.dumps(query)}
        )
        docs = docs if isinstance(docs, list) else []
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

    def job_datasets(self, job_id: str) -> list[dict[str, Any]]:
        """The job's datasets with their DataBlocks (``GET /Jobs/datasetDetails``)."""
        params = {"jobId": job_id, "include": json.dumps({"relation": "datablocks"})}
        docs = self.http.call(
            "GET", f"{API}/Jobs/datasetDetails", "get job datasets", params=params
        )
        return docs if isinstance(docs, list) else []

    # -- datasets ------------------------------------------------------------------------
    def get_dataset(self, pid: str) -> dict[str, Any]:
        return cast(
            "dict[str, Any]", self.http.call("GET", f"{API}/Datasets/{segment(pid)}", "get dataset")
        )

    def find_datasets(self, where: Mapping[str, Any], limit: int = 100) -> list[dict[str, Any]]:
        query = json.dumps({"where": dict(where), "limit": limit})
        docs = self.http.call("GET", f"{API}/Datasets", "find datasets", params={"filter": query})
        return docs if isinstance(docs, list) else []

    def _dataset_page(self, pids: list[str], relations: list[str]) -> list[Any]:
        query: dict[str, Any] = {"where": {"pid": {"inq": pids}}, "limit": len(pids), "skip": 0}
        if relations:
            query["include"] = list(relations)
        params = {"filter": json.dumps(query)}
        docs = self.http.call("GET", f"{API}/Datasets", "read datasets", params=params)
        return docs if isinstance(docs, list) else []

    def create_dataset(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            self.http.call("POST", f"{API}/Datasets", "create dataset", json_body=dict(body)),
        )

    def delete_dataset(self, pid: str) -> None:
        self.http.call("DELETE", f"{API}/Datasets/{segment(pid)}", "delete dataset")

    def update_lifecycle(
        self, pid: str, changes: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        path = f"{API}/Datasets/{segment(pid)}"
        if not changes:
            return dict(self.get_dataset(pid).get("datasetlifecycle") or {})
        body = {"datasetlifecycle": dict(changes)}
        answer = self.http.call("PUT", path, "update lifecycle", json_body=body)
        lifecycle = answer.get("datasetlifecycle") if isinstance(answer, dict) else None
        if not isinstance(lifecycle, dict):
            lifecycle = self.get_dataset(pid).get("datasetlifecycle") or {}
        return dict(lifecycle)

    # -- OrigDatablocks ------------------------------------------------------------------
    def list_origdatablocks(self, pid: str) -> list[dict[str, Any]]:
        path = f"{API}/Datasets/{segment(pid)}/origdatablocks"
        docs = self.http.call("GET", path, "list origdatablocks")
        return docs if isinstance(docs, list) else []

    def create_attachment(self, pid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        path = f"{API}/Datasets/{segment(pid)}/attachments"
        return cast(
            "dict[str, Any]",
            self.http.call("POST", path, "create attachment", json_body=dict(body)),
        )

    def create_origdatablock(self, pid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        path = f"{API}/Datasets/{segment(pid)}/origdatablocks"
        return cast(
            "dict[str, Any]",
            self.http.call("POST", path, "create origdatablock", json_body=dict(body)),
        )

    # -- DataBlocks ----------------------------------------------------------------------
    def list_datablocks(self, pid: str) -> list[dict[str, Any]]:
        docs = self.http.call("GET", f"{API}/Datasets/{segment(pid)}/datablocks", "list datablocks")
        return docs if isinstance(docs, list) else []

    def create_datablock(
        self, pid: str, body: Mapping[str, Any], dataset: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        payload = {**dict(body), "datasetId": pid}
        if "ownerGroup" not in payload:  # Ownable in LoopBack: copy the dataset's groups
            if dataset is None or "ownerGroup" not in dataset:
                dataset = self.get_dataset(pid)
            for key in ("ownerGroup", "accessGroups"):
                if key in dataset:
                    payload[key] = dataset[key]
        return cast(
            "dict[str, Any]",
            self.http.call("POST", f"{API}/Datablocks", "create datablock", json_body=payload),
        )

    def delete_datablock(self, pid: str, datablock_id: str) -> None:
        self.http.call("DELETE", f"{API}/Datablocks/{segment(datablock_id)}", "delete datablock")
