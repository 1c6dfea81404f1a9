"""HTTP API of the token-service (docs/internal-api.md): thin, parse -> handler -> format."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

import redis
from flask import Flask, Response, g, jsonify, request
from prometheus_client import Counter
from renewals_shared.clock import Clock
from renewals_shared.config import Settings
from renewals_shared.db import make_engine
from renewals_shared.dead_letter_api import register_dead_letter_api
from renewals_shared.observability import metrics
from renewals_shared.web import (
    Problem,
    client_address,
    create_service_app,
    load_body,
    require_ops_token,
    require_service_token,
)
from sqlalchemy import Engine

from token_service.adapters.rate_limit import FailureLimiter
from token_service.bootstrap import bootstrap
from token_service.config import TokenConfig
from token_service.domain.model import LinkStateError
from token_service.entrypoints.schemas import (
    DiscountRequest,
    IssuedLinkResponse,
    IssueLinkRequest,
    RevokeLinkRequest,
)
from token_service.service_layer import commands, handlers
from token_service.service_layer.handlers import LinkView
from token_service.service_layer.unit_of_work import ReadOnlyUnitOfWork

TOKEN_HEADER = "X-Extension-Token"  # noqa: S105 - a header name, not a secret
RESOLVES = Counter("token_link_resolves_total", "Extension link resolves by outcome", ["outcome"])


def not_found() -> Problem:
    """One body for malformed, unknown and retired tokens: nothing tells them apart."""
    return Problem(404, "Not found", "no extension link matches this token")


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    redis_client: redis.Redis | None = None,
    **overrides: Any,
) -> Flask:
    """``overrides`` may set TokenConfig fields (e.g. resolve_failure_limit=3) for tests."""
    config = TokenConfig.from_env(settings)
    if overrides:
        config = replace(config, **overrides)
    settings = config.settings
    assert settings.database_url is not None
    engine = engine or make_engine(settings.database_url)
    bus = bootstrap(config, engine=engine, clock=clock)
    limiter = FailureLimiter(
        redis_client or redis.Redis.from_url(settings.redis_url),
        settings.redis_prefix,
        config.resolve_failure_limit,
        config.resolve_failure_window_seconds,
    )
    app = create_service_app(settings, engine, name="token_service")
    register_dead_letter_api(app, settings)  # GET/POST /admin/dead-letters[/replay|/discard]
    service_only = require_service_token(settings)
    ops_only = require_ops_token(settings)

    def read_only_uow() -> ReadOnlyUnitOfWork:  # the read-only handlers (resolve, get); writes keep a transaction
        return ReadOnlyUnitOfWork(engine)

    @app.post("/links")
    @service_only
    def issue_link() -> tuple[Response, int]:
        body = load_body(IssueLinkRequest)
        command = commands.IssueLink(**body)
        issued = bus.handle(command, uow=_with_correlation(bus.uow_factory()))
        payload = IssuedLinkResponse().dump(
            {
                **asdict(issued.link),
                "token": issued.token,
                "url": f"{settings.public_base_url}/extend/{issued.token}",
            }
        )
        return jsonify(payload), 201 if issued.created else 200

    @app.get("/links/resolve")
    @service_only
    def resolve_link() -> Response:
        address = client_address()
        retry_after = limiter.retry_after(address)
        if retry_after is not None:
            RESOLVES.labels("rate_limited").inc()
            metrics.link_resolve_failures.labels("rate_limited").inc()
            raise Problem(429, "Too many requests", "too many unknown links; try again later").with_headers(
                Retry_After=str(retry_after)
            )
        token = request.headers.get(TOKEN_HEADER, "")
        try:
            view = bus.handle(commands.ResolveLink(token), uow=read_only_uow())
        except handlers.LinkNotFound:
            limiter.record_failure(address)
            RESOLVES.labels("not_found").inc()
            metrics.link_resolve_failures.labels("not_found").inc()
            raise not_found() from None
        RESOLVES.labels("found").inc()
        return jsonify(link_json(view))

    @app.get("/links/<link_id>")
    @service_only
    def get_link(link_id: str) -> Response:
        try:
            view = handlers.get_link(link_id, read_only_uow(), bus.today())
        except handlers.LinkNotFound:
            raise Problem(404, "Not found", "no such extension link") from None
        return jsonify(link_json(view))

    @app.post("/links/<link_id>/revoke")
    @ops_only
    def revoke_link(link_id: str) -> Response:
        body = load_body(RevokeLinkRequest)
        try:
            view = bus.handle(commands.RevokeLink(link_id, body["reason"]), uow=_with_correlation(bus.uow_factory()))
        except handlers.LinkNotFound:
            raise Problem(404, "Not found", "no such extension link") from None
        except LinkStateError as exc:
            raise Problem(409, "Conflict", str(exc), link_status=exc.status) from None
        return jsonify(link_json(view))

    @app.put("/admin/discount-policy/products/<sku>")
    @ops_only
    def set_product_discount(sku: str) -> Response:
        body = load_body(DiscountRequest)
        bus.handle(commands.SetProductDiscount(sku, body["customer_discount_bp"]))
        return jsonify(product_sku=sku, customer_discount_bp=body["customer_discount_bp"])

    @app.put("/admin/discount-policy/licenses/<license_id>")
    @ops_only
    def set_license_discount(license_id: str) -> Response:
        body = load_body(DiscountRequest)
        bus.handle(commands.SetLicenseDiscount(license_id, body["customer_discount_bp"]))
        return jsonify(license_id=license_id, customer_discount_bp=body["customer_discount_bp"])

    return app


def link_json(view: LinkView) -> dict[str, Any]:
    """A link as docs/internal-api.md shows it, built directly: the hottest path of the
    service skips a marshmallow dump; the integration tests pin the exact body."""
    return {
        "link_id": view.link_id,
        "license_id": view.license_id,
        "product_sku": view.product_sku,
        "cycle_end": view.cycle_end.isoformat(),
        "customer_discount_bp": view.customer_discount_bp,
        "licensee_name": view.licensee_name,
        "currency": view.currency,
        "status": view.status,
        "expires_on": view.expires_on.isoformat(),
        "redeemed_order_number": view.redeemed_order_number,
    }


def _with_correlation(uow: Any) -> Any:
    uow.correlation_id = g.get("correlation_id")
    return uow
