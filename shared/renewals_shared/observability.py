"""Structured JSON logs with the service name, correlation id and trace id; Prometheus metrics; OpenTelemetry traces.

Metrics across processes: every process of a service (gunicorn workers, its event worker, Celery children) sets
`PROMETHEUS_MULTIPROC_DIR` to one directory per service and per host (empty at start); `/metrics` of the service's
web app then adds up what all of them counted (prometheus_client multiprocess mode). A worker that runs where no
web app of its service can read its directory (its own container or pod) also sets `METRICS_PORT` and serves
`/metrics` itself. Without `PROMETHEUS_MULTIPROC_DIR` each process exposes only its own registry.

Traces: W3C `traceparent` travels in the HTTP headers of `ServiceClient` calls and in the headers of every bus
message; an outbox row keeps the context of the transaction that wrote it, so the relay's publish continues the
request's trace. Exporter by environment: `OTEL_EXPORTER_OTLP_ENDPOINT` (OTLP over HTTP, batched),
`OTEL_TRACES_EXPORTER=console`, `TRACE_FILE` (JSON lines, one per finished span; tests), else none: then spans
record nothing (no attributes, no timing, nothing kept), but each still gets its ids, continuing the incoming
trace, so ids show up in logs and travel downstream exactly as with an exporter.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
# Key of the trace context an outbox row stores beside its envelope; the publisher moves it into message headers.
TRACE_CONTEXT_KEY = "trace_context"
TRACE_HEADERS = ("traceparent", "tracestate")


def current_correlation_id() -> str:
    """The correlation id of the work in progress, minted when a chain of work starts here."""
    value = correlation_id_var.get()
    if value is None:
        value = str(uuid.uuid4())
        correlation_id_var.set(value)
    return value


def _add_correlation_id(_logger: object, _name: str, event_dict: dict) -> dict:
    value = correlation_id_var.get()
    if value is not None:
        event_dict.setdefault("correlation_id", value)
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr for structlog and stdlib loggers alike (kombu, gunicorn, alembic); also sets up tracing."""
    configure_tracing(service)
    shared_processors = [
        structlog.contextvars.merge_contextvars,
        _add_correlation_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            lambda _l, _n, event_dict: {"service": service, **event_dict},
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


# -- metrics ----------------------------------------------------------------------------------------------------
metrics = SimpleNamespace(
    events_published=Counter("renewals_events_published_total", "Events the outbox relay published", ["event_type"]),
    events_consumed=Counter(
        "renewals_events_consumed_total",
        "Events consumed by outcome (applied, duplicate, retried)",
        ["event_type", "outcome"],
    ),
    events_dead_lettered=Counter("renewals_events_dead_lettered_total", "Events moved to the DLQ", ["event_type"]),
    outbox_backlog=Gauge("renewals_outbox_backlog", "Outbox rows not yet published", multiprocess_mode="mostrecent"),
    outbox_oldest_age=Gauge(
        "renewals_outbox_oldest_age_seconds",
        "Age of the oldest unpublished outbox row",
        multiprocess_mode="mostrecent",
    ),
    http_requests=Histogram(
        "renewals_http_request_duration_seconds", "HTTP request duration", ["method", "route", "status"]
    ),
    orders=Counter(
        "renewals_orders_total", "Orders by currency and what happened (placed, paid, declined)", ["currency", "status"]
    ),
    revenue=Counter("renewals_revenue_minor_units_total", "Paid order totals in minor units", ["currency"]),
    login_failures=Counter("renewals_login_failures_total", "Failed reseller sign-ins by reason", ["reason"]),
    link_resolve_failures=Counter(
        "renewals_link_resolve_failures_total", "Extension link resolves that found no usable link", ["reason"]
    ),
    reminders_sent=Counter("renewals_reminders_sent_total", "Reminder emails sent by stage (days from E)", ["stage"]),
    emails=Counter(
        "renewals_emails_total",
        "Email send attempts by type and outcome (sent, retry, failed, cancelled, uncertain)",
        ["type", "outcome"],
    ),
)

_extra_collectors: list[Collector] = []


def multiprocess_metrics() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def register_collector(collector: Collector) -> None:
    """A custom collector (e.g. one that reads the database at scrape time), exposed in both metrics modes."""
    REGISTRY.register(collector)
    _extra_collectors.append(collector)


def metrics_registry() -> CollectorRegistry:
    """What `/metrics` exposes: every process of this service in multiprocess mode, else this process."""
    if not multiprocess_metrics():
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    for collector in _extra_collectors:
        registry.register(collector)
    return registry


def serve_metrics_from_env() -> int | None:
    """Serve `/metrics` on `METRICS_PORT` when set (a worker with no web app beside it); returns the port."""
    port = os.environ.get("METRICS_PORT")
    if not port:
        return None
    start_http_server(int(port), addr=os.environ.get("METRICS_ADDR", "0.0.0.0"), registry=metrics_registry())  # noqa: S104
    return int(port)


# -- tracing ----------------------------------------------------------------------------------------------------
_tracing_lock = threading.Lock()
_tracing_pid: int | None = None
_exporting = False  # some exporter is configured: spans are recorded


class IdOnlyTracer(trace.Tracer):
    """The tracer when no exporter is configured. A recorded span that nobody exports costs CPU on every request
    for nothing; this one's spans record nothing but carry what the SDK would give them: a new span id, the
    parent's trace id and flags (a new sampled trace at the root), so logs and downstream calls see the same ids."""

    _ids = RandomIdGenerator()

    def start_span(
        self,
        name: str,
        context: otel_context.Context | None = None,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: Any = None,
        links: Any = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace.Span:
        parent = trace.get_current_span(context).get_span_context()
        if parent.is_valid:
            trace_id, flags, state = parent.trace_id, parent.trace_flags, parent.trace_state
        else:
            trace_id, flags, state = self._ids.generate_trace_id(), trace.TraceFlags(trace.TraceFlags.SAMPLED), None
        span_id = self._ids.generate_span_id()
        return trace.NonRecordingSpan(trace.SpanContext(trace_id, span_id, False, flags, state))

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: otel_context.Context | None = None,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: Any = None,
        links: Any = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[trace.Span]:
        span = self.start_span(name, context)
        with trace.use_span(span, end_on_exit=end_on_exit) as current:
            yield current


_id_only_tracer = IdOnlyTracer()


class JsonLinesSpanExporter(SpanExporter):
    """Appends one JSON line per finished span to a file; one write per batch, so processes can share the file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(span_record(span)) + "\n" for span in spans)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, lines.encode())
        finally:
            os.close(fd)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def span_record(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    return {
        "name": span.name,
        "service": span.resource.attributes.get("service.name"),
        "kind": span.kind.name,
        "trace_id": format(context.trace_id, "032x") if context else None,
        "span_id": format(context.span_id, "016x") if context else None,
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "start": span.start_time,
        "end": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
    }


def configure_tracing(service: str) -> None:
    """Once per process: a tracer provider named after the service, with the exporter the environment asks for."""
    global _tracing_pid, _exporting
    with _tracing_lock:
        if _tracing_pid is not None:
            return
        _tracing_pid = os.getpid()
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
        endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        processors: list[SpanProcessor] = []
        if exporter == "console":
            processors.append(SimpleSpanProcessor(ConsoleSpanExporter()))
        elif endpoint and exporter in ("", "otlp"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            processors.append(BatchSpanProcessor(OTLPSpanExporter()))  # reads the OTEL_* variables
        if os.environ.get("TRACE_FILE"):
            processors.append(SimpleSpanProcessor(JsonLinesSpanExporter(os.environ["TRACE_FILE"])))
        for processor in processors:
            provider.add_span_processor(processor)
        _exporting = bool(processors)
        trace.set_tracer_provider(provider)


def tracer() -> trace.Tracer:
    """The tracer spans start from: the provider's when an exporter is configured, else an IdOnlyTracer."""
    return trace.get_tracer("renewals") if _exporting else _id_only_tracer


def trace_carrier() -> dict[str, str]:
    """The current trace context as W3C headers (`traceparent`, `tracestate`); empty outside any span."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {k: v for k, v in carrier.items() if k in TRACE_HEADERS}


def carrier_from_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {k: str(v) for k, v in (headers or {}).items() if k in TRACE_HEADERS and v}


@contextmanager
def span_from(
    carrier: Mapping[str, str] | None,
    name: str,
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[trace.Span]:
    """A current span continuing the trace in `carrier` (W3C headers), or a new trace when there is none."""
    parent = propagate.extract(dict(carrier or {})) if carrier else otel_context.Context()
    with tracer().start_as_current_span(name, context=parent, kind=kind, attributes=dict(attributes or {})) as span:
        yield span
