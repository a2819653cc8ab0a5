"""Scale rows: one job with many datasets, one dataset with many files.

Each row runs on a fresh emulator + bridge + worker (so peak memory belongs to that row).
Time is the job's ``createdAt`` → ``updatedAt`` on the emulator's clock. Body sizes are read
on the emulator side: the largest stored DataBlock as JSON, and how many blocks there are
(``ARCHIVER_BLOCK_MAX_FILES`` splits a dataset's files into blocks).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.stack import Stack, tree, vm_hwm_mb, wait_jobs
from bench.throughput import parse_time


def _max_process_rss_mb(pid: int) -> float:
    return max((vm_hwm_mb(p) for p in tree(pid)), default=0.0)


def run_row(
    datasets: int,
    files: int,
    workdir: Path,
    latency_ms: float = 0,
    worker_args: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One archive job over ``datasets`` datasets of ``files`` files each."""
    with Stack(latency_ms, workdir, worker_args) as stack:
        stack.start_emulator()
        pids = [stack.seed_dataset(files) for _ in range(datasets)]
        stack.start_pipeline()
        job_id = stack.submit(pids)
        state = wait_jobs(stack, {job_id}, timeout=1800, interval=1.0)
        worker_max = _max_process_rss_mb(stack.procs["worker"].pid)
        rss = stack.peak_rss()
    job = next(j for j in state["jobs"] if j["id"] == job_id)
    blocks = state["datablocks"]
    sizes = [len(json.dumps(b, separators=(",", ":"))) for b in blocks]
    archived = sum(
        1
        for d in state["datasets"]
        if d["datasetlifecycle"]["archiveStatusMessage"] == "datasetOnArchiveDisk"
    )
    return {
        "datasets": datasets,
        "files_per_dataset": files,
        "latency_ms": latency_ms,
        "worker_args": list(worker_args),
        "status": job["statusCode"],
        "seconds": round(parse_time(job["updatedAt"]) - parse_time(job["createdAt"]), 2),
        "datasets_archived": archived,
        "datablocks": len(blocks),
        "files_in_datablocks": sum(len(b["dataFileList"]) for b in blocks),
        "largest_datablock_kb": round(max(sizes, default=0) / 1024, 1),
        "peak_rss_mb": rss,
        "worker_largest_process_mb": round(worker_max, 1),
    }
