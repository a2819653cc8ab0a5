"""Archive throughput of the ``filesystem`` and ``s3`` storages next to ``tar | sha256sum``.

``python -m bench.archive_throughput [--size MB] [--dir FOLDER]`` generates a dataset of
``--size`` MB (default 2048: large files plus a folder of small ones), then, in the same
run and on the same data:

1. ``tar -cf - DIR | sha256sum`` (the baseline the issue names: read + one checksum),
2. ``tar -cf - DIR | tee OUT.tar | sha256sum; sync OUT.tar`` (the same, also writing the
   tar durably: what an archive must do at least),
3. the filesystem storage's archive of the dataset (per-file sha256 while reading, tar
   written under a temporary name, fsync, rename, page cache dropped, read back, verified),
4. the s3 storage's archive of the dataset to moto's S3 server on loopback
   (:mod:`bench.moto_s3`: per-file sha256, the tar streamed in a multipart upload of
   ``ARCHIVER_S3_PART_BYTES`` parts with its composite SHA-256, the object's checksum and
   ETag compared, the manifest written). moto is a Python model of S3 on the same cores
   (it parses every part and keeps objects in memory): the row is a floor for the whole
   upload path, not S3's speed; a real store adds its network and takes moto's CPU away.

Each is run once after a warm-up read, so the source data comes from the page cache in
all of them. Prints one row per measurement and the ratio of (3) to (1) and to (2).
:func:`run` returns the figures as a dict for ``bench.run``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from archiver.settings import Settings
from archiver.storage.filesystem import FilesystemStorage

MB = 1000 * 1000
#: Size of each large file of the generated dataset.
LARGE_FILE = 256 * MB
#: Share of the dataset made of small (64 kB) files.
SMALL_SHARE = 0.05


def generate(folder: Path, size: int) -> list[str]:
    """Write about ``size`` bytes of random-looking data; return the relative file paths."""
    block = os.urandom(4 * 1024 * 1024)
    paths: list[str] = []
    small_total = int(size * SMALL_SHARE)
    (folder / "small").mkdir(parents=True)
    for n in range(max(1, small_total // (64 * 1000))):
        name = f"small/f{n:05d}.dat"
        (folder / name).write_bytes(os.urandom(64 * 1000))
        paths.append(name)
    left, n = size - small_total, 0
    while left > 0:
        name = f"large/part{n:03d}.bin"
        (folder / "large").mkdir(exist_ok=True)
        with open(folder / name, "wb") as out:
            todo = min(LARGE_FILE, left)
            while todo > 0:
                chunk = block[: min(len(block), todo)]
                out.write(n.to_bytes(8, "little") + chunk[8:])
                todo -= len(chunk)
        left -= min(LARGE_FILE, left)
        paths.append(name)
        n += 1
    return sorted(paths)


def _timed_shell(command: str) -> float:
    start = time.perf_counter()
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True, capture_output=True)
    return time.perf_counter() - start


def run(size_mb: int = 2048, workdir: str | None = None) -> dict[str, Any]:
    """Generate the data, measure the three rows, clean up; return the figures."""
    base = Path(tempfile.mkdtemp(prefix="archive-bench-", dir=workdir))
    try:
        data, root = base / "data" / "ds", base / "archive"
        data.mkdir(parents=True)
        root.mkdir()
        paths = generate(data, size_mb * MB)
        total = sum((data / p).stat().st_size for p in paths)
        _timed_shell(f"tar -cf - -C {data} . > /dev/null")  # warm-up: data in page cache
        baseline = _timed_shell(f"tar -cf - -C {data} . | sha256sum")
        out = base / "baseline.tar"
        with_write = _timed_shell(f"tar -cf - -C {data} . | tee {out} | sha256sum && sync {out}")
        out.unlink()
        settings = Settings(
            storage="filesystem",
            archive_root=str(root),
            retrieve_root=str(base),
            source_path_map=(("/bench", str(base / "data")),),
        )
        storage = FilesystemStorage(settings)
        dataset = {"pid": "bench/ds", "sourceFolder": "/bench/ds"}
        blocks = [{"dataFileList": [{"path": p} for p in paths]}]
        start = time.perf_counter()
        written = list(storage.archive(dataset, blocks))
        ours = time.perf_counter() - start
        shutil.rmtree(root)  # the filesystem tars are not needed any more: free the disk
        s3_seconds, s3_cpu, s3_tars = _s3_archive(settings, dataset, blocks)
        return {
            "bytes": total,
            "files": len(paths),
            "tars": len(written),
            "baseline_mb_s": total / MB / baseline,
            "baseline_write_mb_s": total / MB / with_write,
            "filesystem_mb_s": total / MB / ours,
            "ratio": baseline / ours,
            "ratio_to_write_baseline": with_write / ours,
            "s3_tars": s3_tars,
            "s3_mb_s": total / MB / s3_seconds,
            "s3_ratio": baseline / s3_seconds,
            "s3_cpu_mb_s": total / MB / s3_cpu,
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _s3_archive(
    settings: Settings, dataset: dict[str, Any], blocks: list[dict[str, Any]]
) -> tuple[float, float, int]:
    """Seconds, CPU seconds of this process (every thread) and tars of the s3 storage's
    archive of the dataset, against moto (whose own CPU is not counted)."""
    from archiver.storage.s3 import S3Storage
    from bench.moto_s3 import moto_s3

    with moto_s3() as (url, bucket):
        s3 = settings.replace(storage="s3", s3_endpoint_url=url, s3_bucket=bucket)
        storage = S3Storage(s3)
        start, cpu = time.perf_counter(), time.process_time()
        written = list(storage.archive(dataset, blocks))
        return time.perf_counter() - start, time.process_time() - cpu, len(written)


def format_rows(figures: dict[str, Any]) -> str:
    size = f"{figures['bytes'] / MB:,.0f} MB, {figures['files']} files"
    return "\n".join(
        [
            f"archive throughput ({size}):",
            f"  tar -cf - DIR | sha256sum                    {figures['baseline_mb_s']:8.0f} MB/s",
            f"  tar | tee OUT.tar | sha256sum; sync OUT.tar  "
            f"{figures['baseline_write_mb_s']:8.0f} MB/s",
            f"  filesystem storage archive ({figures['tars']} tar(s))       "
            f"{figures['filesystem_mb_s']:8.0f} MB/s",
            f"  ratio to baseline {figures['ratio']:.2f} (target >= 0.8); "
            f"to the baseline that also writes: {figures['ratio_to_write_baseline']:.2f}",
            f"  s3 storage archive to moto ({figures['s3_tars']} object(s))      "
            f"{figures['s3_mb_s']:8.0f} MB/s",
            f"  s3 ratio to baseline {figures['s3_ratio']:.2f} (moto on loopback, sharing "
            "the CPU: a floor, not S3's speed)",
            f"  s3 storage: the archiver's own CPU             {figures['s3_cpu_mb_s']:8.0f} MB/s "
            "of CPU (the rest of the time it waits for moto)",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048, help="dataset size in MB (2048)")
    parser.add_argument("--dir", default=None, help="work folder (default: the temp folder)")
    args = parser.parse_args(argv)
    print(format_rows(run(args.size, args.dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
