"""The event consumer: inbox for idempotency, ack after commit, bounded retries, then the dead-letter queue."""

from __future__ import annotations

import json
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any

from kombu import Connection, Consumer, Message
from opentelemetry import trace
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from renewals_shared.bus import SUBSCRIPTIONS, BatchPublisher, Topology, connect
from renewals_shared.db import INBOX
from renewals_shared.events import Event, InvalidEvent, parse_event
from renewals_shared.observability import (
    TRACE_CONTEXT_KEY,
    carrier_from_headers,
    correlation_id_var,
    get_logger,
    metrics,
    span_from,
)

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
        self._trace_carriers: dict[str, dict[str, str]] = {}

    @property
    def event_types(self) -> set[str]:
        return set(self.handlers) | set(SUBSCRIPTIONS.get(self.service, ()))

    def declare(self) -> None:
        with connect(self.broker_url) as connection:
            self.topology.declare(connection, self.service, self.event_types)

    # -- a batch of messages ------------------------------------------------------------------------------
    def handle_batch(self, messages: list[Message]) -> None:
        """Apply every message of the batch in one transaction, then ack them all.

        One commit per batch instead of per message is what makes the consumer keep up with the relay. A
        handler that raises costs the batch a second pass with a savepoint per event, so only that message is
        retried or dead-lettered.
        A database outage (the commit or a statement fails to reach PostgreSQL) is not the message's fault:
        the whole batch is tried again after a pause, unacked, for as long as it takes.
        """
        pending: list[tuple[Message, dict[str, Any], int, Event | None, str | None]] = []
        self._trace_carriers = {}
        for message in messages:
            envelope = decode_envelope(message)
            attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
            carrier = carrier_from_headers(message.headers)
            if carrier and isinstance(envelope, dict):
                envelope[TRACE_CONTEXT_KEY] = carrier  # a retry or a dead letter keeps the trace
                self._trace_carriers[str(envelope.get("id"))] = carrier
            try:
                pending.append((message, envelope, attempts, parse_event(envelope), None))
            except InvalidEvent as exc:
                pending.append((message, envelope, attempts, None, f"{type(exc).__name__}: {exc}"))

        delay = 0.2
        while True:
            try:
                outcomes = self._apply_all([event for _m, _e, _a, event, _err in pending])
                break
            except DBAPIError as exc:
                if not exc.connection_invalidated and not isinstance(exc, OperationalError | InterfaceError):
                    raise
                log.warning("database unavailable; retrying the batch", error=str(exc)[:200], retry_in=delay)
                if self._stop.wait(delay):
                    return  # unacked: the broker hands the batch to the next consumer
                delay = min(delay * 2, 5.0)

        for (_message, envelope, attempts, event, invalid), outcome in zip(pending, outcomes, strict=True):
            if invalid is not None:
                self._dead_letter(envelope, attempts, invalid)
            elif isinstance(outcome, str):
                self._retry_or_dead_letter(envelope, event, attempts, outcome)  # type: ignore[arg-type]
            else:
                metrics.events_consumed.labels(event.type, "applied" if outcome else "duplicate").inc()  # type: ignore[union-attr]
        for message, *_ in pending:
            message.ack()

    def _apply_all(self, events: list[Event | None]) -> list[bool | str | None]:
        """Per event: True applied, False already applied (inbox hit), a string the handler's error.

        The fast path records the whole batch's inbox rows in one statement and runs the handlers without
        savepoints; only when a handler fails is the batch redone with a savepoint per event.
        """
        try:
            return self._apply_fast(events)
        except DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
                raise
        except Exception:  # noqa: BLE001, S110 - isolated and reported per event below
            pass
        return self._apply_isolated(events)

    def _apply_fast(self, events: list[Event | None]) -> list[bool | str | None]:
        valid = [event for event in events if event is not None]
        with Session(self.engine) as session, session.begin():
            new_ids: set[str] = set()
            if valid:
                new_ids = set(
                    session.execute(
                        insert(INBOX)
                        .values(
                            [{"consumer": self.consumer_name, "event_id": e.id, "event_type": e.type} for e in valid]
                        )
                        .on_conflict_do_nothing()
                        .returning(INBOX.c.event_id)
                    ).scalars()
                )
            outcomes: list[bool | str | None] = []
            for event in events:
                if event is None:
                    outcomes.append(None)
                    continue
                applied = event.id in new_ids
                new_ids.discard(event.id)  # a duplicate inside the same batch applies once
                if applied:
                    self._run_handler(event, session)
                outcomes.append(applied)
        return outcomes

    def _run_handler(self, event: Event, session: Session) -> None:
        handler = self.handlers.get(event.type)
        if handler is None:
            return
        token = correlation_id_var.set(event.correlation_id or event.id)
        carrier = self._trace_carriers.get(event.id)
        try:
            # a span only for an event that carries a trace (the producer's work was traced): no cost otherwise
            with (
                span_from(
                    carrier,
                    f"consume {event.type}",
                    trace.SpanKind.CONSUMER,
                    {"messaging.consumer.group.name": self.consumer_name, "messaging.message.id": event.id},
                )
                if carrier
                else nullcontext()
            ):
                handler(event, session)
        finally:
            correlation_id_var.reset(token)

    def _apply_isolated(self, events: list[Event | None]) -> list[bool | str | None]:
        outcomes: list[bool | str | None] = []
        with Session(self.engine) as session, session.begin():
            for event in events:
                if event is None:
                    outcomes.append(None)
                    continue
                savepoint = session.begin_nested()
                try:
                    outcomes.append(self._apply(event, session))
                    savepoint.commit()
                except DBAPIError as exc:
                    savepoint.rollback()
                    if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
                        raise
                    outcomes.append(_describe(exc))
                except Exception as exc:  # noqa: BLE001 - a handler failure is retried, then dead-lettered
                    savepoint.rollback()
                    outcomes.append(_describe(exc))
        return outcomes

    def _apply(self, event: Event, session: Session) -> bool:
        inserted = session.execute(
            insert(INBOX)
            .values(consumer=self.consumer_name, event_id=event.id, event_type=event.type)
            .on_conflict_do_nothing()
            .returning(INBOX.c.event_id)
        ).first()
        if inserted is None:
            return False
        self._run_handler(event, session)
        return True

    def _retry_or_dead_letter(self, envelope: dict[str, Any], event: Event, attempts: int, error: str) -> None:
        log.warning(
            "event handler failed",
            event_type=event.type,
            event_id=event.id,
            correlation_id=event.correlation_id,
            attempt=attempts,
            error=error,
        )
        if attempts >= self.max_attempts:
            self._dead_letter(envelope, attempts, error)
            return
        self._stop.wait(min(self.retry_delay * attempts, 5.0))
        self._publisher.publish(
            [envelope],
            exchange=self.topology.retry.name,
            routing_key=self.topology.queue_name(self.service),
            headers={ATTEMPTS_HEADER: attempts, ERROR_HEADER: error[:500]},
        )
        metrics.events_consumed.labels(event.type, "retried").inc()

    def _dead_letter(self, envelope: dict[str, Any], attempts: int, error: str) -> None:
        event_type = envelope.get("type", "unknown") if isinstance(envelope, dict) else "unknown"
        log.error(
            "event dead-lettered",
            event_type=event_type,
            event_id=envelope.get("id") if isinstance(envelope, dict) else None,
            correlation_id=envelope.get("correlation_id") if isinstance(envelope, dict) else None,
            error=error,
        )
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
        queue = self.topology.declare(connection, self.service, self.event_types)
        channel = connection.channel()
        batch: list[Message] = []
        with Consumer(
            channel,
            queues=[queue],
            callbacks=[lambda _body, message: batch.append(message)],
            accept=["json"],
            # a body kombu cannot decode joins the batch too: handle_batch dead-letters it (decode_envelope)
            # instead of the error escaping drain_events and the message blocking the queue until the
            # broker's delivery limit
            on_decode_error=lambda message, _exc: batch.append(message),
        ) as consumer:
            consumer.qos(prefetch_count=self.prefetch)
            log.info("consuming", queue=queue.name, event_types=sorted(self.event_types))
            while not stop.is_set():
                try:
                    # Wait for a first message, then take whatever else is already here, up to the prefetch.
                    connection.drain_events(timeout=0.005 if batch else 1.0)
                    if len(batch) < self.prefetch:
                        continue
                except TimeoutError:
                    if not batch:
                        connection.heartbeat_check()
                        continue
                messages, batch[:] = list(batch), []
                self.handle_batch(messages)


def decode_envelope(message: Message) -> dict[str, Any]:
    """The message's JSON envelope. A body that is not a JSON object becomes a stand-in envelope (id, type, the
    body as text) that fails validation and so goes straight to the dead-letter queue, instead of raising out of
    the consume loop and blocking the queue until the broker's delivery limit."""
    try:
        payload = message.payload
        envelope = payload if isinstance(payload, dict | list) else json.loads(payload)
        if isinstance(envelope, dict):
            return envelope
    except Exception:  # noqa: BLE001, S110 - undecodable in any way: handled below
        pass
    body = message.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes | bytearray) else str(body)
    return {
        "id": str((message.properties or {}).get("message_id") or uuid.uuid4()),
        "type": str((message.headers or {}).get("event_type") or "unknown"),
        "undecodable_body": text[:10_000],
    }


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()[:2000]
