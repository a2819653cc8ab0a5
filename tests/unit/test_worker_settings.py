"""The worker's Celery settings that keep work through a broker restart (issue 16 case 8).

A busy prefork worker died on a broker restart: the setting
``worker_cancel_long_running_tasks_on_connection_loss`` terminated the busy pool processes,
and on reconnect the pool re-registered a terminated process whose sentinel fd was already
gone. The second test shows the part of Celery and kombu (as installed) that turns that into
``Unrecoverable error: ValueError('file descriptor is None')``; while it holds, running steps
must not be cancelled.
"""

from __future__ import annotations

import pytest
from celery.concurrency.asynpool import iterate_file_descriptors_safely
from kombu.asynchronous import Hub

import celeryconfig
from archiver.settings import Settings


def test_running_steps_survive_a_lost_broker_connection_and_are_acked_late():
    conf = celeryconfig.from_settings(Settings())
    assert conf["worker_cancel_long_running_tasks_on_connection_loss"] is False
    # A step whose ack was lost with the connection is redelivered, and one whose worker
    # died is requeued: both run again (steps are idempotent).
    assert conf["task_acks_late"] is True
    assert conf["task_reject_on_worker_lost"] is True
    # One unacknowledged step per process: a dying worker hands back little.
    assert conf["worker_prefetch_multiplier"] == 1
    # Reconnect for as long as the broker is away; compose restarts a worker that exits.
    assert conf["broker_connection_max_retries"] is None
    assert conf["broker_connection_retry_on_startup"] is True


def test_the_prefork_pool_still_dies_on_a_process_whose_fd_is_gone():
    # What AsynPool._track_child_process does on reconnect for a process it untracked
    # (its _sentinel_poll set to None): the error escapes, the worker stops.
    hub = Hub()
    try:
        with pytest.raises(ValueError, match="file descriptor is None"):
            iterate_file_descriptors_safely([None], None, hub.add_reader, lambda *a: None)
    finally:
        hub.close()
