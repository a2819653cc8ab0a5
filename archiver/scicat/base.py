"""The one SciCat interface the rest of the archiver uses, and the job model it returns.

Three adapters implement :class:`SciCatClient` (``loopback``, ``next-legacy``, ``next``);
``archiver.scicat.connect`` picks one (or detects it) from the settings. Callers never see
which HTTP paths or field names a generation uses: jobs come back as :class:`Job`, lifecycle
updates are always *merges*, DataBlocks are always per dataset.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import NotFoundError

#: Relations a batched dataset read may carry along (:meth:`SciCatClient.datasets`).
RELATIONS = ("origdatablocks", "datablocks")
#: Most pids asked for in one batched dataset read (one page of the answer).
PAGE_PIDS = 100

#: Job status words (v4 ``statusCode`` / v3 ``jobStatusMessage``).
SUBMITTED = "jobSubmitted"
IN_PROGRESS = "inProgress"
FINISHED_OK = "finishedSuccessful"
FINISHED_DATASET_ERRORS = "finishedWithDatasetErrors"
FINISHED_FAILED = "finishedUnsuccessful"


@dataclass(frozen=True)
class DatasetRef:
    """One entry of a job's dataset list: a pid and the files asked for (empty = all)."""

    pid: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    """A SciCat job in a generation-neutral form.

    ``status`` is the v4 ``statusCode`` or the v3 ``jobStatusMessage``; ``message`` is the
    v4 ``statusMessage`` (equal to ``status`` on v3 backends). ``created`` and ``updated``
    are the document's ISO timestamps (``createdAt``/``creationTime``, ``updatedAt``; empty
    when the backend sends none).
    """

    id: str
    type: str
    status: str
    message: str = ""
    datasets: tuple[DatasetRef, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    result: Mapping[str, Any] = field(default_factory=dict)
    created: str = ""
    updated: str = ""

    @property
    def pids(self) -> list[str]:
        return [d.pid for d in self.datasets]

    @property
    def finished(self) -> bool:
        return self.status.startswith("finished")


class SciCatClient(abc.ABC):
    """Everything the archiver and its tools ask of SciCat.

    Every method may raise :class:`~archiver.errors.TransientSciCatError` (retry later) or
    :class:`~archiver.errors.PermanentSciCatError` (do not retry); a missing object raises
    :class:`~archiver.errors.NotFoundError`. Pids are URL-encoded by the client.
    """

    #: ``"loopback"``, ``"next-legacy"`` or ``"next"``.
    generation: str = ""

    # -- session -----------------------------------------------------------------------
    @abc.abstractmethod
    def login(self) -> None:
        """Log in (or renew the token) now."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the HTTP session."""

    # -- jobs ----------------------------------------------------------------------------
    @abc.abstractmethod
    def get_job(self, job_id: str) -> Job: ...

    @abc.abstractmethod
    def update_job(
        self, job_id: str, status: str, message: str, result: Mapping[str, Any] | None = None
    ) -> None:
        """Set the job status (and replace ``jobResultObject`` when ``result`` is given)."""

    @abc.abstractmethod
    def list_jobs(
        self, status: str, types: Sequence[str] = (), limit: int = 100, skip: int = 0
    ) -> list[Job]:
        """Jobs in ``status`` (optionally of the given types), oldest first; one page of
        ``limit`` jobs after the first ``skip`` (in the backend's creation order)."""

    @abc.abstractmethod
    def create_job(
        self,
        job_type: str,
        datasets: Sequence[DatasetRef],
        params: Mapping[str, Any] | None = None,
        contact_email: str | None = None,
    ) -> Job: ...

    # -- datasets ------------------------------------------------------------------------
    @abc.abstractmethod
    def get_dataset(self, pid: str) -> dict[str, Any]: ...

    def datasets(
        self, pids: Iterable[str], relations: Sequence[str] = ()
    ) -> dict[str, dict[str, Any]]:
        """The datasets of ``pids`` that exist, by pid, each with the lists named in
        ``relations`` (``"origdatablocks"``, ``"datablocks"``) under those keys.

        Adapters read them in pages of :data:`PAGE_PIDS` pids per request. A pid missing
        from a page is read on its own, so a dataset the account may not read still raises
        (403) instead of looking absent. This default reads one dataset at a time.
        """
        found: dict[str, dict[str, Any]] = {}
        for pid in dict.fromkeys(pids):
            try:
                found[pid] = self.get_dataset(pid)
            except NotFoundError:
                continue
            self._attach(found[pid], relations)
        return found

    def job_with_datasets(
        self, job_id: str, pids: Iterable[str], relations: Sequence[str] = ()
    ) -> tuple[Job, dict[str, dict[str, Any]]]:
        """The job and its datasets (as :meth:`datasets` gives them), read together.

        Backends that can join a job with its datasets answer in one request; this default
        reads the job, then the datasets."""
        job = self.get_job(job_id)
        return job, self.datasets(pids, relations)

    def _attach(self, dataset: dict[str, Any], relations: Sequence[str]) -> None:
        """Read the ``relations`` of one dataset into it (the one-by-one path)."""
        pid = str(dataset["pid"])
        if "origdatablocks" in relations:
            dataset["origdatablocks"] = self.list_origdatablocks(pid)
        if "datablocks" in relations:
            dataset["datablocks"] = self.list_datablocks(pid)

    @abc.abstractmethod
    def find_datasets(self, where: Mapping[str, Any], limit: int = 100) -> list[dict[str, Any]]:
        """Datasets matching a simple equality filter, e.g. ``{"sourceFolder": "/data/x"}``."""

    @abc.abstractmethod
    def create_dataset(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a dataset from a body in this generation's shape; returns it (with pid)."""

    @abc.abstractmethod
    def delete_dataset(self, pid: str) -> None: ...

    @abc.abstractmethod
    def update_lifecycle(
        self, pid: str, changes: Mapping[str, Any], current: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Merge ``changes`` into the dataset's lifecycle; omitted fields keep their value.

        ``current``: the dataset as the caller read it a moment ago in the same step; an
        adapter that must read the dataset to merge (read-modify-write) uses it instead.

        Returns the whole lifecycle after the update.
        """

    @abc.abstractmethod
    def create_attachment(self, pid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Attach a caption and a thumbnail (data URI) to dataset ``pid``."""

    # -- OrigDatablocks ------------------------------------------------------------------
    @abc.abstractmethod
    def list_origdatablocks(self, pid: str) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def create_origdatablock(self, pid: str, body: Mapping[str, Any]) -> dict[str, Any]: ...

    # -- DataBlocks ----------------------------------------------------------------------
    @abc.abstractmethod
    def list_datablocks(self, pid: str) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def create_datablock(
        self, pid: str, body: Mapping[str, Any], dataset: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Create one DataBlock of dataset ``pid``; ``body`` has no ``datasetId``.

        ``dataset`` (the dataset as read, when the caller has it) spares an adapter that
        copies the dataset's groups into the block (LoopBack) a read of its own."""

    @abc.abstractmethod
    def delete_datablock(self, pid: str, datablock_id: str) -> None: ...

    # -- context manager -----------------------------------------------------------------
    def __enter__(self) -> SciCatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
