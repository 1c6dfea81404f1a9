"""Flask app factory helpers: JSON logs, correlation ids, health, readiness, metrics, problem JSON errors."""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, g, has_request_context, jsonify, request
from marshmallow import RAISE, Schema, ValidationError
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from renewals_shared.bus import connect
from renewals_shared.config import Settings
from renewals_shared.events import schema_instance
from renewals_shared.jsoncodec import FlaskJSONProvider
from renewals_shared.observability import (
    configure_logging,
    correlation_id_var,
    get_logger,
    metrics,
    metrics_registry,
    tracer,
)

PROBLEM_JSON = "application/problem+json"
UNTRACED_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: no spans, only noise
log = get_logger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


class Problem(Exception):
    """An RFC 9457 problem; raise it anywhere in a request to answer with problem JSON."""

    def __init__(self, status: int, title: str, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(title)
        self.status, self.title, self.detail, self.extensions = status, title, detail, extensions
        self.headers: dict[str, str] = {}

    def with_headers(self, **headers: str) -> Problem:
        self.headers.update(headers)
        return self

    def to_response(self) -> Response:
        body = {"type": "about:blank", "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        body.update(self.extensions)
        response = jsonify(body)
        response.status_code = self.status
        response.content_type = PROBLEM_JSON
        for name, value in self.headers.items():
            response.headers[name.replace("_", "-")] = value
        return response


def load_body(schema: Schema | type[Schema], *, partial: bool = False) -> dict[str, Any]:
    """The request's JSON body loaded through `schema`; unknown fields are an error, not silently dropped."""
    if not request.is_json:
        raise Problem(415, "Unsupported media type", "send application/json")
    payload = request.get_json(silent=True)
    if payload is None:
        raise Problem(400, "Malformed JSON", "the body is not valid JSON")
    instance = schema_instance(schema) if isinstance(schema, type) else schema
    try:
        return instance.load(payload, unknown=RAISE, partial=partial)
    except ValidationError as exc:
        raise Problem(422, "Invalid request", "some fields are invalid", errors=exc.messages) from None


def bearer_matches(*expected: str) -> bool:
    """Whether the request's `Authorization: Bearer` token is one of `expected` (constant-time per candidate)."""
    header = request.headers.get("Authorization", "")
    presented = header[7:] if header.startswith("Bearer ") else ""
    return bool(presented) and any(hmac.compare_digest(presented.encode(), e.encode()) for e in expected if e)


def require_service_token(settings: Settings) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not bearer_matches(settings.service_token):
                raise Problem(401, "Unauthorized", "a service credential is required")
            g.authenticated_service = True
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def require_ops_token(settings: Settings) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not bearer_matches(settings.ops_token, settings.service_token):
                raise Problem(401, "Unauthorized", "an operations token is required")
            g.authenticated_service = True
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def _end_user_address() -> str | None:
    if g.get("authenticated_service") and request.headers.get("X-Client-Address"):
        return request.headers["X-Client-Address"]
    return request.remote_addr or None


def client_address() -> str:
    """The end user's address: forwarded by an authenticated service (the gateway), else the peer's."""
    return _end_user_address() or "unknown"


def forwarded_client_address() -> dict[str, str]:
    """Headers for a call made while serving a request: the end user's address (`X-Client-Address`), so that a
    per-address limit in the service called counts that user, not the calling service. At the edge (the
    gateway, which trusts no such header) that is the peer's address; nothing when it is not known."""
    address = _end_user_address() if has_request_context() else None
    return {"X-Client-Address": address} if address else {}


def database_ready(engine: Engine) -> Callable[[], None]:
    def check() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


def broker_ready(broker_url: str) -> Callable[[], None]:
    def check() -> None:
        with connect(broker_url) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)

    return check


def create_service_app(
    settings: Settings,
    engine: Engine | None = None,
    *,
    name: str | None = None,
    readiness_checks: dict[str, Callable[[], None]] | None = None,
    check_broker: bool = True,
    max_content_length: int = 1_000_000,
) -> Flask:
    app = Flask(name or settings.service)
    app.config["MAX_CONTENT_LENGTH"] = max_content_length
    app.json = FlaskJSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    configure_logging(settings.service, settings.log_level)
    checks: dict[str, Callable[[], None]] = {"broker": broker_ready(settings.broker_url)} if check_broker else {}
    if engine is not None:
        checks["database"] = database_ready(engine)
    checks.update(readiness_checks or {})
    # The histogram child of each (method, route, status): prometheus_client's labels() validates and converts
    # its arguments and takes a lock on every call; the children themselves are what it would return anyway.
    request_durations: dict[tuple[str, str, int], Any] = {}

    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        g.correlation_id = request.headers.get("X-Correlation-ID") or str(uuid.uuid4())
        g.correlation_token = correlation_id_var.set(g.correlation_id)
        route = request.url_rule.rule if request.url_rule else "unmatched"
        if route in UNTRACED_ROUTES:
            return
        g.span = tracer().start_span(
            f"{request.method} {route}",
            context=propagate.extract(request.headers),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": request.method, "http.route": route, "correlation_id": g.correlation_id},
        )
        g.trace_token = otel_context.attach(trace.set_span_in_context(g.span))

    @app.after_request
    def finish_request(response: Response) -> Response:
        response.headers["X-Correlation-ID"] = g.get("correlation_id", "")
        route = request.url_rule.rule if request.url_rule else "unmatched"
        if "started" in g:
            key = (request.method, route, response.status_code)
            durations = request_durations.get(key)
            if durations is None:
                durations = request_durations[key] = metrics.http_requests.labels(*key)
            durations.observe(time.perf_counter() - g.started)
        span = g.get("span")
        if span is not None:
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(trace.StatusCode.ERROR)
        return response

    @app.teardown_request
    def reset_correlation(_exc: BaseException | None) -> None:
        span, trace_token = g.pop("span", None), g.pop("trace_token", None)
        if span is not None:
            span.end()
        if trace_token is not None:
            otel_context.detach(trace_token)
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation_id_var.reset(token)

    @app.errorhandler(Problem)
    def on_problem(problem: Problem) -> Response:
        return problem.to_response()

    @app.errorhandler(HTTPException)
    def on_http_error(exc: HTTPException) -> Response:
        response = Problem(exc.code or 500, exc.name, exc.description).to_response()
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(DBAPIError)
    def on_database_error(exc: DBAPIError) -> Response:
        if exc.connection_invalidated:  # the connection was lost (pool invalidated): safe to retry, not a bug
            log.warning("database connection lost", path=request.path, error=type(exc.orig).__name__)
            return (
                Problem(503, "Service unavailable", "the database connection was lost; retry")
                .with_headers(Retry_After="1")
                .to_response()
            )
        return on_unexpected(exc)

    @app.errorhandler(Exception)
    def on_unexpected(exc: Exception) -> Response:
        log.exception("unhandled error", path=request.path)
        return Problem(
            500, "Internal error", "the error was logged", correlation_id=g.get("correlation_id")
        ).to_response()

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok", service=settings.service)

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        results = {}
        for check_name, check in checks.items():
            try:
                check()
                results[check_name] = "ok"
            except Exception as exc:  # noqa: BLE001 - readiness reports every failure
                results[check_name] = f"down: {type(exc).__name__}"
        ready = all(v == "ok" for v in results.values())
        return jsonify(status="ready" if ready else "not ready", checks=results), 200 if ready else 503

    @app.get("/metrics")
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics_registry()), mimetype=CONTENT_TYPE_LATEST)

    return app
