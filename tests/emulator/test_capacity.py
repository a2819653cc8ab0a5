"""Capacity mode: one request at a time, paced to N per second (fake clock, nothing timed)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from archiver.emulator.capacity import Capacity, Unlimited, make_capacity

from .helpers import Client


class FakeClock:
    """A clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_requests_start_one_interval_apart_when_they_arrive_together():
    clock = FakeClock()
    capacity = Capacity(4, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(5):
        with capacity.slot() as start:
            starts.append(start)
    assert starts == [100.0, 100.25, 100.5, 100.75, 101.0]
    assert capacity.served == 5


def test_a_request_after_a_quiet_spell_starts_at_once_and_idle_time_is_not_saved_up():
    clock = FakeClock()
    capacity = Capacity(2, clock=clock, sleep=clock.sleep)
    with capacity.slot():
        pass
    clock.now += 10  # idle for 10 s: no burst of 20 requests is allowed afterwards
    starts = []
    for _ in range(3):
        with capacity.slot() as start:
            starts.append(start)
    assert starts == [110.0, 110.5, 111.0]
    assert clock.slept == [0.5, 0.5]


def test_a_slow_request_delays_the_next_one_until_it_has_finished():
    clock = FakeClock()
    capacity = Capacity(10, clock=clock, sleep=clock.sleep)
    with capacity.slot():
        clock.now += 1.0  # the request itself takes a second
    with capacity.slot() as start:
        pass
    assert start == 101.0 and clock.slept == []


def test_concurrent_requests_are_served_one_at_a_time():
    capacity = Capacity(1_000_000)
    inside = threading.Event()
    release = threading.Event()
    entered: list[str] = []

    def first() -> None:
        with capacity.slot():
            entered.append("first")
            inside.set()
            release.wait(10)

    def second() -> None:
        with capacity.slot():
            entered.append("second")

    a = threading.Thread(target=first)
    a.start()
    assert inside.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.2)
    assert entered == ["first"] and b.is_alive()
    release.set()
    a.join(10)
    b.join(10)
    assert entered == ["first", "second"]


@pytest.mark.parametrize("rate", [0, None])
def test_no_capacity_means_unlimited(rate):
    assert isinstance(make_capacity(rate), Unlimited)


@pytest.mark.parametrize("rate", [-1, float("nan")])
def test_a_capacity_that_is_not_positive_is_refused_with_what_to_give(rate):
    with pytest.raises(ValueError, match="positive number of requests per second"):
        make_capacity(rate)


def test_the_emulator_paces_api_requests_but_not_admin_requests(emulator_factory):
    emu = emulator_factory(flavour="next", capacity=5)
    clock = FakeClock()
    emu._app.capacity = Capacity(5, clock=clock, sleep=clock.sleep)
    active, peak = [0], [0]
    lock = threading.Lock()
    api = emu._app._api

    def tracked(req):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            return api(req)
        finally:
            with lock:
                active[0] -= 1

    emu._app._api = tracked
    client = Client(emu)  # one login
    threads = [threading.Thread(target=client.get, args=("/datasets",)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    requests.get(emu.url + "/emulator/state", timeout=10)
    assert emu._app.capacity.served == 9  # login + 8 reads; the admin call is not counted
    assert peak[0] == 1
    assert clock.slept == pytest.approx([0.2] * 8)


def test_the_emulator_refuses_a_negative_capacity():
    from archiver.emulator import Emulator

    with pytest.raises(ValueError, match="capacity"):
        Emulator(capacity=-5)


def test_the_cli_takes_a_capacity_and_refuses_a_negative_one():
    archiver = Path(sys.executable).parent / "archiver"
    done = subprocess.run(
        [str(archiver), "emulator", "--amqp-url", "none", "--capacity", "-1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "--capacity" in done.stderr
    helped = subprocess.run([str(archiver), "emulator", "--help"], capture_output=True, text=True)
    assert "--capacity N" in helped.stdout and "one at a time" in helped.stdout
    proc = subprocess.Popen(
        [str(archiver), "emulator", "--port", "0", "--amqp-url", "none", "--capacity", "7.5"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert "; capacity 7.5 requests/s, one at a time" in proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_admin_api_lists_job_summaries(emulator_factory):
    emu = emulator_factory(flavour="next")
    pid = emu.add_dataset()
    job_id = emu.add_job("archive", [pid])
    answer = requests.get(emu.url + "/emulator/jobs", timeout=10).json()
    assert answer["jobs"] == [
        {"id": job_id, "type": "archive", "statusCode": "jobSubmitted",
         "createdAt": emu.job(job_id)["createdAt"], "updatedAt": emu.job(job_id)["updatedAt"]}
    ]  # fmt: skip
