"""Celery configuration of the archiver, read by ``archiver.celery_app``.

Everything comes from the archiver settings (environment variables, see README). Only
choices that differ from Celery's defaults are set, each with the reason. Tests and the demo
build the same configuration for other settings with :func:`from_settings`.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from archiver import runtime
from archiver.errors import ConfigError
from archiver.settings import Settings

#: 0 + 1 + 2 + 3 + 4 + 16 x 5 s = 90 s of retrying before a publish gives up (the least).
PUBLISH_RETRY_POLICY = {"max_retries": 20, "interval_start": 0, "interval_step": 1,
                        "interval_max": 5}  # fmt: skip


def publish_retry_policy(window: float) -> dict[str, Any]:
    """Publishes retry through a broker outage for about ``window`` seconds (at least 90 s):
    the broker's share of the time budget every transient error gets (ARCHIVER_RETRY_WINDOW)."""
    tries = max(PUBLISH_RETRY_POLICY["max_retries"], 4 + math.ceil(max(window - 10, 0) / 5))
    return {**PUBLISH_RETRY_POLICY, "max_retries": tries}


#: The periodic fixity audit's task (archiver.audit.periodic).
AUDIT_TASK = "archiver.audit.periodic"


def audit_schedule(interval: float) -> dict[str, Any]:
    """``celery -A archiver beat``'s schedule: the fixity audit every ``interval`` seconds
    (0: nothing). A run no worker started within one interval expires instead of piling up."""
    if interval <= 0:
        return {}
    entry = {"task": AUDIT_TASK, "schedule": interval, "options": {"expires": interval}}
    return {"archiver-fixity-audit": entry}


def from_settings(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for ``settings`` as a dict of Celery setting names."""
    return {
        "broker_url": settings.broker,
        # Compose stacks start RabbitMQ and the worker together: keep retrying at start-up.
        "broker_connection_retry_on_startup": True,
        # Publisher confirms: apply_async() returns only once RabbitMQ has the message, so
        # the bridge acknowledges a job message only after its chain is safely queued.
        "broker_transport_options": {"confirm_publish": True},
        # A publish that meets a broker restart (the bridge queueing a chain, a step queueing
        # the next step) keeps retrying for ARCHIVER_RETRY_WINDOW seconds (at least 90),
        # reconnecting each time, instead of Celery's default 3 quick tries: giving up there
        # drops the rest of a chain whose previous step is already acknowledged
        # (tests/faults/test_broker_restart.py).
        "task_publish_retry_policy": publish_retry_policy(settings.retry_window),
        # JSON only: job contexts are small dicts; never unpickle what arrives on a queue.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # Acknowledge a task after it ran, and requeue it when the worker process dies, so
        # a crash (SIGKILL, OOM) never loses a step. Steps are idempotent for this reason.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # Steps spend most of their time waiting for SciCat: Celery's default of one
        # prefork process per core left a 2-core worker at 13 jobs/s (bench/, 5 ms SciCat
        # latency); 8 processes reach about 35 jobs/s. The threads pool is not used: with
        # publisher confirms its shared producer connections broke under load (bench/).
        "worker_concurrency": settings.worker_concurrency,
        # One message at a time per process: steps are uneven (a SciCat call vs. packing).
        "worker_prefetch_multiplier": 1,
        # Running steps are NOT cancelled when the broker connection is lost. Cancelling
        # terminates the busy pool processes; on reconnect the prefork pool re-registers
        # its processes and one just terminated has no sentinel fd left (None): kombu >= 5.7
        # raises ValueError('file descriptor is None') there, which Celery's
        # iterate_file_descriptors_safely does not catch (OSError/AttributeError only), and
        # the worker dies ("Unrecoverable error", issue 16 case 8; celery/celery#9250). Not
        # cancelling means a step running through a broker restart finishes, its late ack
        # is lost and RabbitMQ redelivers it: the step runs again, which steps are built
        # for (idempotent; storage writes under unique temporary names).
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # Reconnect to the broker for as long as it takes (Celery's default gives up after
        # 100 attempts); a worker that exits anyway is restarted by compose (restart:).
        "broker_connection_max_retries": None,
        # Events for Flower: SENT and STARTED states make a chain readable step by step.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_track_started": True,
        # Our own queue name, so the pipeline never mixes with other Celery apps on the vhost.
        "task_default_queue": settings.task_queue,
        # The pipeline needs no results; a Redis backend may be configured for inspection.
        "result_backend": settings.result_backend,
        "task_ignore_result": settings.result_backend is None,
        # Keep the worker's logging format ours (job id on every line).
        "worker_hijack_root_logger": False,
        # ARCHIVER_AUDIT_INTERVAL > 0: `celery -A archiver beat` queues a read-only audit.
        "beat_schedule": audit_schedule(settings.audit_interval),
    }


try:  # the worker's settings: the very ones its tasks use
    _config = from_settings(runtime.settings())
except ConfigError as _exc:  # one clear line, no traceback, when the worker starts
    sys.exit(f"archiver: configuration error: {_exc}")

globals().update(_config)
