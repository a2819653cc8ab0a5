"""Ingest every dataset folder under a parent and archive each through SciCat.

Each subfolder with a ``transfer.yaml`` is ingested (see :mod:`archiver.ingest.ingest`), then
an archive job is created in SciCat for it, which the running pipeline picks up. With
``in_process`` the archive chain runs right here instead (:mod:`archiver.ingest.inprocess`).
A failure of one folder is recorded in its row and the batch goes on with the next.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archiver.errors import JobApiRefused
from archiver.ingest.ingest import INGESTED, SKIPPED, IngestOptions, ingest_folder
from archiver.ingest.inprocess import run_job
from archiver.ingest.transfer import TRANSFER_FILE
from archiver.scicat.base import FINISHED_OK, SUBMITTED, DatasetRef, SciCatClient
from archiver.storage.base import Storage

log = logging.getLogger("archiver.batch")

FAILED = "failed"


@dataclass
class BatchRow:
    """One folder's line in the final table."""

    folder: str
    status: str
    pid: str = ""
    job_id: str = ""
    job_status: str = ""
    reason: str = ""


@dataclass
class BatchReport:
    """All rows, plus counts per status."""

    rows: list[BatchRow] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def failed(self) -> bool:
        return self.count(FAILED) > 0

    def table(self) -> str:
        """The rows as an aligned text table with a summary line."""
        header = ("FOLDER", "STATUS", "PID", "JOB", "DETAIL")
        lines = [(r.folder, r.status, r.pid, r.job_id, r.reason or r.job_status) for r in self.rows]
        widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(4)]
        out = []
        for line in [header, *lines]:
            cells = [str(line[i]).ljust(widths[i]) for i in range(4)]
            out.append("  ".join([*cells, str(line[4])]).rstrip())
        out.append(
            f"{self.count(INGESTED)} ingested, {self.count(SKIPPED)} skipped, "
            f"{self.count(FAILED)} failed"
        )
        return "\n".join(out)


def dataset_folders(parent: str | Path) -> list[Path]:
    """Subfolders of ``parent`` with a ``transfer.yaml``, sorted by name."""
    root = Path(parent)
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / TRANSFER_FILE).is_file())


def run_batch(
    client: SciCatClient,
    folders: list[Path],
    options: IngestOptions,
    storage: Storage | None = None,
    contact_email: str | None = None,
) -> Iterator[BatchRow]:
    """Ingest and archive each folder, yielding its row as soon as it is done.

    ``storage`` given: run each archive chain in this process (``--in-process``); the job
    API is tried first, so a backend that refuses it (:class:`JobApiRefused`) stops the
    batch before any dataset is ingested or scheduled.
    """
    if storage is not None:
        client.list_jobs(SUBMITTED, limit=1)
    blind: set[str] = set()
    for folder in folders:
        yield _one(client, folder, options, storage, contact_email, blind)


def _one(
    client: SciCatClient,
    folder: Path,
    options: IngestOptions,
    storage: Storage | None,
    contact_email: str | None,
    blind: set[str],
) -> BatchRow:
    row = BatchRow(folder.name, FAILED)
    try:
        result = ingest_folder(client, folder, options, blind_groups=blind)
    except Exception as exc:  # noqa: BLE001 - one folder never stops the batch
        return _failed(row, folder, _reason(exc))
    row.pid = result.pid or ""
    if result.status == SKIPPED:
        row.status, row.reason = SKIPPED, result.reason
        return row
    try:
        job = client.create_job("archive", [DatasetRef(row.pid)], contact_email=contact_email)
        row.job_id, row.job_status = job.id, job.status
        if storage is not None:
            row.job_status = run_job(client, storage, job.id)
    except JobApiRefused:
        raise  # no later folder can do better: the batch stops with the cause
    except Exception as exc:  # noqa: BLE001
        reason = f"ingested, but the archive job failed: {_reason(exc)}"
        if not row.job_id:
            reason += f" (retry: archiver job create --type archive {row.pid})"
        return _failed(row, folder, reason)
    if storage is not None and row.job_status != FINISHED_OK:
        return _failed(row, folder, f"ingested, but archive job {row.job_id} {row.job_status}")
    row.status = INGESTED
    return row


def _failed(row: BatchRow, folder: Path, reason: str) -> BatchRow:
    row.status, row.reason = FAILED, reason
    log.warning("%s failed: %s", folder, reason)
    return row


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:300]
