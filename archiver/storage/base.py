"""The storage interface the pipeline's archive and retrieve steps call.

A backend turns a dataset (its SciCat document and OrigDatablocks) into DataBlock bodies
when archiving, and restores a dataset from its DataBlocks when retrieving. DataBlock bodies
are produced one at a time so a dataset with 100 000 files is handled in bounded memory.
Bodies must be accepted by every SciCat generation: integer sizes, ``version``, ``chkAlg``,
a non-empty ``dataFileList`` and only the DataFile keys SciCat knows.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

#: DataFile keys SciCat accepts inside ``dataFileList``; anything else makes it answer 400.
DATAFILE_KEYS = ("path", "size", "time", "chk", "uid", "gid", "perm", "type")


@dataclass(frozen=True)
class ArchivedBlock:
    """One DataBlock to register: ``body`` is ready to POST (no ``datasetId``)."""

    index: int
    body: Mapping[str, Any]

    @property
    def archive_id(self) -> str:
        return str(self.body["archiveId"])


@dataclass(frozen=True)
class RetrievedBlock:
    """What one DataBlock became on retrieval."""

    archive_id: str
    size: int
    location: str
    verified: bool
    #: Symlinks of the tar not created (or removed) because they lead out of the dataset.
    skipped: tuple[str, ...] = ()


@dataclass
class Discarded:
    """Unverified temporary files of a retrieval removed, and those that could not be."""

    removed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)

    def __iadd__(self, other: Discarded) -> Discarded:
        self.removed += other.removed
        self.left += other.left
        return self


class Storage(abc.ABC):
    """A place datasets are archived to and retrieved from."""

    #: Name used in ``ARCHIVER_STORAGE``.
    name: str = ""

    @abc.abstractmethod
    def archive(
        self, dataset: Mapping[str, Any], origdatablocks: Iterable[Mapping[str, Any]]
    ) -> Iterator[ArchivedBlock]:
        """Archive the dataset; yield its DataBlocks in a deterministic order.

        Running it twice for the same dataset must yield the same ``archiveId`` values.
        """

    @abc.abstractmethod
    def retrieve(
        self,
        dataset: Mapping[str, Any],
        datablocks: Iterable[Mapping[str, Any]],
        destination: str | None,
    ) -> list[RetrievedBlock]:
        """Bring the dataset back from its DataBlocks to ``destination`` (backend default
        when ``None``)."""

    def discard_parts(self, pid: str, job_id: str, destination: str | None) -> Discarded:
        """Remove the unverified temporary files an interrupted retrieval of ``pid`` by
        ``job_id`` left in its target; called when the dataset failed for good. Reports what
        it removed and could not remove, never raises for a file. Nothing by default."""
        return Discarded()

    def forget_job(self, job_id: str) -> None:  # noqa: B027 - optional hook, no-op by default
        """Drop any working state kept for ``job_id``; called once the job is finished."""


def clean_datafile(entry: Mapping[str, Any], default_time: str) -> dict[str, Any]:
    """A DataFile with only the keys SciCat accepts, ``size`` as an integer."""
    cleaned = {key: entry[key] for key in DATAFILE_KEYS if entry.get(key) not in (None, "")}
    cleaned["path"] = str(entry.get("path", ""))
    cleaned["size"] = int(entry.get("size") or 0)
    cleaned["time"] = str(entry.get("time") or default_time)
    for key in ("uid", "gid", "perm", "chk", "type"):
        if key in cleaned:
            cleaned[key] = str(cleaned[key])
    return cleaned
