"""What the demo does once everything runs: ingest, archive, retrieve, and tell about it.

Talks only to SciCat (the emulator) through the normal client, like an operator would:
the jobs it creates reach the pipeline through the queue, not through a shortcut.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from archiver.ingest.ingest import IngestOptions, ingest_folder
from archiver.scicat.base import FINISHED_OK, DatasetRef, SciCatClient
from archiver.watch import watch_job

Echo = Callable[[str], None]


def tell_story(client: SciCatClient, folders: list[Path], echo: Echo, timeout: float) -> int:
    """Ingest ``folders``, archive them, retrieve them; 0 if both jobs succeeded."""
    echo("")
    echo(f"1. Ingesting {len(folders)} example dataset(s) (archiver ingest)")
    pids = []
    for folder in folders:
        result = ingest_folder(client, folder, IngestOptions())
        pids.append(str(result.pid))
        echo(f"   {folder.name}: {result.pid} ({result.files} files, {result.size} bytes)")
    statuses = []
    for number, job_type in ((2, "archive"), (3, "retrieve")):
        echo("")
        job = client.create_job(
            job_type, [DatasetRef(p) for p in pids], contact_email="demo@example.org"
        )
        echo(
            f"{number}. {job_type.capitalize()} job {job.id} submitted to SciCat; "
            "SciCat publishes it, the bridge starts a chain:"
        )
        last = None
        for event in watch_job(client, job.id, interval=0.2, timeout=timeout):
            if event.old is not None or (event.kind == "job" and event.field == "status"):
                echo(f"   {event}")  # changes only, and where the job starts
            if event.kind == "job" and event.field == "status":
                last = str(event.new)
        statuses.append(last)
    echo("")
    summary(client, pids, echo)
    ok = all(s == FINISHED_OK for s in statuses)
    echo("")
    echo(
        "Both jobs finished successfully." if ok else f"Jobs ended: {', '.join(map(str, statuses))}"
    )
    echo(
        "Next: run it against your SciCat with `celery -A archiver worker --with-bridge` "
        "(see README)."
    )
    return 0 if ok else 1


def summary(client: SciCatClient, pids: list[str], echo: Echo) -> None:
    echo("4. Summary (what SciCat now holds)")
    rows: list[tuple[str, ...]] = [("dataset", "archive status", "retrieve status", "blocks")]
    for pid in pids:
        life = client.get_dataset(pid).get("datasetlifecycle") or {}
        blocks = client.list_datablocks(pid)
        archived = str(life.get("archiveStatusMessage") or "")
        retrieved = str(life.get("retrieveStatusMessage") or "")
        rows.append((pid, archived, retrieved, str(len(blocks))))
    for line in aligned(rows):
        echo(f"   {line}")


def aligned(rows: list[tuple[str, ...]]) -> list[str]:
    """The rows as text columns, each as wide as its longest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
