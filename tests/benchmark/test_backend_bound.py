"""The backend-bound bench rows with small N: both phases run, calls are counted, nothing leaks.

These tests check the plumbing (jobs done, counts, secrets), never a timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bench import backend_bound
from bench.counting_proxy import CountingProxy
from bench.minimal import calls_per_job
from bench.run import external_settings, report
from bench.sites import EmulatorSite, ExternalStack

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-S3cret-pw"
ADMIN = {"username": "admin", "password": "2jf70TPNZsS"}


def test_a_row_on_the_emulator_runs_the_minimal_script_and_the_pipeline(broker_url, tmp_path):
    with EmulatorSite(tmp_path, capacity=500) as site:
        assert "--capacity" in site.stack.procs["emulator"].args
        row = backend_bound.run_row(site, per_job=2, jobs=2, timeout=240)
    minimal, pipeline = row["minimal"], row["pipeline"]
    assert minimal["statuses"] == {"finishedSuccessful": 2}
    assert minimal["calls_per_job"] == calls_per_job(2) == 10  # measured on the emulator
    assert pipeline["statuses"] == {"finishedSuccessful": 2}
    assert pipeline["calls_per_job"] == sum(pipeline["call_profile"].values()) / 2 > 0
    assert "POST /api/v3/auth/login" not in pipeline["call_profile"]
    assert row["minimal_messages_purged"] == 2  # the minimal phase's job messages
    assert row["ratio"] == round(pipeline["jobs_per_s"] / minimal["jobs_per_s"], 2)
    text = report({"throughput": [], "scale": [], "backend_bound": [row]})
    assert "Backend-bound" in text and "capacity 500 requests/s" in text


def test_the_external_mode_runs_against_a_scicat_named_by_the_environment(
    emulator_factory, broker_url, unique_names, tmp_path
):
    emu = emulator_factory(
        flavour="next", amqp_url=broker_url, publish_on=("create", "update"),
        exchange=unique_names["exchange"], queue=unique_names["queue"],
        routing_key=unique_names["routing_key"], accounts={"admin": (SECRET, ["admin"])},
    )  # fmt: skip
    env = {
        **os.environ,
        "ARCHIVER_SCICAT_URL": emu.url + "/api/v3/",
        "ARCHIVER_SCICAT_USER": "admin",
        "ARCHIVER_SCICAT_PASSWORD": SECRET,
        "ARCHIVER_BROKER_URL": broker_url,
        "ARCHIVER_JOB_EXCHANGE": unique_names["exchange"],
        "ARCHIVER_JOB_QUEUE": unique_names["queue"],
        "ARCHIVER_JOB_ROUTING_KEY": unique_names["routing_key"],
        "ARCHIVER_QUARANTINE_QUEUE": unique_names["quarantine"],
    }
    sizes = ["--small-jobs", "2", "--big-jobs", "1", "--big-datasets", "2"]
    command = [sys.executable, "-m", "bench", "--external", "--count-calls", *sizes,
               "--results-dir", str(tmp_path)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"external SciCat at {emu.url}" in done.stdout and "Backend-bound" in done.stdout
    (result,) = tmp_path.glob("*.json")
    text = result.read_text()
    assert SECRET not in done.stdout + done.stderr + text
    rows = json.loads(text)["backend_bound"]
    assert [r["datasets_per_job"] for r in rows] == [1, 2]
    # counted by the proxy: the minimal script's calls exactly, the pipeline's without logins
    assert [r["minimal"]["calls_per_job"] for r in rows] == [6, 10]
    assert all(r["pipeline"]["calls_per_job"] > 0 for r in rows)
    assert all("POST /api/v3/auth/login" not in r["pipeline"]["call_profile"] for r in rows)
    # minimal 2 + warm-up 1 + pipeline 2 jobs, then 1 + 1 + 1: all created through the API
    assert len(emu.jobs()) == 8
    assert {j["statusCode"] for j in emu.jobs()} == {"finishedSuccessful"}
    creates = [p for m, p, s in emu.request_log if m == "POST" and p == "/api/v3/datasets"]
    assert len(creates) == 2 + 1 + 2 + 2 + 1 + 2


def test_the_external_mode_without_a_scicat_url_says_which_variable_to_set(monkeypatch):
    for name in ("ARCHIVER_SCICAT_URL", "SCI_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="ARCHIVER_SCICAT_URL"):
        external_settings(None)


def test_a_scicat_url_with_credentials_in_it_is_refused(monkeypatch):
    with pytest.raises(SystemExit, match="must not contain credentials"):
        external_settings("http://admin:pw@localhost:3000/api/v3/")


def test_the_counting_proxy_forwards_requests_unchanged_and_counts_them(emulator_factory):
    emu = emulator_factory(flavour="next")
    with CountingProxy(emu.url) as proxy:
        login = requests.post(f"{proxy.url}/api/v3/auth/login", json=ADMIN, timeout=10)
        assert login.status_code == 201
        token = login.json()["access_token"]
        mine = requests.get(f"{proxy.url}/api/v3/datasets/nope", timeout=10,
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert mine.status_code == 404 and "application/json" in mine.headers["Content-Type"]
        assert proxy.calls == [("POST", "/api/v3/auth/login"), ("GET", "/api/v3/datasets/nope")]
    assert emu.request_log[-2:] == [("POST", "/api/v3/auth/login", 201),
                                    ("GET", "/api/v3/datasets/nope", 404)]  # fmt: skip


def test_the_pipeline_gets_the_scicat_url_given_on_the_command_line(monkeypatch, tmp_path):
    monkeypatch.setenv("ARCHIVER_SCICAT_URL", "http://elsewhere:3000/api/v3/")
    monkeypatch.setenv("ARCHIVER_SCICAT_USER", "admin")
    monkeypatch.setenv("ARCHIVER_SCICAT_PASSWORD", SECRET)
    monkeypatch.setenv("ARCHIVER_JOB_QUEUE", "site.jobs")
    stack = ExternalStack(external_settings("http://backend:3000/api/v3/"), tmp_path, ())
    env = stack.env()
    assert env["ARCHIVER_SCICAT_URL"] == "http://backend:3000"
    assert env["ARCHIVER_JOB_QUEUE"] == "site.jobs" and env["ARCHIVER_SCICAT_PASSWORD"] == SECRET
    assert env["ARCHIVER_TASK_QUEUE"].startswith("bench.tasks.") and stack.owned == ("task_queue",)
    stack.proxy_url = "http://127.0.0.1:4242"
    assert stack.env()["ARCHIVER_SCICAT_URL"] == "http://127.0.0.1:4242"
