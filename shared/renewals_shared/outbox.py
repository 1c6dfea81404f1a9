"""Transactional outbox: events are rows written with the state change, published later by the relay."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from opentelemetry import trace as otel_trace
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from renewals_shared.bus import BatchPublisher, PublishFailed
from renewals_shared.db import OUTBOX, HotStatement, queue_write
from renewals_shared.events import Event
from renewals_shared.observability import (
    TRACE_CONTEXT_KEY,
    correlation_id_var,
    get_logger,
    metrics,
    span_from,
    trace_carrier,
)

NOTIFY_CHANNEL = "renewals_outbox"
_INSERT_OUTBOX = HotStatement(insert(OUTBOX), columns=("event_id", "event_type", "envelope"))
_NOTIFY_RELAY = HotStatement(text(f"NOTIFY {NOTIFY_CHANNEL}"))
BACKLOG_MEASURE_INTERVAL = 1.0
log = get_logger(__name__)


def add_events(session_or_connection: Any, events: Sequence[Event]) -> None:
    """Write `events` in the caller's transaction; NOTIFY wakes the relay only once that transaction commits.
    On a WriteSession both go out with its commit."""
    if not events:
        return
    trace = trace_carrier()  # the publish continues the trace of the work that wrote the event
    extra = {TRACE_CONTEXT_KEY: trace} if trace else {}
    correlation_id = correlation_id_var.get()  # an event built without one joins the chain of work in progress
    rows = [
        {
            "event_id": e.id,
            "event_type": e.type,
            "envelope": {**e.to_dict(), "correlation_id": e.correlation_id or correlation_id, **extra},
        }
        for e in events
    ]
    queue_write(session_or_connection, _INSERT_OUTBOX, rows)
    queue_write(session_or_connection, _NOTIFY_RELAY, {})


def add_event(session_or_connection: Any, event: Event) -> None:
    add_events(session_or_connection, [event])


def _libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxRelay:
    """Publishes unsent outbox rows in batches and marks them sent in the same transaction that locked them.

    Several relays may run: `FOR UPDATE SKIP LOCKED` hands each a disjoint batch. A batch that fails to
    publish stays unsent (rolled back) and is retried with backoff; an event may be published twice if the
    commit after a successful publish fails, which the consumers' inbox absorbs.
    """

    def __init__(
        self,
        engine: Engine,
        publisher: BatchPublisher,
        *,
        batch_size: int = 200,
        poll_interval: float = 5.0,
        max_backoff: float = 10.0,
    ) -> None:
        self.engine = engine
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff

    def relay_once(self) -> int:
        with self.engine.begin() as connection:
            rows = connection.execute(
                select(OUTBOX.c.seq, OUTBOX.c.envelope)
                .where(OUTBOX.c.published_at.is_(None))
                .order_by(OUTBOX.c.seq)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            try:
                with _publish_spans([row.envelope for row in rows]) as envelopes:
                    self.publisher.publish(envelopes)
            except PublishFailed as exc:
                connection.rollback()
                self._record_failure([row.seq for row in rows], str(exc))
                raise
            connection.execute(
                update(OUTBOX).where(OUTBOX.c.seq.in_([row.seq for row in rows])).values(published_at=func.now())
            )
        for row in rows:
            metrics.events_published.labels(row.envelope.get("type", "unknown")).inc()
        return len(rows)

    def _record_failure(self, seqs: list[int], error: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.seq.in_(seqs))
                .values(attempts=OUTBOX.c.attempts + 1, last_error=error[:1000])
            )

    def backlog(self) -> tuple[int, float]:
        with self.engine.connect() as connection:
            count, oldest = connection.execute(
                select(func.count(), func.min(OUTBOX.c.created_at)).where(OUTBOX.c.published_at.is_(None))
            ).one()
            age = connection.execute(select(func.extract("epoch", func.now() - oldest))).scalar() if oldest else 0
        return int(count), float(age or 0)

    def _measure_backlog(self) -> None:
        count, age = self.backlog()
        metrics.outbox_backlog.set(count)
        metrics.outbox_oldest_age.set(age)
        self._measured_at = time.monotonic()

    def run(self, stop: threading.Event) -> None:
        failures = 0
        listener: psycopg.Connection | None = None
        self._measured_at = 0.0
        while not stop.is_set():
            try:
                if listener is None:
                    listener = psycopg.connect(_libpq_url(self.engine), autocommit=True)
                    listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
                published = self.relay_once()
                failures = 0
                if published:
                    if time.monotonic() - self._measured_at > BACKLOG_MEASURE_INTERVAL:
                        self._measure_backlog()  # during a burst too, at most once a second
                    continue
                self._measure_backlog()
                for _ in listener.notifies(timeout=self.poll_interval, stop_after=1):
                    pass
            except Exception as exc:  # noqa: BLE001 - the relay must outlive broker and database outages
                failures += 1
                delay = min(self.max_backoff, 0.2 * 2**failures)
                log.warning("outbox relay failed; retrying", error=str(exc)[:300], retry_in=delay)
                if listener is not None:
                    with contextlib.suppress(Exception):
                        listener.close()
                    listener = None
                stop.wait(delay)
        if listener is not None:
            listener.close()
        self.publisher.close()


@contextmanager
def _publish_spans(envelopes: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """A producer span per event that carries a stored trace context, open while the batch is published and
    confirmed; the envelopes handed on carry the producer span's context instead of the stored one."""
    with ExitStack() as spans:
        out = []
        for envelope in envelopes:
            stored = envelope.get(TRACE_CONTEXT_KEY)
            if not stored:
                out.append(envelope)
                continue
            spans.enter_context(
                span_from(
                    stored,
                    f"publish {envelope.get('type')}",
                    otel_trace.SpanKind.PRODUCER,
                    {"messaging.system": "kombu", "messaging.message.id": str(envelope.get("id"))},
                )
            )
            out.append({**envelope, TRACE_CONTEXT_KEY: trace_carrier()})
        yield out
