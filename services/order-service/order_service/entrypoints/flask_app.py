"""HTTP entrypoint of order-service: parse and validate, call a handler, format. Nothing else."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from marshmallow import RAISE, Schema, ValidationError

from order_service.adapters.token_client import RateLimited
from order_service.bootstrap import bootstrap
from order_service.domain import commands
from order_service.domain.cards import CardDetails
from order_service.entrypoints import schemas
from order_service.service_layer.handlers import HandlerError
from order_service.service_layer.messagebus import MessageBus
from renewals_shared.config import Settings
from renewals_shared.db import make_engine
from renewals_shared.dead_letter_api import register_dead_letter_api
from renewals_shared.http import ServiceUnavailable
from renewals_shared.web import (
    PROBLEM_JSON,
    Problem,
    create_service_app,
    load_body,
    require_ops_token,
    require_service_token,
    schema_instance,
)

TOKEN_HEADER = "X-Extension-Token"
MAX_IMPORT_ROWS = 10_000


def _bus() -> MessageBus:
    return current_app.extensions["order_bus"]  # type: ignore[no-any-return]


def _settings() -> Settings:
    return current_app.extensions["order_settings"]  # type: ignore[no-any-return]


def _handle(command: Any) -> Any:
    try:
        return _bus().handle(command)
    except HandlerError as exc:
        raise Problem(exc.status, exc.title, exc.detail, **exc.extensions) from None
    except RateLimited as exc:
        raise Problem(429, "Too many requests", "Too many link look-ups; try again later.").with_headers(
            Retry_After=exc.retry_after
        ) from None
    except ServiceUnavailable:
        raise Problem(503, "Service unavailable", "A service this request depends on is not answering.").with_headers(
            Retry_After="5"
        ) from None


def _query(schema: type[Schema]) -> dict[str, Any]:
    try:
        return schema_instance(schema).load(request.args.to_dict(), unknown=RAISE)
    except ValidationError as exc:
        raise Problem(422, "Invalid request", "some query parameters are invalid", errors=exc.messages) from None


def _required_token() -> str:
    token = _token()
    assert token is not None
    return token


def _token(required: bool = True) -> str | None:
    token = request.headers.get(TOKEN_HEADER, "").strip()
    if not token or len(token) > 256:
        if required:
            raise Problem(404, "Link not found", "This extension link is unknown.")
        return None
    return token


def _idempotency_key() -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 255:
        raise Problem(
            422,
            "Invalid request",
            "An Idempotency-Key header (1-255 characters) is required.",
            errors={"Idempotency-Key": ["required, 1-255 characters"]},
        )
    return key


def _request_hash(body: Any, token: str | None) -> str:
    """Keyed hash of what the caller asked (body and link), so a key reused for something else is caught."""
    canonical = json.dumps({"path": request.path, "body": body, "token": token}, sort_keys=True, default=str)
    return hmac.new(_settings().link_secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _respond(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    if status >= 400:
        response.content_type = PROBLEM_JSON
    return response


def _license_rows_from_request() -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]], bool]:
    """Rows with their line numbers (CSV: file line, header is line 1; JSON: position from 1), edge errors."""
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[dict[str, Any]] = []
    single = False
    mimetype = request.mimetype
    if mimetype in ("text/csv", "application/csv"):
        text = request.get_data(as_text=True)
        reader = csv.DictReader(io.StringIO(text))
        missing = [
            c
            for c in (
                "license_key",
                "product_sku",
                "seats",
                "licensee_name",
                "purchase_date",
                "maintenance_end",
                "contact_email",
                "currency",
            )
            if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise Problem(
                422,
                "Invalid CSV",
                f"missing columns: {', '.join(missing)}",
                errors={"header": [f"missing columns: {', '.join(missing)}"]},
            )
        raw: list[tuple[int, Any, bool]] = []
        for record in reader:
            raw.append((reader.line_num, record, True))
    elif request.is_json:
        payload = request.get_json(silent=True)
        if payload is None:
            raise Problem(400, "Malformed JSON", "the body is not valid JSON")
        if isinstance(payload, dict):
            payload, single = [payload], True
        if not isinstance(payload, list):
            raise Problem(422, "Invalid request", "expected a license object or a list of them")
        raw = [(i, item, False) for i, item in enumerate(payload, start=1)]
    else:
        raise Problem(415, "Unsupported media type", "send application/json or text/csv")
    if len(raw) > MAX_IMPORT_ROWS:
        raise Problem(413, "Too many rows", f"at most {MAX_IMPORT_ROWS} licenses per import")
    schema = schemas.LicenseSchema()
    for line, item, from_csv in raw:
        try:
            if not isinstance(item, dict):
                raise ValidationError("expected an object")
            data = schemas.csv_row_to_license(item) if from_csv else item
            rows.append((line, schema.load(data)))
        except ValidationError as exc:
            errors.append({"line": line, "reason": schemas.flatten_errors(exc.messages)})
    return rows, errors, single


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """overrides: engine, uow, tokens, resellers, cards, clock (tests inject fakes here)."""
    settings = settings or Settings.from_env("order")
    engine = overrides.pop("engine", None)
    if engine is None and overrides.get("uow") is None:
        assert settings.database_url is not None
        engine = make_engine(settings.database_url)
    app = create_service_app(settings, engine, name="order-service")
    register_dead_letter_api(app, settings)  # GET/POST /admin/dead-letters[/replay|/discard]
    app.extensions["order_settings"] = settings
    app.extensions["order_bus"] = bootstrap(settings, engine=engine, **overrides)
    service = require_service_token(settings)
    ops = require_ops_token(settings)

    # ------------------------------------------------------------ quotes and orders (gateway)

    @app.get("/quote")
    @service
    def quote() -> Response:
        query = _query(schemas.QuoteQuery)
        return jsonify(_handle(commands.GetQuote(token=_required_token(), reseller_id=query["reseller_id"])))

    @app.post("/orders")
    @service
    def place_order() -> Response:
        key = _idempotency_key()
        token = _required_token()
        body = load_body(schemas.OrderRequest)
        status, result = _handle(
            commands.PlaceOrder(
                token=token,
                term_years=body["term_years"],
                reseller_id=body["reseller_id"],
                idempotency_key=key,
                request_hash=_request_hash(body, token),
            )
        )
        return _respond(status, result)

    @app.get("/orders/<order_number>")
    @service
    def get_order(order_number: str) -> Response:
        query = _query(schemas.OptionalResellerQuery)
        return jsonify(
            _handle(
                commands.GetOrder(
                    order_number=order_number[:32], token=_token(required=False), reseller_id=query["reseller_id"]
                )
            )
        )

    @app.get("/orders")
    @service
    def list_orders() -> Response:
        query = _query(schemas.ResellerQuery)
        return jsonify(_handle(commands.ListOrders(reseller_id=query["reseller_id"])))

    @app.post("/orders/<order_number>/payments")
    @service
    def pay(order_number: str) -> Response:
        key = _idempotency_key()
        token = _token(required=False)
        body = load_body(schemas.PaymentRequest)
        card_in = body.get("card")
        card = CardDetails(**card_in) if card_in else None
        hashed = {**body, "card": ({**card_in, "number": card_in["number"].replace(" ", "")} if card_in else None)}
        status, result = _handle(
            commands.PayOrder(
                order_number=order_number[:32],
                method=body["method"],
                idempotency_key=key,
                request_hash=_request_hash(hashed, token),
                token=token,
                reseller_id=body["reseller_id"],
                card=card,
            )
        )
        return _respond(status, result)

    # ------------------------------------------------------------ operations

    @app.post("/admin/products")
    @ops
    def create_product() -> Response:
        body = load_body(schemas.ProductSchema)
        return _respond(*_handle(commands.SaveProduct(sku=body["sku"], name=body["name"], edition=body["edition"])))

    @app.put("/admin/products/<sku>")
    @ops
    def update_product(sku: str) -> Response:
        body = load_body(schemas.ProductUpdateSchema)
        try:
            schemas.SKU_PATTERN(sku)
        except ValidationError as exc:
            raise Problem(422, "Invalid request", "invalid sku", errors={"sku": exc.messages}) from None
        status, result = _handle(
            commands.SaveProduct(sku=sku[:64], name=body["name"], edition=body["edition"], create=True)
        )
        return _respond(status, result)

    @app.post("/admin/price-lists")
    @ops
    def add_price_list() -> Response:
        body = load_body(schemas.PriceListSchema)
        return _respond(*_handle(commands.AddPriceList(**body)))

    @app.post("/admin/licenses")
    @ops
    def create_licenses() -> Response:
        rows, errors, single = _license_rows_from_request()
        if single and errors:
            raise Problem(422, "Invalid license", errors[0]["reason"], errors={"license": [errors[0]["reason"]]})
        report = _handle(commands.ImportLicenses(rows=rows, errors=errors, source="admin"))
        if single and report["errors"]:
            raise Problem(
                422,
                "Invalid license",
                report["errors"][0]["reason"],
                errors={"license": [report["errors"][0]["reason"]]},
            )
        return _respond(201 if report["imported"] else 200, report)

    @app.post("/admin/licenses/import")
    @ops
    def import_licenses() -> Response:
        rows, errors, _single = _license_rows_from_request()
        return jsonify(_handle(commands.ImportLicenses(rows=rows, errors=errors, source="import")))

    @app.get("/admin/licenses/<license_id>")
    @ops
    def get_license(license_id: str) -> Response:
        return jsonify(_handle(commands.GetLicense(license_id=license_id[:36])))

    @app.get("/admin/licenses")
    @ops
    def find_licenses() -> Response:
        query = _query(schemas.LicenseSearchQuery)
        return jsonify(_handle(commands.FindLicenses(**query)))

    @app.post("/admin/licenses/<license_id>/extension-link")
    @ops
    def extension_link(license_id: str) -> Response:
        return jsonify(_handle(commands.RequestExtensionLink(license_id=license_id[:36])))

    @app.get("/admin/orders/<order_number>")
    @ops
    def get_order_for_operations(order_number: str) -> Response:
        return jsonify(_handle(commands.GetOrderForOperations(order_number=order_number[:32])))

    @app.get("/admin/products")
    @ops
    def list_catalogue() -> Response:
        return jsonify(_handle(commands.ListCatalogue()))

    return app
