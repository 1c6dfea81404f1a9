"""Public JSON API `/api/v1`: the same journeys as the pages, the same session, problem JSON errors."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, g, jsonify, render_template, request
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import ValidationError

from gateway.entrypoints import api_schemas as schemas
from gateway.entrypoints.flask_app import current_gateway
from gateway.entrypoints.openapi import openapi_document
from gateway.entrypoints.web_session import browser_session
from gateway.service_layer import journeys
from renewals_shared.web import Problem, bearer_matches, load_body

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_HEADERS = ("X-CSRF-Token", "X-CSRFToken")


@blueprint.before_request
def guard() -> None:
    g.ops = bearer_matches(current_gateway().settings.ops_token)
    if request.path.startswith("/api/v1/admin/") and not g.ops:
        raise Problem(401, "Unauthorized", "an operations token is required").with_headers(
            **{"WWW-Authenticate": "Bearer"}
        )
    has_session_cookie = current_gateway().config.cookie_name in request.cookies
    if request.method in UNSAFE_METHODS and has_session_cookie and not g.ops:
        presented = next((request.headers[h] for h in CSRF_HEADERS if request.headers.get(h)), None)
        try:
            validate_csrf(presented)
        except ValidationError as exc:
            raise Problem(
                403,
                "CSRF token missing or invalid",
                f"{exc}; send the session's csrf_token (GET /api/v1/browser_session()) in the X-CSRF-Token header",
            ) from None


@blueprint.after_request
def expose_csrf_token(response: Response) -> Response:
    current = browser_session()
    if current and not current.ended and response.status_code < 500:
        response.headers["X-CSRF-Token"] = generate_csrf()
    return response


def _reseller() -> dict[str, Any] | None:
    if "reseller_account" not in g:
        g.reseller_account = journeys.current_reseller(current_gateway().resellers, browser_session())
    return g.reseller_account  # type: ignore[no-any-return]


def _require_reseller() -> dict[str, Any]:
    reseller = _reseller()
    if reseller is None:
        raise Problem(401, "Not logged in", "log in with POST /api/v1/session first")
    return reseller


def _billing_address(party: dict[str, Any] | None) -> dict[str, Any] | None:
    return (party or {}).get("address")


def account_view(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": account.get("id"),
        "company": account.get("company"),
        "contact_name": account.get("contact_name"),
        "email": account.get("email"),
        "phone": account.get("phone"),
        "status": account.get("status"),
        "discount_bp": account.get("discount_bp"),
        "invoice_allowed": bool(account.get("invoice_allowed")),
        "billing_address": _billing_address(account.get("billing")),
        "billing": account.get("billing"),
    }


def order_view(order: dict[str, Any]) -> dict[str, Any]:
    view = dict(order)
    view["billing_address"] = _billing_address(order.get("billing"))
    if order.get("status") == "paid":
        view["maintenance_end"] = order.get("new_maintenance_end")
    return view


# --- documentation --------------------------------------------------------------------------------------------
@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(current_gateway().settings.public_base_url))


@blueprint.get("/docs")
def docs() -> str:
    return render_template(
        "api/docs.html",
        spec=openapi_document(current_gateway().settings.public_base_url),
    )


# --- extensions and orders ------------------------------------------------------------------------------------
@blueprint.get("/extensions/<token>")
def extension(token: str) -> Response:
    reseller = _reseller()
    quote = current_gateway().orders.quote(token, reseller_id=str(reseller["id"]) if reseller else None)
    return jsonify(
        {
            "license": quote.get("license", {}),
            "offer": quote.get("offer", {}),
            "link": quote.get("link"),
        }
    )


@blueprint.post("/extensions/<token>/orders")
def place_order(token: str) -> tuple[Response, int]:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 200:
        raise Problem(
            400,
            "Idempotency-Key required",
            "send a unique Idempotency-Key header per intended order",
        )
    body = load_body(schemas.OrderRequestSchema)
    order = journeys.place_order(
        current_gateway().orders,
        browser_session(),
        token,
        body["term_years"],
        key,
        _reseller(),
    )
    return jsonify(order_view(order)), 201


def _proof(order_number: str) -> journeys.BuyerProof:
    token = request.headers.get("X-Extension-Token")
    if token:
        return journeys.BuyerProof(token=token)
    proof = journeys.buyer_proof(browser_session(), order_number, _reseller())
    if proof is None:
        raise Problem(404, "Order not found", "no order with this number for this buyer")
    return proof


@blueprint.get("/orders/<order_number>")
def get_order(order_number: str) -> Response:
    return jsonify(order_view(journeys.get_order(current_gateway().orders, order_number, _proof(order_number))))


@blueprint.post("/orders/<order_number>/payments")
def pay(order_number: str) -> Response:
    body = load_body(schemas.PaymentRequestSchema)
    if body["method"] == "card" and not body.get("card"):
        raise Problem(
            422,
            "Invalid request",
            "card details are required",
            errors={"card": ["Missing data."]},
        )
    if body["method"] == "invoice" and "card" in body:
        raise Problem(422, "Invalid request", "no card details with an invoice", errors={"card": ["Unexpected."]})
    if body["method"] == "card":
        body["card"]["number"] = "".join(body["card"]["number"].split())
    key = request.headers.get("Idempotency-Key", "").strip()[:200] or uuid.uuid4().hex
    order = journeys.pay_order(current_gateway().orders, order_number, _proof(order_number), body, key)
    view = order_view(order)
    view["status"] = order.get("status", "paid")
    view["maintenance_end"] = order.get("new_maintenance_end")
    return jsonify(view)


# --- resellers and the session --------------------------------------------------------------------------------
@blueprint.post("/resellers")
def register() -> tuple[Response, int]:
    body = load_body(schemas.RegistrationSchema)
    if not body.get("vat_id"):
        body.pop("vat_id", None)  # "no VAT ID" is an absent field downstream, as from the registration page
    created = current_gateway().resellers.register(body)
    return jsonify({"id": created.get("id"), "status": created.get("status", "pending")}), 201


@blueprint.get("/session")
def session_state() -> Response:
    reseller = _reseller()
    return jsonify(
        {
            "authenticated": reseller is not None,
            "reseller": account_view(reseller) if reseller else None,
            "csrf_token": generate_csrf(),
        }
    )


@blueprint.post("/session")
def login() -> Response:
    body = load_body(schemas.CredentialsSchema)
    account = journeys.login(current_gateway().resellers, browser_session(), body["email"], body["password"])
    g.pop("csrf_token", None)
    return jsonify(
        {
            "authenticated": True,
            "reseller": account_view(account),
            "csrf_token": generate_csrf(),
        }
    )


@blueprint.delete("/session")
def logout() -> tuple[str, int]:
    journeys.logout(browser_session())
    return "", 204


@blueprint.get("/reseller/account")
def reseller_account() -> Response:
    return jsonify(account_view(_require_reseller()))


@blueprint.get("/reseller/orders")
def reseller_orders() -> Response:
    reseller = _require_reseller()
    orders = current_gateway().orders.list_orders(str(reseller["id"]))
    return jsonify({"orders": [order_view(o) for o in orders]})


@blueprint.post("/password-resets")
def password_reset_request() -> tuple[str, int]:
    body = load_body(schemas.PasswordResetRequestSchema)
    current_gateway().resellers.request_password_reset(body["email"])
    return "", 202


@blueprint.post("/password-resets/complete")
def password_reset_complete() -> tuple[str, int]:
    body = load_body(schemas.PasswordResetCompleteSchema)
    current_gateway().resellers.complete_password_reset(body["token"], body["new_password"])
    if browser_session().get(journeys.RESELLER_KEY):
        journeys.logout(browser_session())
    return "", 204


@blueprint.post("/change-requests")
def change_request() -> tuple[Response, int]:
    body = load_body(schemas.ChangeRequestSchema)
    created = current_gateway().resellers.change_request(body)
    return jsonify({"id": created.get("id"), "status": "received"}), 202


# --- operations: forwarded to the owning service's admin endpoints ------------------------------------------------
# (method, public path under /api/v1, client attribute on the Gateway, internal path template)
ADMIN_ROUTES: list[tuple[str, str, str, str]] = [
    ("POST", "/admin/products", "orders", "/admin/products"),
    ("PUT", "/admin/products/<sku>", "orders", "/admin/products/{sku}"),
    ("POST", "/admin/price-lists", "orders", "/admin/price-lists"),
    ("POST", "/admin/licenses", "orders", "/admin/licenses"),
    ("POST", "/admin/licenses/import", "orders", "/admin/licenses/import"),
    ("GET", "/admin/licenses", "orders", "/admin/licenses"),
    ("GET", "/admin/licenses/<license_id>", "orders", "/admin/licenses/{license_id}"),
    (
        "POST",
        "/admin/licenses/<license_id>/extension-link",
        "orders",
        "/admin/licenses/{license_id}/extension-link",
    ),
    ("GET", "/admin/resellers", "resellers", "/admin/resellers"),
    (
        "POST",
        "/admin/resellers/<reseller_id>/approve",
        "resellers",
        "/admin/resellers/{reseller_id}/approve",
    ),
    (
        "POST",
        "/admin/resellers/<reseller_id>/reject",
        "resellers",
        "/admin/resellers/{reseller_id}/reject",
    ),
    (
        "POST",
        "/admin/resellers/<reseller_id>/suspend",
        "resellers",
        "/admin/resellers/{reseller_id}/suspend",
    ),
    (
        "PATCH",
        "/admin/resellers/<reseller_id>/billing",
        "resellers",
        "/admin/resellers/{reseller_id}/billing",
    ),
    ("GET", "/admin/change-requests", "resellers", "/admin/change-requests"),
    (
        "POST",
        "/admin/change-requests/<request_id>/close",
        "resellers",
        "/admin/change-requests/{request_id}/close",
    ),
    ("POST", "/admin/links/<link_id>/revoke", "tokens", "/links/{link_id}/revoke"),
    (
        "PUT",
        "/admin/discount-policy/products/<sku>",
        "tokens",
        "/admin/discount-policy/products/{sku}",
    ),
    (
        "PUT",
        "/admin/discount-policy/licenses/<license_id>",
        "tokens",
        "/admin/discount-policy/licenses/{license_id}",
    ),
    ("POST", "/admin/reminder-scans", "notifier", "/admin/reminder-scans"),
]


def _forward_view(client_name: str, target: str) -> Any:
    def view(**path_args: str) -> tuple[Response, int]:
        client = getattr(current_gateway(), client_name)
        path = target.format(**{k: _path_segment(v) for k, v in path_args.items()})
        if request.method == "GET":
            status, body = client.forward("get", path, params=request.args.to_dict())
        else:
            payload = request.get_json(silent=True) if request.get_data() else {}
            if request.get_data() and not request.is_json:
                raise Problem(415, "Unsupported media type", "send application/json")
            if payload is None:
                raise Problem(400, "Malformed JSON", "the body is not valid JSON")
            status, body = client.forward(request.method.lower(), path, json=payload)
        if client_name == "orders" and target.endswith("/extension-link"):
            body = {"url": body.get("url"), "link_id": body.get("link_id")}
        return jsonify(body), status

    return view


def _path_segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


for _method, _rule, _client, _target in ADMIN_ROUTES:
    _endpoint = "admin_" + _method.lower() + _rule.replace("/", "_").replace("<", "").replace(">", "").replace("-", "_")
    blueprint.add_url_rule(
        _rule,
        endpoint=_endpoint,
        view_func=_forward_view(_client, _target),
        methods=[_method],
    )
