"""Structured JSON logs with the service name and correlation id, and the Prometheus metrics of the platform."""

from __future__ import annotations

import logging
import sys
import uuid
from contextvars import ContextVar
from types import SimpleNamespace

import structlog
from prometheus_client import Counter, Gauge, Histogram

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


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
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr for structlog and stdlib loggers alike (kombu, gunicorn, alembic)."""
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


metrics = SimpleNamespace(
    events_published=Counter("renewals_events_published_total", "Events the outbox relay published"),
    events_consumed=Counter("renewals_events_consumed_total", "Events consumed", ["event_type", "outcome"]),
    events_dead_lettered=Counter("renewals_events_dead_lettered_total", "Events moved to the DLQ", ["event_type"]),
    outbox_backlog=Gauge("renewals_outbox_backlog", "Outbox rows not yet published"),
    outbox_oldest_age=Gauge("renewals_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row"),
    http_requests=Histogram(
        "renewals_http_request_duration_seconds", "HTTP request duration", ["method", "route", "status"]
    ),
)
