"""The bridge: consumes SciCat's job queue and starts one Celery chain per new job.

A kombu ``ConsumerMixin`` (kombu owns the reconnect loop). The queue and exchange are
declared exactly as the SciCat backend declares them (durable queue without arguments,
durable topic exchange), so neither side's declaration ever fails. Bodies come without a
content type and are parsed here. A message is acknowledged only after its chain was
confirmed by the broker, after it was recognised as not new work, or after it was copied to
the quarantine queue with the reason. If publishing fails it is returned to the queue.

Losing the broker, or being refused by it, gives one log line per attempt (no traceback),
with a growing pause between attempts. :meth:`Bridge.stop` (the CLI calls it on SIGTERM
and Ctrl-C) ends the bridge within a second while it consumes; while it has no connection
it ends the bridge at once, in the middle of a retry pause.

With a SciCat URL configured the bridge also runs the reconciler
(:mod:`archiver.intake.reconcile`) in a thread, every ``ARCHIVER_RECONCILE_INTERVAL`` s.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Celery
from kombu import Connection, Exchange, Queue
from kombu.mixins import ConsumerMixin

from archiver.ids import escape
from archiver.intake import reconcile
from archiver.intake.broker_login import is_refused, refusal_line
from archiver.intake.handler import JobIntake, quarantine
from archiver.settings import Settings

logger = logging.getLogger("archiver.bridge")

#: Unacknowledged job messages the bridge holds at once.
PREFETCH = 10
#: Pause before a message whose chain could not be published is returned to the queue.
REQUEUE_PAUSE = 1.0
#: First and longest pause, in seconds, between two attempts after a refused login.
REFUSED_PAUSE = (2.0, 60.0)


class BridgeStopped(Exception):
    """Raised inside the bridge's thread to end it while it waits for the broker."""


def job_queue(settings: Settings) -> Queue:
    """The job queue, declared exactly like the SciCat backend declares it."""
    exchange = Exchange(settings.job_exchange, type="topic", durable=True)
    return Queue(
        settings.job_queue, exchange=exchange, routing_key=settings.job_routing_key, durable=True
    )


class MessageHandler:
    """Acknowledgement policy around :class:`JobIntake` for one kombu message.

    Quarantine copies go out on ``publish_connection``, never on the consuming connection:
    waiting for a publisher confirm there would let py-amqp deliver the next messages into
    this handler while it is still handling one (re-entrant calls that stall the consumer).
    """

    def __init__(
        self, intake: JobIntake, settings: Settings, publish_connection: Connection
    ) -> None:
        self.intake = intake
        self.settings = settings
        self.publish_connection = publish_connection
        self.counts = {"started": 0, "dropped": 0, "quarantine": 0, "requeued": 0}

    def _quarantine(self, message: Any, reason: str) -> None:
        try:
            quarantine(self.publish_connection.default_channel, self.settings, message, reason)
        except Exception:
            self.publish_connection.close()  # a broken connection is opened again next time
            raise

    def __call__(self, message: Any) -> None:
        try:
            outcome, reason = self.intake.handle_body(message.body)
            if outcome == "quarantine":
                self._quarantine(message, reason)
                logger.warning("unusable job message quarantined: %s", escape(reason))
        except Exception as exc:  # noqa: BLE001 - the broker refused the chain or the copy
            logger.error("could not handle the message (%s); it goes back to the queue", exc)
            self.counts["requeued"] += 1
            time.sleep(REQUEUE_PAUSE)
            # If the connection itself is gone this raises too, and kombu reconnects; the
            # broker then redelivers the unacknowledged message.
            message.requeue()
            return
        self.counts[outcome] += 1
        message.ack()


class Bridge(ConsumerMixin):
    """The bridge process: ``Bridge(app, settings).run()`` until :attr:`should_stop`."""

    #: Set to end :meth:`run` (kombu's ConsumerMixin reads it).
    should_stop: bool = False

    def __init__(self, app: Celery, settings: Settings, connection: Connection | None = None):
        self.app = app
        self.settings = settings
        self.connection = connection or Connection(
            settings.broker, transport_options={"confirm_publish": True}, heartbeat=30
        )
        self.handler = MessageHandler(JobIntake(app, settings), settings, self.connection.clone())
        self.ready = False
        #: Started with :meth:`run` when ARCHIVER_RECONCILE_INTERVAL > 0 and SciCat is set.
        self.reconciler = reconcile.background(app, settings)

    def run(self, _tokens: int = 1, **kwargs: Any) -> None:
        """Consume until :attr:`should_stop`, reconnecting as needed; then let go."""
        errors = self.connection.connection_errors + self.connection.channel_errors
        refused_pause = REFUSED_PAUSE[0]
        reconcile.start_thread(self.reconciler)
        try:
            while not self.should_stop:
                try:
                    for _ in self.consume(limit=None, **kwargs):
                        refused_pause = REFUSED_PAUSE[0]
                except errors as exc:
                    self.ready = False
                    if self.should_stop:
                        break
                    if not is_refused(exc):
                        logger.warning("connection to the broker lost (%s); reconnecting", exc)
                        time.sleep(1.0)
                        continue
                    line = refusal_line(exc, self.settings.broker_display)
                    logger.error("%s; retrying in %.0fs", line, refused_pause)
                    time.sleep(refused_pause)
                    refused_pause = min(refused_pause * 2, REFUSED_PAUSE[1])
        except BridgeStopped:
            pass
        finally:
            self.ready = False
            if self.reconciler is not None:
                self.reconciler.stop()
            self.handler.publish_connection.release()

    def stop(self) -> None:
        """Ask the bridge to stop. Called from a signal handler: while the bridge has no
        connection (it waits to retry) or on a second call, raises :class:`BridgeStopped`
        right away, which ends :meth:`run` from inside whatever pause it is in."""
        again = self.should_stop
        self.should_stop = True
        if again or not self.ready:
            raise BridgeStopped

    def get_consumers(self, consumer_cls: Any, channel: Any) -> list[Any]:
        return [
            consumer_cls(
                queues=[job_queue(self.settings)],
                on_message=self.handler,
                prefetch_count=PREFETCH,
                accept=None,
            )
        ]

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kw: Any) -> None:
        self.ready = True
        logger.info(
            "bridge consuming %s (exchange %s, key %s) on %s",
            self.settings.job_queue,
            self.settings.job_exchange,
            self.settings.job_routing_key,
            self.settings.broker_display,
        )

    def on_connection_error(self, exc: BaseException, interval: float) -> None:
        self.ready = False
        logger.warning("broker unreachable (%s); retrying in %.0fs", exc, interval)

    def on_connection_revived(self) -> None:
        logger.info("connected to the broker")
