"""A real S3 API for the tests: moto's server mode, started on loopback as a subprocess.

``moto_server`` is session-wide (one process, a free port on 127.0.0.1); every test gets a
bucket of its own from ``s3_settings``. Credentials reach boto3 only through the standard
environment variables, as in production. moto is a model of S3, not an object store: the
tests check the protocol (multipart checksums, storage classes, restores), not performance.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.settings import Settings

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "archiver-test",
    "AWS_SECRET_ACCESS_KEY": "archiver-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory) -> Iterator[str]:
    """URL of a moto S3 server on 127.0.0.1 (fails the test when it does not start)."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"moto's S3 server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(30)


@pytest.fixture
def s3_env(monkeypatch) -> dict[str, str]:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    return dict(CREDENTIALS)


def make_bucket(url: str) -> str:
    import boto3

    name = f"archiver-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def s3_client(url: str):
    import boto3

    return boto3.client("s3", endpoint_url=url, region_name="us-east-1")


def restore_after(url: str, reads: int | None) -> None:
    """Make a cold object's restore finish after ``reads`` status reads (None: at once)."""
    if reads is None:
        path, body = "unset-transition", {"model_name": "s3::keyrestore"}
    else:
        transition = {"progression": "manual", "times": reads}
        path, body = "set-transition", {"model_name": "s3::keyrestore", "transition": transition}
    request = urllib.request.Request(
        f"{url}/moto-api/state-manager/{path}", data=json.dumps(body).encode(), method="POST"
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture
def s3_settings(moto_server: str, s3_env, roots: dict[str, Path]) -> Settings:
    return Settings(
        storage="s3",
        s3_endpoint_url=moto_server,
        s3_bucket=make_bucket(moto_server),
        s3_prefix="archive",
        retrieve_root=str(roots["retrieve"]),
        source_path_map=(("/scicat/data", str(roots["data"])),),
        tar_max_bytes=200_000,
        s3_part_bytes=5 * 1024**2,
        s3_restore_poll_seconds=0.05,
    )


__all__ = ["moto_server", "s3_env", "s3_settings", "os"]
