"""A reverse proxy in maintenance mode answers ``200 text/html`` for a while (issue 16.3):
every job still finishes successfully, none is left inProgress, nothing is reported to
SciCat that it did not receive."""

from __future__ import annotations

import time

import pytest

from archiver import runtime

from .conftest import check_all, seed_many, submit_many, wait_all
from .proxy import Proxy

pytestmark = pytest.mark.faults


def test_a_maintenance_page_for_a_while_is_ridden_out(pipeline_factory):
    pipe = pipeline_factory(flavour="next", max_retries=None, retry_backoff_max=1, retry_window=120)
    proxy = Proxy(pipe.emulator.url)
    try:
        runtime.configure(pipe.settings.replace(scicat_url=proxy.url))  # SciCat behind it
        pids = seed_many(pipe, 30)
        job_ids = submit_many(pipe, pids[:10])
        time.sleep(0.3)  # some chains are under way when the proxy switches to its page
        proxy.answer(10_000_000)
        job_ids += submit_many(pipe, pids[10:])
        time.sleep(10)
        proxy.clear()
        wait_all(pipe, job_ids, timeout=120)
        check_all(pipe, job_ids, pids, expect="finishedSuccessful")
    finally:
        proxy.stop()
