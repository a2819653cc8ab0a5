"""SciCat's url job action through the real path: a job created in the emulator is POSTed by
its url action to the HTTP intake, whose chain runs on the embedded worker to the end; and
the answers SciCat gets back when the intake cannot take a job."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker

from archiver import app
from archiver.emulator import UrlAction
from archiver.errors import SciCatError
from archiver.intake.http_intake import IntakeServer
from archiver.scicat import DatasetRef, connect

from .conftest import Pipeline
from .helpers import seed, submit

USER, PASSWORD = "scicat-url-action", "pa=ss+/word"
#: The job configuration's credential, as the SciCat operator would put it in the backend's
#: environment: base64 of user:password (its "=" padding is why the header needs {{{ }}}).
ENV_NAME = "ARCHIVER_TEST_URL_ACTION_BASIC"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def url_action(port: int, on: tuple[str, ...] = ("create",), body: str = "v4") -> UrlAction:
    """The jobConfig.yaml url action of docs/intake.md, for an intake on ``port``."""
    return UrlAction(
        url=f"http://127.0.0.1:{port}/jobs",
        method="POST",
        headers={
            "Authorization": "Basic {{{ env." + ENV_NAME + " }}}",
            "Content-Type": "application/json",
        },
        body=body,
        on=on,
    )


@pytest.fixture
def url_pipeline(
    pipeline_factory: Callable[..., Pipeline], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., tuple[Pipeline, IntakeServer]]]:
    """A pipeline without bridge whose emulator POSTs jobs to an HTTP intake."""
    monkeypatch.setenv(ENV_NAME, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
    servers: list[IntakeServer] = []

    def start(
        on: tuple[str, ...] = ("create",), body: str = "v4", **extra: Any
    ) -> tuple[Pipeline, IntakeServer]:
        port = free_port()
        pipe = pipeline_factory(
            bridge=False,
            publish_on=(),
            emulator_options={"url_action": url_action(port, on, body)},
            serve_user=USER,
            serve_password=PASSWORD,
            **extra,
        )
        server = IntakeServer(app, pipe.settings, host="127.0.0.1", port=port).start()
        servers.append(server)
        return pipe, server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize("body", ["v4", "v3"])
def test_a_job_posted_by_the_url_action_runs_to_finished_successful(url_pipeline, body):
    pipe, server = url_pipeline(on=("create", "update"), body=body)
    pids = seed(pipe, count=2)
    job_id = submit(pipe, "archive", pids)
    job = pipe.wait_finished(job_id)
    assert job["statusCode"] == "finishedSuccessful", job
    assert sorted(d["pid"] for d in job["jobResultObject"]["datasets"]) == sorted(pids)
    assert pipe.emulator.published == 0  # nothing came through RabbitMQ's job queue
    # Every status update was POSTed too, and answered 200 as not new work, so each of the
    # archiver's own PATCHes succeeded.
    assert server.counts["started"] == 1 and server.counts["dropped"] >= 2
    assert server.counts["refused"] == server.counts["unavailable"] == 0
    job_id = submit(pipe, "retrieve", pids)
    assert pipe.wait_finished(job_id)["statusCode"] == "finishedSuccessful"


def test_a_job_scicat_sends_with_wrong_credentials_fails_its_request_with_401(
    url_pipeline, monkeypatch
):
    pipe, server = url_pipeline()
    monkeypatch.setenv(ENV_NAME, base64.b64encode(b"someone:else").decode())
    [pid] = seed(pipe, count=1)
    with pytest.raises(SciCatError) as caught:
        submit(pipe, "archive", [pid])
    assert caught.value.status == 401 and "credentials" in str(caught.value)
    assert server.counts["started"] == 0
    # Stored by SciCat anyway, still submitted. (The archiver's own client takes a 401 for
    # an expired session and tries once more after a new login: so two jobs here.)
    jobs = pipe.emulator.jobs()
    assert jobs and all(j["statusCode"] == "jobSubmitted" for j in jobs)


def test_the_intake_runs_inside_the_worker_with_serve_in_worker(
    pipeline_factory, monkeypatch, broker_url
):
    monkeypatch.setenv(ENV_NAME, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
    port = free_port()
    pipe = pipeline_factory(
        bridge=False,
        worker=False,
        publish_on=(),
        emulator_options={"url_action": url_action(port)},
        serve_user=USER,
        serve_password=PASSWORD,
        serve_in_worker=True,
        serve_port=port,
    )
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False,
                      loglevel="WARNING", shutdown_timeout=20):  # fmt: skip
        [pid] = seed(pipe, count=1)
        job = pipe.wait_finished(submit(pipe, "archive", [pid]))
        assert job["statusCode"] == "finishedSuccessful", job
    with connect(pipe.settings) as client, pytest.raises(SciCatError) as caught:
        client.create_job("archive", [DatasetRef(pid)])
    assert caught.value.status == 400 and "unable to perform action 'url'" in str(caught.value)
