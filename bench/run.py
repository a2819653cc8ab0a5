"""The benchmark's one command: ``python -m bench`` (see ``--help``).

Runs, for each ``--latency-ms`` value, the sequential baseline and the pipeline (emulator,
``archiver bridge`` and ``celery -A archiver worker`` as separate processes on the local
RabbitMQ), then the scale rows and the filesystem archive-throughput row; prints a table
and writes everything as JSON to ``bench/results/<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import archive_throughput
from bench.scale import run_row
from bench.stack import dump
from bench.throughput import run_baseline, run_pipeline

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """nproc, CPU model, memory, Python and RabbitMQ versions."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    try:
        rabbit = subprocess.run(
            ["rabbitmqctl", "version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        rabbit = "unknown"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "rabbitmq": rabbit,
        "load_average_at_start": os.getloadavg(),
    }


def table(rows: list[list[Any]], head: list[str]) -> str:
    cells = [head, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


#: The processes whose CPU time per job is reported.
PARTS = ("worker", "bridge", "emulator", "rabbitmq")


def report(result: dict[str, Any]) -> str:
    rows = []
    for row in result["throughput"]:
        pipe, base = row["pipeline"], row["baseline"]
        rss = pipe["peak_rss_mb"]
        rows.append([
            row["latency_ms"], pipe["jobs"], base["jobs_per_s"], pipe["jobs_per_s"],
            row["ratio"], pipe["latency_p50_ms"], pipe["latency_p95_ms"], pipe["latency_p99_ms"],
            pipe["idle_latency_p50_ms"], pipe["idle_overhead_ms"], pipe["calls_per_job"],
            rss.get("worker"), rss.get("bridge"),
        ])  # fmt: skip
    out = [table(rows, ["lat ms", "jobs", "base j/s", "pipe j/s", "ratio", "p50 ms", "p95 ms",
                        "p99 ms", "idle ms", "overhead", "calls/job", "worker MB",
                        "bridge MB"])]  # fmt: skip
    scale = [
        [r["datasets"], r["files_per_dataset"], r["status"], r["seconds"], r["datablocks"],
         r["largest_datablock_kb"], r["peak_rss_mb"].get("worker"),
         r["worker_largest_process_mb"]]
        for r in result["scale"]
    ]  # fmt: skip
    cpu = [
        [row["latency_ms"], *(row["pipeline"]["cpu_ms_per_job"].get(name) for name in PARTS)]
        for row in result["throughput"]
    ]
    out.append("CPU ms per job during the backlog:\n" + table(cpu, ["lat ms", *PARTS]))
    if scale:
        out.append(table(scale, ["datasets", "files/ds", "status", "seconds", "blocks",
                                 "max block KB", "worker MB", "largest proc MB"]))  # fmt: skip
    if result.get("archive"):
        out.append(archive_throughput.format_rows(result["archive"]))
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--jobs", type=int, default=500, help="archive jobs per run")
    parser.add_argument("--latency-ms", type=float, action="append",
                        help="emulator latency; repeat for several (default: 0 and 5)")  # fmt: skip
    parser.add_argument("--idle-jobs", type=int, default=20,
                        help="jobs sent one at a time to measure the idle latency")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--no-scale", action="store_true", help="skip the scale rows")
    parser.add_argument("--archive-mb", type=int, default=None,
                        help="archive-throughput dataset in MB (2048; --quick 256)")  # fmt: skip
    parser.add_argument("--no-archive", action="store_true",
                        help="skip the filesystem archive-throughput row")  # fmt: skip
    parser.add_argument("--worker-arg", action="append", default=[],
                        help="extra celery worker argument (--worker-arg=-c4)")  # fmt: skip
    args = parser.parse_args(argv)
    latencies = args.latency_ms or [0.0, 5.0]
    jobs = 100 if args.quick and args.jobs == 500 else args.jobs
    idle = 5 if args.quick else args.idle_jobs
    datasets = (100, 200, 400) if args.quick else (250, 500, 1000)
    files = (10_000, 20_000, 40_000) if args.quick else (25_000, 50_000, 100_000)
    result: dict[str, Any] = {
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "throughput": [],
        "scale": [],
    }
    with tempfile.TemporaryDirectory(prefix="archiver-bench-") as tmp:
        workdir = Path(tmp)
        for latency in latencies:
            print(f"latency {latency:g} ms: baseline ...", flush=True)
            base = run_baseline(latency, jobs, workdir)
            print(f"latency {latency:g} ms: pipeline ...", flush=True)
            pipe = run_pipeline(latency, jobs, idle, workdir, tuple(args.worker_arg))
            ratio = round(pipe["jobs_per_s"] / base["jobs_per_s"], 2)
            result["throughput"].append(
                {"latency_ms": latency, "baseline": base, "pipeline": pipe, "ratio": ratio}
            )
        if not args.no_scale:
            for count in datasets:
                print(f"scale: one job, {count} datasets ...", flush=True)
                result["scale"].append(run_row(count, 1, workdir))
            for count in files:
                print(f"scale: one dataset, {count} files ...", flush=True)
                result["scale"].append(run_row(1, count, workdir))
        if not args.no_archive:
            size = args.archive_mb or (256 if args.quick else 2048)
            print(f"archive throughput: {size} MB dataset ...", flush=True)
            result["archive"] = archive_throughput.run(size, tmp)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{stamp}.json"
    dump(path, result)
    print()
    print(report(result))
    print(f"\nwritten to {path}")
    return 0
