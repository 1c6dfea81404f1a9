"""The event bus on kombu: topology, a batching publisher with confirms, and the queue declarations.

Topology for namespace ``ns`` (one per deployment; tests use a fresh one):
- ``ns.events``: durable topic exchange, routing key = event type.
- ``ns.<service>``: one durable queue per consuming service (quorum on RabbitMQ), bound to the types it handles.
- ``ns.retry`` / ``ns.dlx``: direct exchanges routing by queue name back to a service queue (retries the
  consumer schedules itself) or to its dead-letter queue ``ns.<service>.dlq``.

RabbitMQ additionally dead-letters a message after ``x-delivery-limit`` redeliveries (a handler that crashes the
process every time); the consumer's own attempt counter covers handlers that raise, on both transports.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kombu import Connection, Exchange, Queue

from renewals_shared.observability import TRACE_CONTEXT_KEY, carrier_from_headers

DELIVERY_LIMIT = 20

# Who consumes what (DESIGN.md section 4). Declared before any event flows: an unbound publish is dropped.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "order": ("extension_link.revoked",),
    "token": ("order.paid", "license.maintenance_extended"),
    "notifier": (
        "license.registered",
        "license.maintenance_extended",
        "order.paid",
        "reseller.registered",
        "reseller.approved",
        "reseller.rejected",
        "reseller.password_reset_requested",
        "reseller.change_requested",
    ),
}
CONTENT_TYPE = "application/json"


class PublishFailed(Exception):
    pass


def is_amqp(broker_url: str) -> bool:
    return broker_url.split("://", 1)[0] in ("amqp", "amqps", "pyamqp")


def connect(broker_url: str, *, visibility_timeout: int = 60) -> Connection:
    """A kombu connection; on Redis, an unacked message returns to its queue after `visibility_timeout` s."""
    options: dict[str, Any] = {}
    if not is_amqp(broker_url):
        options = {"visibility_timeout": visibility_timeout, "unacked_restore_throttle": 1}
    return Connection(broker_url, transport_options=options, heartbeat=0 if not is_amqp(broker_url) else 30)


@dataclass(frozen=True)
class Topology:
    namespace: str
    amqp: bool

    @property
    def events(self) -> Exchange:
        return Exchange(f"{self.namespace}.events", type="topic", durable=True)

    @property
    def retry(self) -> Exchange:
        return Exchange(f"{self.namespace}.retry", type="direct", durable=True)

    @property
    def dead_letters(self) -> Exchange:
        return Exchange(f"{self.namespace}.dlx", type="direct", durable=True)

    def queue_name(self, service: str) -> str:
        return f"{self.namespace}.{service}"

    def dead_letter_queue_name(self, service: str) -> str:
        return f"{self.namespace}.{service}.dlq"

    def _arguments(self, service: str, *, dead_letter_queue: bool) -> dict[str, Any] | None:
        if not self.amqp:
            return None  # the Redis transport has no queue arguments; the consumer counts attempts itself
        arguments: dict[str, Any] = {"x-queue-type": "quorum"}
        if not dead_letter_queue:
            arguments.update(
                {
                    "x-dead-letter-exchange": self.dead_letters.name,
                    "x-dead-letter-routing-key": self.queue_name(service),
                    "x-delivery-limit": DELIVERY_LIMIT,
                }
            )
        return arguments

    def queue(self, service: str, event_types: Iterable[str]) -> Queue:
        name = self.queue_name(service)
        bindings = [dict(exchange=self.events, routing_key=t) for t in sorted(set(event_types))]
        bindings.append(dict(exchange=self.retry, routing_key=name))
        from kombu import binding

        return Queue(
            name,
            bindings=[binding(**b) for b in bindings],
            durable=True,
            queue_arguments=self._arguments(service, dead_letter_queue=False),
        )

    def dead_letter_queue(self, service: str) -> Queue:
        return Queue(
            self.dead_letter_queue_name(service),
            exchange=self.dead_letters,
            routing_key=self.queue_name(service),
            durable=True,
            queue_arguments=self._arguments(service, dead_letter_queue=True),
        )

    def declare(self, connection: Connection, service: str, event_types: Iterable[str]) -> Queue:
        """Declare exchanges, the service's queue, its bindings and its dead-letter queue; idempotent."""
        channel = connection.default_channel
        for exchange in (self.events, self.retry, self.dead_letters):
            exchange(channel).declare()
        queue = self.queue(service, event_types)(channel)
        queue.declare()
        self.dead_letter_queue(service)(channel).declare()
        return queue


def message_properties(envelope: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "message_id": envelope["id"],
        "correlation_id": envelope.get("correlation_id") or envelope["id"],
        "type": envelope["type"],
        "headers": {"event_type": envelope["type"], **(headers or {})},
    }


def wire_message(envelope: dict[str, Any], headers: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """(body, properties): a trace context stored beside the envelope travels as W3C headers, not in the body."""
    trace = envelope.get(TRACE_CONTEXT_KEY)
    if trace is not None:
        envelope = {k: v for k, v in envelope.items() if k != TRACE_CONTEXT_KEY}
        headers = {**carrier_from_headers(trace), **(headers or {})}
    return json.dumps(envelope), message_properties(envelope, headers)


class BatchPublisher:
    """Publishes envelopes and returns only once the broker holds every one of them.

    On RabbitMQ the whole batch is sent before waiting for the confirms (one round trip per batch, not per
    message); a nack or a missing confirm raises, and the caller keeps the batch for a later attempt.
    On Redis an LPUSH that returned is stored (append-only file), so no confirm exists or is needed.
    """

    def __init__(self, broker_url: str, topology: Topology, *, confirm_timeout: float = 10.0) -> None:
        self.broker_url = broker_url
        self.topology = topology
        self.confirm_timeout = confirm_timeout
        self._connection: Connection | None = None
        self._channel: Any = None
        self._lock = threading.Lock()
        self._next_tag = 1
        self._unconfirmed: set[int] = set()
        self._nacked = False

    def close(self) -> None:
        with self._lock:
            self._reset()

    def _reset(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail in many ways
                self._connection.release()
        self._connection = None
        self._channel = None

    def _ensure_channel(self) -> Any:
        if self._channel is not None:
            return self._channel
        connection = connect(self.broker_url)
        connection.connect()
        channel = connection.channel()
        if self.topology.amqp:
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
        self.topology.events(channel).declare()
        self._connection, self._channel = connection, channel
        self._next_tag, self._unconfirmed, self._nacked = 1, set(), False
        return channel

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._unconfirmed = {tag for tag in self._unconfirmed if tag > delivery_tag}
        else:
            self._unconfirmed.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._nacked = True

    def publish(
        self,
        envelopes: Sequence[dict[str, Any]],
        *,
        exchange: str | None = None,
        routing_key: str | None = None,
        headers: dict[str, Any] | None = None,
    ) -> None:
        if not envelopes:
            return
        with self._lock:
            try:
                self._publish(envelopes, exchange, routing_key, headers)
            except Exception as exc:
                self._reset()
                raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc

    def _publish(
        self,
        envelopes: Sequence[dict[str, Any]],
        exchange: str | None,
        routing_key: str | None,
        headers: dict[str, Any] | None,
    ) -> None:
        channel = self._ensure_channel()
        exchange_name = exchange if exchange is not None else self.topology.events.name
        if self.topology.amqp:
            for envelope in envelopes:
                body, props = wire_message(envelope, headers)
                message = channel.prepare_message(
                    body,
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    headers=props.pop("headers"),
                    properties={"delivery_mode": 2, **props},
                )
                channel.basic_publish(message, exchange=exchange_name, routing_key=routing_key or envelope["type"])
                # Delivery tags count every publish on this channel from 1, so the tag is known in advance.
                self._unconfirmed.add(self._next_tag)
                self._next_tag += 1
            deadline = time.monotonic() + self.confirm_timeout
            while self._unconfirmed and not self._nacked:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PublishFailed(f"no confirm for {len(self._unconfirmed)} message(s)")
                self._connection.drain_events(timeout=remaining)  # type: ignore[union-attr]
            if self._nacked:
                raise PublishFailed("broker nacked a message")
        else:
            from kombu import Producer

            producer = Producer(channel)
            for envelope in envelopes:
                body, props = wire_message(envelope, headers)
                producer.publish(
                    body,
                    exchange=exchange_name,
                    routing_key=routing_key or envelope["type"],
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=2,
                    retry=False,
                    **props,
                )
