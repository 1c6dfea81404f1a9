"""The event consumer: inbox for idempotency, ack after commit, bounded retries, then the dead-letter queue."""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from kombu import Connection, Consumer, Message
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from renewals_shared.bus import BatchPublisher, Topology, connect
from renewals_shared.db import INBOX
from renewals_shared.events import Event, InvalidEvent, parse_event
from renewals_shared.observability import correlation_id_var, get_logger, metrics

Handler = Callable[[Event, Session], None]
ATTEMPTS_HEADER = "x-renewals-attempts"
ERROR_HEADER = "x-renewals-error"
log = get_logger(__name__)


class EventConsumer:
    """Consumes one service's queue. A handler runs in the transaction that records the inbox row.

    Outcomes per message, each acked only after what it promises is durable:
    - applied (commit, then ack) or already applied (inbox hit: ack);
    - failed: re-sent to the queue through the retry exchange with the attempt count, after a short pause
      (confirmed), then acked; after `max_attempts` the message goes to the dead-letter queue with the error;
    - unreadable or an unknown major version: straight to the dead-letter queue.
    """

    def __init__(
        self,
        *,
        service: str,
        broker_url: str,
        topology: Topology,
        engine: Engine,
        handlers: Mapping[str, Handler],
        max_attempts: int = 5,
        prefetch: int = 10,
        retry_delay: float = 0.5,
        visibility_timeout: int = 60,
    ) -> None:
        self.service = service
        self.broker_url = broker_url
        self.topology = topology
        self.engine = engine
        self.handlers = dict(handlers)
        self.max_attempts = max_attempts
        self.prefetch = prefetch
        self.retry_delay = retry_delay
        self.visibility_timeout = visibility_timeout
        self.consumer_name = service
        self._publisher = BatchPublisher(broker_url, topology)
        self._stop = threading.Event()

    def declare(self) -> None:
        with connect(self.broker_url) as connection:
            self.topology.declare(connection, self.service, self.handlers)

    # -- one message ------------------------------------------------------------------------------------
    def handle_message(self, body: Any, message: Message) -> None:
        envelope = body if isinstance(body, dict) else json.loads(body)
        headers = message.headers or {}
        attempts = int(headers.get(ATTEMPTS_HEADER, 0)) + 1
        try:
            event = parse_event(envelope)
        except InvalidEvent as exc:
            self._dead_letter(envelope, attempts, f"{type(exc).__name__}: {exc}")
            message.ack()
            return
        token = correlation_id_var.set(event.correlation_id or event.id)
        try:
            applied = self._apply(event)
        except Exception as exc:  # noqa: BLE001 - any failure is retried, then dead-lettered; never acked away
            error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
            log.warning("event handler failed", event_type=event.type, event_id=event.id, attempt=attempts, error=error)
            if attempts >= self.max_attempts:
                self._dead_letter(envelope, attempts, error)
            else:
                self._stop.wait(self.retry_delay * attempts)
                self._publisher.publish(
                    [envelope],
                    exchange=self.topology.retry.name,
                    routing_key=self.topology.queue_name(self.service),
                    headers={ATTEMPTS_HEADER: attempts, ERROR_HEADER: error[:500]},
                )
                metrics.events_consumed.labels(event.type, "retried").inc()
            message.ack()
            return
        finally:
            correlation_id_var.reset(token)
        metrics.events_consumed.labels(event.type, "applied" if applied else "duplicate").inc()
        message.ack()

    def _apply(self, event: Event) -> bool:
        handler = self.handlers.get(event.type)
        with Session(self.engine) as session, session.begin():
            inserted = session.execute(
                insert(INBOX)
                .values(consumer=self.consumer_name, event_id=event.id, event_type=event.type)
                .on_conflict_do_nothing()
                .returning(INBOX.c.event_id)
            ).first()
            if inserted is None:
                return False
            if handler is not None:
                handler(event, session)
        return True

    def _dead_letter(self, envelope: dict[str, Any], attempts: int, error: str) -> None:
        event_type = envelope.get("type", "unknown") if isinstance(envelope, dict) else "unknown"
        log.error("event dead-lettered", event_type=event_type, event_id=envelope.get("id"), error=error)
        self._publisher.publish(
            [envelope],
            exchange=self.topology.dead_letters.name,
            routing_key=self.topology.queue_name(self.service),
            headers={ATTEMPTS_HEADER: attempts, ERROR_HEADER: error[:2000]},
        )
        metrics.events_dead_lettered.labels(event_type).inc()

    # -- the loop -----------------------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or self._stop
        self._stop = stop
        while not stop.is_set():
            try:
                with connect(self.broker_url, visibility_timeout=self.visibility_timeout) as connection:
                    self._consume(connection, stop)
            except Exception as exc:  # noqa: BLE001 - reconnect after any broker failure
                log.warning("consumer connection lost; reconnecting", error=str(exc)[:300])
                stop.wait(1.0)
        self._publisher.close()

    def _consume(self, connection: Connection, stop: threading.Event) -> None:
        queue = self.topology.declare(connection, self.service, self.handlers)
        channel = connection.channel()
        with Consumer(channel, queues=[queue], callbacks=[self.handle_message], accept=["json"]) as consumer:
            consumer.qos(prefetch_count=self.prefetch)
            log.info("consuming", queue=queue.name, event_types=sorted(self.handlers))
            while not stop.is_set():
                try:
                    connection.drain_events(timeout=1.0)
                except TimeoutError:
                    connection.heartbeat_check()
