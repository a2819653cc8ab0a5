"""Worker-scaling row: one job over many datasets at 1, 2, 4, 8 ... worker processes.

Each count runs :func:`bench.scale.run_row` on a fresh emulator + bridge + worker started with
``-c N`` (prefork), the emulator answering every call after ``latency_ms`` and serving
requests concurrently (no capacity limit: a backend that is not yet saturated). The speed-up
is the 1-process wall time over each row's; it can only grow if the pipeline spreads a job's
datasets over the worker processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.scale import run_row


def run(counts: Sequence[int], datasets: int, latency_ms: float, workdir: Path) -> list[Any]:
    """One scale row per worker count; each with ``workers`` and ``speedup`` added."""
    rows: list[dict[str, Any]] = []
    for count in counts:
        print(f"workers: one job, {datasets} datasets, -c {count} ...", flush=True)
        row = run_row(datasets, 1, workdir, latency_ms, ("-c", str(count)))
        row["workers"] = count
        rows.append(row)
    base = rows[0]["seconds"] if rows else 0
    for row in rows:
        row["speedup"] = round(base / row["seconds"], 2) if row["seconds"] else None
    return rows


def format_rows(rows: Sequence[dict[str, Any]]) -> list[list[Any]]:
    """Table cells: workers, datasets, latency, status, seconds, speed-up."""
    return [
        [r["workers"], r["datasets"], r["latency_ms"], r["status"], r["seconds"], r["speedup"]]
        for r in rows
    ]


HEAD = ["workers", "datasets", "lat ms", "status", "seconds", "speed-up vs first"]
