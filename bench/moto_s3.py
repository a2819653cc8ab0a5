"""moto's S3 server on loopback for the benchmark: ``with moto_s3() as (url, bucket): ...``.

A subprocess (``python -m moto.server``) on a free port of 127.0.0.1 with one fresh bucket.
boto3 reads the credentials from the standard environment variables; dummy ones are set for
the duration when none are (moto accepts any), and the previous environment is restored.
moto keeps objects in memory and models S3's protocol, not an object store's speed; it runs
on the same cores as the archiver, so a row measured against it is a floor.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import IO

DUMMY = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
#: Seconds moto's server may take to answer after it was started.
START_TIMEOUT = 60.0


@contextlib.contextmanager
def moto_s3() -> Iterator[tuple[str, str]]:
    """``(endpoint URL, bucket)`` of a moto S3 server that stops when the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    saved = {name: os.environ.get(name) for name in DUMMY}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(url, process, log)
            if not (saved["AWS_ACCESS_KEY_ID"] and saved["AWS_SECRET_ACCESS_KEY"]):
                os.environ.update(DUMMY)
            import boto3

            bucket = f"bench-{uuid.uuid4().hex[:12]}"
            boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(
                Bucket=bucket
            )
            yield url, bucket
        finally:
            process.terminate()
            process.wait(30)
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                tail = log.read()[-2000:].decode("utf-8", "replace")
                raise RuntimeError(f"moto's S3 server did not start: {tail}") from None
            time.sleep(0.2)
