"""``archiver demo``: the whole system on one machine, with no SciCat to install.

Starts the SciCat emulator (backend-next 5.x behaviour, publishing on create and update like
scicatlive), an embedded Celery worker and the bridge; ingests the example datasets; submits
an archive job and then a retrieve job through the emulator's API, so the real intake path
is used; prints every change of the jobs and datasets as it happens, then a summary. Uses
the configured RabbitMQ when one answers (on queues of its own), otherwise kombu's
in-memory transport. Everything it started is stopped and its queues deleted at the end.
"""

from __future__ import annotations

import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kombu

from archiver.settings import Settings

Echo = Callable[[str], None]

#: The example datasets shipped with the repository.
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "datasets"
ADMIN = ("admin", "2jf70TPNZsS")


@dataclass(frozen=True)
class DemoBroker:
    url: str
    embedded: bool
    display: str


def choose_broker(settings: Settings, timeout: float = 2.0) -> DemoBroker:
    """The configured RabbitMQ if it answers within ``timeout`` seconds, else in-memory."""
    try:
        with kombu.Connection(settings.broker, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
        return DemoBroker(settings.broker, False, f"RabbitMQ at {settings.broker_display}")
    except Exception:  # noqa: BLE001 - any failure: fall back to the embedded broker
        return DemoBroker(
            "memory://",
            True,
            f"an embedded in-memory broker (no RabbitMQ answered at {settings.broker_display})",
        )


def demo_settings(base: Settings, broker: DemoBroker, scicat_url: str, tag: str) -> Settings:
    """Settings of the demo's own worker, bridge and queues (never the production ones)."""
    return base.replace(
        scicat_url=scicat_url,
        scicat_user=ADMIN[0],
        scicat_password=ADMIN[1],
        scicat_token=None,
        scicat_api="next",
        broker_url=broker.url,
        job_exchange=f"archiver.demo.{tag}",
        job_queue=f"archiver.demo.{tag}.jobs",
        job_routing_key="jobqueuev4",
        quarantine_queue=f"archiver.demo.{tag}.quarantine",
        task_queue=f"archiver.demo.{tag}.tasks",
        max_retries=3,
        retry_backoff_max=2,
    )


@contextmanager
def running_pipeline(settings: Settings) -> Iterator[Any]:
    """Worker (4 threads) and bridge for ``settings``, stopped on exit."""
    from celery.contrib.testing.worker import start_worker

    from archiver import app, runtime
    from archiver.configure import apply
    from archiver.intake.bridge import Bridge

    apply(settings, app)
    # No monitoring events and no remote control: they would declare Celery's exchanges
    # (celeryev, celery.pidbox, reply.celery.pidbox), shared by every Celery program on the
    # virtual host and so not the demo's to delete afterwards.
    app.conf.update(
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_enable_remote_control=False,
    )
    bridge = Bridge(app, settings)
    thread = threading.Thread(target=bridge.run, name="bridge", daemon=True)
    with start_worker(
        app,
        pool="threads",
        concurrency=4,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=10,
    ):
        thread.start()
        try:
            yield bridge
        finally:
            bridge.should_stop = True
            thread.join(10)
    runtime.configure(None)


def example_folders(scratch: Path) -> list[Path]:
    """The shipped example datasets, or small generated ones if they are not there."""
    if EXAMPLES.is_dir():
        found = sorted(p for p in EXAMPLES.iterdir() if (p / "transfer.yaml").is_file())
        if found:
            return found
    folders = []
    for i in range(2):
        folder = scratch / f"example-{i}"
        (folder / "raw").mkdir(parents=True)
        for n in range(3):
            (folder / "raw" / f"frame_{n:03d}.dat").write_bytes(bytes([n]) * (1000 + 100 * n))
        (folder / "transfer.yaml").write_text(
            f"datasetName: Demo dataset {i}\ncontactEmail: demo@example.org\n"
            "creationLocation: Demo lab\nownerGroup: demo\n"
            "owners:\n  - name: Demo Owner\n    email: demo@example.org\n"
            "principalInvestigators: [Demo PI]\n"
        )
        folders.append(folder)
    return folders


def cleanup_queues(settings: Settings) -> None:
    """Delete what the demo declared on the broker: its queues and its exchanges (the job
    exchange and the task queue's exchange of the same name)."""
    with kombu.Connection(settings.broker, connect_timeout=2) as conn:
        channel = conn.channel()
        for name in (settings.job_queue, settings.task_queue, settings.quarantine_queue):
            try:
                channel.queue_delete(name)
            except Exception:  # noqa: BLE001 - not declared: nothing to delete
                channel = conn.channel()
        for name in (settings.job_exchange, settings.task_queue):
            try:
                channel.exchange_delete(name)
            except Exception:  # noqa: BLE001 - not declared: nothing to delete
                channel = conn.channel()


def run_demo(base: Settings, echo: Echo, pause: float = 0.5, timeout: float = 120.0) -> int:
    """Run the demo; return 0 when both jobs finished successfully."""
    from archiver.emulator import Emulator
    from archiver.scicat import connect

    broker = choose_broker(base)
    tag = uuid.uuid4().hex[:8]
    echo("scicat-archiver demo")
    echo(f"  broker:  {broker.display}")
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="archiver-demo-")))
        probe = demo_settings(base, broker, "", tag)
        emulator = stack.enter_context(
            Emulator(
                flavour="next",
                publish_on=("create", "update"),
                amqp_url=broker.url,
                exchange=probe.job_exchange,
                queue=probe.job_queue,
                routing_key=probe.job_routing_key,
            )
        )
        settings = demo_settings(base, broker, emulator.url, tag).replace(simulated_seconds=pause)
        if not broker.embedded:
            stack.callback(cleanup_queues, settings)
        echo(f"  SciCat:  emulator of backend-next 5.x at {emulator.url} (admin account)")
        stack.enter_context(running_pipeline(settings))
        echo(f"  worker:  embedded, 4 threads; bridge consuming {settings.job_queue}")
        client = stack.enter_context(connect(settings))
        from archiver.demo_story import tell_story

        return tell_story(client, example_folders(scratch), echo, timeout)
    return 1
