"""Publishing job documents to RabbitMQ exactly as the two publishing backends do.

backend-next (``style="next"``): durable queue without arguments, durable topic exchange,
binding, then a persistent message with *no* content type, encoding or headers; the topology
is re-asserted before every message, like the backend. LoopBack (``style="loopback"``): the
same topology, properties ``content_type=application/json``, ``content_encoding=utf8``,
``type=jobqueue`` and a millisecond ``timestamp``. py-amqp is used directly because kombu's
Producer would add a content type. A broken connection is dropped and re-opened on the next
publish, so a broker restart only costs the messages sent while it was down.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import amqp
import kombu
from kombu.utils.url import parse_url

log = logging.getLogger(__name__)


class PublishError(Exception):
    """The message could not be published (broker down, channel closed ...)."""


class Publisher:
    """Sends job documents to one exchange/queue/routing key. Thread-safe."""

    def __init__(
        self, url: str, exchange: str, queue: str, routing_key: str, style: str = "next"
    ) -> None:
        self.url = url
        self.exchange = exchange
        self.queue = queue
        self.routing_key = routing_key
        self.style = style
        self.count = 0
        self._lock = threading.Lock()
        self._conn: amqp.Connection | None = None
        self._channel: Any = None

    def _connect(self) -> Any:
        if self._channel is None:
            parts = parse_url(self.url)
            host = f"{parts.get('hostname') or '127.0.0.1'}:{parts.get('port') or 5672}"
            conn = amqp.Connection(
                host=host,
                userid=parts.get("userid") or "guest",
                password=parts.get("password") or "guest",
                virtual_host=parts.get("virtual_host") or "/",
                connect_timeout=5,
            )
            conn.connect()
            self._conn, self._channel = conn, conn.channel()
        return self._channel

    def _message(self, doc: dict[str, Any]) -> amqp.Message:
        body = json.dumps(doc, separators=(",", ":")).encode("utf-8")
        if self.style == "loopback":
            return amqp.Message(
                body,
                content_type="application/json",
                content_encoding="utf8",
                delivery_mode=2,
                type="jobqueue",
                timestamp=int(time.time() * 1000),  # rabbot writes Date.now()
            )
        return amqp.Message(body, delivery_mode=2)

    def _send(self, doc: dict[str, Any]) -> None:
        channel = self._connect()
        channel.queue_declare(self.queue, durable=True, auto_delete=False)
        channel.exchange_declare(self.exchange, "topic", durable=True, auto_delete=False)
        channel.queue_bind(self.queue, self.exchange, self.routing_key)
        channel.basic_publish(self._message(doc), self.exchange, self.routing_key)

    def publish(self, doc: dict[str, Any]) -> None:
        """Publish one job; reconnects once on a broken connection, else raises PublishError."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._send(doc)
                    self.count += 1
                    return
                except Exception as exc:  # noqa: BLE001 - any AMQP/socket failure
                    self._drop()
                    if attempt == 2:
                        log.error("emulator: publishing job %s failed: %s", doc.get("id"), exc)
                        raise PublishError(str(exc)) from exc

    def _drop(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.collect()
            except Exception:  # noqa: BLE001 - best effort
                pass

    def close(self) -> None:
        """Close the broker connection (if any)."""
        with self._lock:
            conn = self._conn
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001 - already broken: just drop it
                    pass
            self._drop()


class KombuPublisher(Publisher):
    """Publishes through kombu, for brokers py-amqp cannot reach (``memory://`` in the demo
    when no RabbitMQ answers). Same topology; kombu labels the body as binary data."""

    def __init__(
        self, url: str, exchange: str, queue: str, routing_key: str, style: str = "next"
    ) -> None:
        super().__init__(url, exchange, queue, routing_key, style)
        self._kombu: kombu.Connection | None = None

    def _send(self, doc: dict[str, Any]) -> None:
        if self._kombu is None:
            self._kombu = kombu.Connection(self.url)
        exchange = kombu.Exchange(self.exchange, type="topic", durable=True)
        queue = kombu.Queue(self.queue, exchange, routing_key=self.routing_key, durable=True)
        producer = kombu.Producer(self._kombu.default_channel)
        body = json.dumps(doc, separators=(",", ":")).encode("utf-8")
        producer.publish(
            body,
            exchange=exchange,
            routing_key=self.routing_key,
            declare=[queue],
            delivery_mode=2,
            serializer=None,
            content_type="application/data",
            content_encoding="binary",
        )

    def _drop(self) -> None:
        conn, self._kombu = getattr(self, "_kombu", None), None
        if conn is not None:
            conn.release()


def make_publisher(
    url: str, exchange: str, queue: str, routing_key: str, style: str = "next"
) -> Publisher:
    """A publisher for ``url``: py-amqp for amqp URLs (exact backend bytes), else kombu."""
    if url.split("://", 1)[0] in ("amqp", "amqps", "pyamqp"):
        return Publisher(url, exchange, queue, routing_key, style)
    return KombuPublisher(url, exchange, queue, routing_key, style)
