"""The benchmark's one command: ``python -m bench`` (see ``--help``).

Runs, for each ``--latency-ms`` value, the sequential baseline and the pipeline (emulator,
``archiver bridge`` and ``celery -A archiver worker`` as separate processes on the local
RabbitMQ); the backend-bound rows (emulator in capacity mode: pipeline vs the sequential
minimal script, 1-dataset and 100-dataset jobs); the scale rows; one 1 000-dataset job at
1, 2, 4 and 8 worker processes; and the filesystem archive-throughput row. Prints tables and
writes everything as JSON to ``bench/results/<timestamp>.json``.

``--external`` (or ``--scicat-url URL``) runs only the backend-bound rows, against the real
SciCat the archiver's settings name (``ARCHIVER_SCICAT_*``, ``ARCHIVER_BROKER_*``,
``ARCHIVER_JOB_*`` from the environment; secrets only there).
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

from archiver.errors import ConfigError
from archiver.settings import Settings, load_settings
from bench import archive_throughput, backend_bound, workers
from bench.scale import run_row
from bench.sites import EmulatorSite, ExternalSite, Site
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
    out = []
    if rows:
        out.append(table(rows, ["lat ms", "jobs", "base j/s", "pipe j/s", "ratio", "p50 ms",
                                "p95 ms", "p99 ms", "idle ms", "overhead", "calls/job",
                                "worker MB", "bridge MB"]))  # fmt: skip
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
    if cpu:
        out.append("CPU ms per job during the backlog:\n" + table(cpu, ["lat ms", *PARTS]))
    if result.get("backend_bound"):
        cells = backend_bound.format_rows(result["backend_bound"])
        out.append("Backend-bound (pipeline vs minimal script, same SciCat, one run):\n"
                   + table(cells, backend_bound.HEAD))  # fmt: skip
    if scale:
        out.append(table(scale, ["datasets", "files/ds", "status", "seconds", "blocks",
                                 "max block KB", "worker MB", "largest proc MB"]))  # fmt: skip
    if result.get("workers"):
        cells = workers.format_rows(result["workers"])
        out.append("One job across worker processes:\n" + table(cells, workers.HEAD))
    if result.get("archive"):
        out.append(archive_throughput.format_rows(result["archive"]))
    return "\n\n".join(out)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--jobs", type=int, default=500, help="archive jobs per run")
    p.add_argument("--latency-ms", type=float, action="append",
                   help="emulator latency; repeat for several (default: 0 and 5)")  # fmt: skip
    p.add_argument("--idle-jobs", type=int, default=20,
                   help="jobs sent one at a time to measure the idle latency")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    p.add_argument("--no-latency", action="store_true", help="skip the latency rows")
    p.add_argument("--no-scale", action="store_true", help="skip the scale rows")
    p.add_argument("--archive-mb", type=int, default=None,
                   help="archive-throughput dataset in MB (2048; --quick 256)")  # fmt: skip
    p.add_argument("--no-archive", action="store_true",
                   help="skip the filesystem archive-throughput row")  # fmt: skip
    p.add_argument("--results-dir", type=Path, default=RESULTS, metavar="DIR",
                   help="where the JSON results go (default bench/results)")  # fmt: skip
    p.add_argument("--worker-arg", action="append", default=[],
                   help="extra celery worker argument (--worker-arg=-c4)")  # fmt: skip
    g = p.add_argument_group("backend-bound rows (pipeline vs the sequential minimal script)")
    g.add_argument(
        "--capacity",
        type=float,
        default=50.0,
        metavar="RPS",
        help="emulator capacity, API requests per second served one at a time "
        "(default 50: slow enough that the sequential script saturates it)",
    )
    g.add_argument("--no-capacity", action="store_true", help="skip the backend-bound rows")
    g.add_argument("--small-jobs", type=int, default=None, metavar="N",
                   help="1-dataset jobs per phase (default 100; --quick 20)")  # fmt: skip
    g.add_argument(
        "--big-jobs",
        type=int,
        default=None,
        metavar="N",
        help="jobs of --big-datasets datasets per phase (default 5; --quick 2)",
    )
    g.add_argument("--big-datasets", type=int, default=100, metavar="N",
                   help="datasets of each big job (default 100)")  # fmt: skip
    g.add_argument(
        "--external",
        action="store_true",
        help="run only these rows, against the SciCat of ARCHIVER_SCICAT_URL "
        "(credentials, broker and job queue from the ARCHIVER_* environment)",
    )
    g.add_argument(
        "--scicat-url",
        metavar="URL",
        help="like --external, with this SciCat URL (no credentials in it)",
    )
    g.add_argument("--count-calls", action="store_true",
                   help="--external: count calls per job through a local proxy in front of "
                        "SciCat (one more local hop per call)")  # fmt: skip
    g.add_argument(
        "--owner-group",
        default="group1",
        help="--external: ownerGroup of the datasets the bench creates (group1)",
    )
    w = p.add_argument_group("worker-scaling row (one job over many datasets)")
    w.add_argument("--workers", default="1,2,4,8", metavar="LIST",
                   help="worker process counts (default 1,2,4,8)")  # fmt: skip
    w.add_argument("--workers-datasets", type=int, default=None, metavar="N",
                   help="datasets of that job (default 1000; --quick 200)")  # fmt: skip
    w.add_argument("--workers-latency-ms", type=float, default=5.0, metavar="MS",
                   help="emulator latency of that row (default 5)")  # fmt: skip
    w.add_argument("--no-workers", action="store_true", help="skip the worker-scaling row")
    return p


def external_settings(url: str | None) -> Settings:
    """The archiver's settings from the environment (``url`` replacing the SciCat URL)."""
    try:
        settings = load_settings(overrides={"scicat_url": url})
        settings.require_scicat()
    except ConfigError as exc:
        raise SystemExit(f"python -m bench --external: {exc}") from None
    return settings


def backend_rows(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """The backend-bound rows: 1-dataset jobs, then big jobs, each on a fresh site."""
    small = args.small_jobs or (20 if args.quick else 100)
    big = args.big_jobs or (1 if args.quick else 3)
    external = args.external or args.scicat_url
    settings = external_settings(args.scicat_url) if external else None
    rows = []
    for per_job, count in ((1, small), (args.big_datasets, big)):
        site: Site
        if settings is not None:
            site = ExternalSite(settings, workdir, tuple(args.worker_arg), args.owner_group,
                                args.count_calls)  # fmt: skip
        else:
            site = EmulatorSite(workdir, args.capacity, 0.0, tuple(args.worker_arg))
        print(f"backend-bound: {count} jobs of {per_job} datasets, {site.describe()} ...",
              flush=True)  # fmt: skip
        with site:
            rows.append(backend_bound.run_row(site, per_job, count))
    return rows


def emulator_rows(args: argparse.Namespace, result: dict[str, Any], workdir: Path) -> None:
    """Latency, scale, worker-scaling and archive rows (everything but the backend-bound)."""
    jobs = 100 if args.quick and args.jobs == 500 else args.jobs
    idle = 5 if args.quick else args.idle_jobs
    datasets = (100, 200, 400) if args.quick else (250, 500, 1000)
    files = (10_000, 20_000, 40_000) if args.quick else (25_000, 50_000, 100_000)
    for latency in [] if args.no_latency else args.latency_ms or [0.0, 5.0]:
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
    if not args.no_workers:
        counts = [int(c) for c in args.workers.split(",") if c.strip()]
        size = args.workers_datasets or (200 if args.quick else 1000)
        result["workers"] = workers.run(counts, size, args.workers_latency_ms, workdir)
    if not args.no_archive:
        size = args.archive_mb or (256 if args.quick else 2048)
        print(f"archive throughput: {size} MB dataset ...", flush=True)
        result["archive"] = archive_throughput.run(size, str(workdir))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: dict[str, Any] = {
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "throughput": [],
        "scale": [],
    }
    with tempfile.TemporaryDirectory(prefix="archiver-bench-") as tmp:
        workdir = Path(tmp)
        if not args.no_capacity or args.external or args.scicat_url:
            result["backend_bound"] = backend_rows(args, workdir)
        if not (args.external or args.scicat_url):
            emulator_rows(args, result, workdir)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = args.results_dir / f"{stamp}.json"
    dump(path, result)
    print()
    print(report(result))
    print(f"\nwritten to {path}")
    return 0
