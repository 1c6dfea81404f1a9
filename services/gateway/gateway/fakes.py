"""In-memory fakes of the services' internal HTTP contracts (docs/internal-api.md), for unit tests and demos."""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from gateway.adapters.downstream import DownstreamError, ServiceDown
from renewals_shared.config import Settings


def problem(service: str, status: int, title: str, **extra: Any) -> DownstreamError:
    return DownstreamError(
        service,
        status,
        {"type": "about:blank", "title": title, "status": status, **extra},
    )


class FakeRedis:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.ttl: dict[str, int | None] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("redis down")

    def get(self, name: str) -> str | None:
        self._check()
        return self.data.get(name)

    def set(self, name: str, value: str, ex: int | None = None) -> bool:
        self._check()
        self.data[name] = value
        self.ttl[name] = ex
        return True

    def delete(self, *names: str) -> int:
        self._check()
        return sum(1 for n in names if self.data.pop(n, None) is not None)

    def ping(self) -> bool:
        self._check()
        return True


def money(amount: int, currency: str = "EUR") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


ADDRESS = {
    "line1": "1 Main St",
    "line2": "",
    "postal_code": "10115",
    "city": "Berlin",
    "region": "",
    "country": "DE",
}
END_CUSTOMER = {
    "name": "Erin End",
    "company": "Acme GmbH",
    "email": "it@acme.example",
    "address": ADDRESS,
    "vat_id": None,
}
RESELLER_BILLING = {
    "name": "Rita Reseller",
    "company": "Resell Ltd",
    "email": "billing@resell.example",
    "address": {
        **ADDRESS,
        "line1": "9 Trade Rd",
        "city": "Hamburg",
        "postal_code": "20095",
    },
    "vat_id": "DE123",
}
TOKEN = "tok_active_0123456789abcdefghijkl"


class FakeOrders:
    """order-service: one license at list 100.00 EUR/year, dc 50 %, dr 10 % for approved resellers."""

    service = "order-service"

    def __init__(self) -> None:
        self.links: dict[str, str] = {
            TOKEN: "active",
            "tok_redeemed": "redeemed",
            "tok_revoked": "revoked",
            "tok_expired": "expired",
            "tok_lapsed": "active",
        }
        self.approved_resellers = {"r-1"}
        self.orders: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, str] = {}
        self.calls: list[tuple[str, Any]] = []
        self.down = False
        self.decline_numbers = {"4000000000000002"}
        self.forwarded: list[tuple[str, str, Any]] = []

    def _check(self) -> None:
        if self.down:
            raise ServiceDown(self.service)

    def _link(self, token: str) -> None:
        status = self.links.get(token)
        if status is None:
            raise problem(self.service, 404, "Unknown link")
        if status != "active":
            raise problem(self.service, 410, "Link not usable", link_status=status)

    def quote(self, token: str, reseller_id: str | None = None) -> dict[str, Any]:
        self._check()
        self.calls.append(("quote", reseller_id))
        self._link(token)
        dr = 1000 if reseller_id in self.approved_resellers else 0
        unit = 100_00 * (10000 - 5000) * (10000 - dr) // 10**8
        lapsed = token == "tok_lapsed"
        terms = (
            []
            if lapsed
            else [
                {
                    "years": t,
                    "years_charged": t,
                    "back_years": 0,
                    "new_maintenance_end": f"{2027 + t}-03-15",
                    "total": money(unit * t),
                }
                for t in (1, 2, 3)
            ]
        )
        return {
            "license": {
                "id": "lic-1",
                "license_key_masked": "ABCD-****-****-WXYZ",
                "product": {"sku": "PRO", "name": "Pro Suite", "edition": "Enterprise"},
                "seats": 5,
                "licensee_name": "Acme GmbH",
                "purchase_date": "2020-03-15",
                "maintenance_end": "2027-03-15",
            },
            "link": {
                "link_id": "link-1",
                "status": "active",
                "expires_on": "2028-03-14",
            },
            "offer": {
                "customer_discount_bp": 5000,
                "reseller_discount_bp": dr,
                "effective_discount_bp": 10000 - (10000 - 5000) * (10000 - dr) // 10000,
                "list_price_per_year": money(100_00),
                "price_per_year": money(unit),
                "terms": terms,
                "can_extend": not lapsed,
                "reason": "Maintenance ended more than 365 days ago." if lapsed else None,
            },
        }

    def place_order(
        self,
        token: str,
        term_years: int,
        idempotency_key: str,
        reseller_id: str | None = None,
    ) -> dict:
        self._check()
        self.calls.append(("place_order", (term_years, idempotency_key, reseller_id)))
        if idempotency_key in self.idempotency:
            return copy.deepcopy(self.orders[self.idempotency[idempotency_key]])
        self._link(token)
        if token == "tok_lapsed":
            raise problem(self.service, 409, "Lapsed too long")
        if term_years not in (1, 2, 3):
            raise problem(self.service, 422, "Term not offered")
        quote = self.quote(token, reseller_id)
        term = next(t for t in quote["offer"]["terms"] if t["years"] == term_years)
        number = f"R-{1000 + len(self.orders)}"
        order = {
            "order_number": number,
            "status": "pending_payment",
            "license_id": "lic-1",
            "licensee_name": "Acme GmbH",
            "product_name": "Pro Suite",
            "license_key_masked": "ABCD-****-****-WXYZ",
            "billing": RESELLER_BILLING if reseller_id else END_CUSTOMER,
            "end_customer": END_CUSTOMER,
            "reseller_id": reseller_id,
            "term_years": term_years,
            "years_charged": term["years_charged"],
            "price_per_year": quote["offer"]["price_per_year"],
            "total": term["total"],
            "effective_discount_bp": quote["offer"]["effective_discount_bp"],
            "previous_maintenance_end": "2027-03-15",
            "new_maintenance_end": term["new_maintenance_end"],
            "payment_methods": ["card", "invoice"] if reseller_id == "r-invoice" else ["card"],
            "created_at": "2027-02-01T10:00:00+00:00",
            "paid_at": None,
            "card_brand": None,
            "card_last4": None,
            "_token": token,
        }
        self.orders[number] = order
        self.idempotency[idempotency_key] = number
        return self._public(order)

    @staticmethod
    def _public(order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in copy.deepcopy(order).items() if not k.startswith("_")}

    def _buyer_order(self, order_number: str, token: str | None, reseller_id: str | None) -> dict[str, Any]:
        order = self.orders.get(order_number)
        if order is None:
            raise problem(self.service, 404, "Order not found")
        if order["reseller_id"]:
            if reseller_id != order["reseller_id"]:
                raise problem(self.service, 404, "Order not found")
        elif token != order["_token"]:
            raise problem(self.service, 404, "Order not found")
        return order

    def pay(
        self,
        order_number: str,
        payment: dict[str, Any],
        idempotency_key: str,
        token: str | None = None,
        reseller_id: str | None = None,
    ) -> dict[str, Any]:
        self._check()
        self.calls.append(("pay", (order_number, payment, idempotency_key, token, reseller_id)))
        order = self._buyer_order(order_number, token, reseller_id)
        if payment["method"] == "invoice" and "invoice" not in order["payment_methods"]:
            raise problem(self.service, 422, "Invoice not allowed")
        if payment["method"] == "card" and payment["card"]["number"] in self.decline_numbers:
            raise problem(self.service, 402, "Payment declined", reason="card declined")
        order.update(status="paid", paid_at="2027-02-01T10:05:00+00:00")
        if payment["method"] == "card":
            order.update(card_brand="visa", card_last4=payment["card"]["number"][-4:])
        self.links[order["_token"]] = "redeemed"
        return self._public(order)

    def get_order(
        self,
        order_number: str,
        token: str | None = None,
        reseller_id: str | None = None,
    ) -> dict:
        self._check()
        return self._public(self._buyer_order(order_number, token, reseller_id))

    def list_orders(self, reseller_id: str) -> list[dict[str, Any]]:
        self._check()
        return [self._public(o) for o in self.orders.values() if o["reseller_id"] == reseller_id]

    def forward(self, method: str, path: str, json: Any = None, params: dict | None = None) -> tuple[int, dict]:
        self._check()
        self.forwarded.append((method, path, json if method != "get" else params))
        if path.endswith("/extension-link"):
            return 201, {
                "url": f"http://127.0.0.1:8000/extend/{TOKEN}",
                "link_id": "link-1",
                "token": TOKEN,
            }
        if path == "/admin/licenses/missing":
            raise problem(self.service, 404, "License not found")
        return (200 if method == "get" else 201), {"ok": True, "path": path}


class FakeResellers:
    service = "reseller-service"

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {
            "r-1": self._account("r-1", "rita@resell.example", "approved"),
            "r-pending": self._account("r-pending", "pending@resell.example", "pending"),
            "r-invoice": {
                **self._account("r-invoice", "inv@resell.example", "approved"),
                "invoice_allowed": True,
            },
        }
        self.passwords = {a["email"]: "correct horse battery" for a in self.accounts.values()}
        self.registrations: list[dict[str, Any]] = []
        self.change_requests: list[dict[str, Any]] = []
        self.reset_requests: list[str] = []
        self.completed_resets: list[tuple[str, str]] = []
        self.rate_limited = False
        self.down = False
        self.account_calls = 0
        self.forwarded: list[tuple[str, str, Any]] = []

    @staticmethod
    def _account(rid: str, email: str, status: str) -> dict[str, Any]:
        return {
            "id": rid,
            "company": "Resell Ltd",
            "contact_name": "Rita Reseller",
            "email": email,
            "phone": "+49 40 1234",
            "status": status,
            "discount_bp": 1000,
            "invoice_allowed": False,
            "billing": RESELLER_BILLING,
            "session_version": 1,
        }

    def _check(self) -> None:
        if self.down:
            raise ServiceDown(self.service)

    def register(self, registration: dict[str, Any]) -> dict[str, Any]:
        self._check()
        if any(a["email"] == registration["email"] for a in self.accounts.values()):
            raise problem(self.service, 409, "Email taken")
        if len(registration["password"]) < 12:
            raise problem(self.service, 422, "Invalid", errors={"password": ["Too short."]})
        self.registrations.append(registration)
        rid = f"r-new-{len(self.registrations)}"
        self.accounts[rid] = self._account(rid, registration["email"], "pending")
        return {"id": rid, "status": "pending"}

    def authenticate(self, email: str, password: str) -> dict[str, Any]:
        self._check()
        if self.rate_limited:
            raise DownstreamError(self.service, 429, {"title": "Too many attempts", "status": 429}, "30")
        account = next((a for a in self.accounts.values() if a["email"] == email), None)
        if account is None or self.passwords.get(email) != password:
            raise problem(self.service, 401, "Invalid credentials")
        if account["status"] != "approved":
            raise problem(self.service, 403, "Not approved", account_status=account["status"])
        return copy.deepcopy(account)

    def account(self, reseller_id: str) -> dict[str, Any]:
        self._check()
        self.account_calls += 1
        if reseller_id not in self.accounts:
            raise problem(self.service, 404, "Not found")
        return copy.deepcopy(self.accounts[reseller_id])

    def request_password_reset(self, email: str) -> None:
        self._check()
        self.reset_requests.append(email)

    def complete_password_reset(self, token: str, new_password: str) -> None:
        self._check()
        if token != "reset-ok":
            raise problem(self.service, 400, "Invalid or expired reset link")
        if len(new_password) < 12:
            raise problem(
                self.service,
                422,
                "Weak password",
                errors={"new_password": ["Too weak."]},
            )
        self.completed_resets.append((token, new_password))
        self.accounts["r-1"]["session_version"] += 1

    def change_request(self, request: dict[str, Any]) -> dict[str, Any]:
        self._check()
        self.change_requests.append(request)
        return {"id": f"cr-{len(self.change_requests)}"}

    def forward(self, method: str, path: str, json: Any = None, params: dict | None = None) -> tuple[int, dict]:
        self._check()
        self.forwarded.append((method, path, json if method != "get" else params))
        if method == "get":
            return 200, {
                "resellers": [
                    a for a in self.accounts.values() if a["status"] == (params or {}).get("status", a["status"])
                ]
            }
        return 200, {"ok": True}


class FakeForwarder:
    def __init__(self, service: str) -> None:
        self.service = service
        self.forwarded: list[tuple[str, str, Any]] = []
        self.down = False

    def forward(self, method: str, path: str, json: Any = None, params: dict | None = None) -> tuple[int, dict]:
        if self.down:
            raise ServiceDown(self.service)
        self.forwarded.append((method, path, json if method != "get" else params))
        if path == "/admin/reminder-scans":
            return 200, {
                "as_of": (json or {}).get("as_of") or dt.date(2027, 2, 1).isoformat(),
                "reminders_queued": 3,
            }
        return 200, {"ok": True}


class MutableClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- a whole gateway on fakes (unit tests, schemathesis against the app alone) ---------------------------
OPS_TOKEN = "ops-token-for-tests-0123456789"


def make_settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "service": "gateway",
        "mode": "embedded",
        "database_url": None,
        "broker_url": "redis://127.0.0.1:1/1",
        "redis_url": "redis://127.0.0.1:1/0",
        "smtp_url": "smtp://127.0.0.1:1",
        "public_base_url": "http://127.0.0.1:8000",
        "ops_token": OPS_TOKEN,
        "service_token": "service-token-for-tests-0123",
        "link_secret": "link-secret-for-tests-0123",
        "link_secret_previous": None,
        "session_secret": "session-secret-for-tests-0123",
        "order_service_url": "http://127.0.0.1:8001",
        "token_service_url": "http://127.0.0.1:8002",
        "reseller_service_url": "http://127.0.0.1:8003",
        "bus_namespace": "test",
        "redis_prefix": "test:",
        "max_lapse_days": 365,
        "log_level": "WARNING",
    }
    values.update(changes)
    return Settings(**values)


@dataclass
class World:
    app: Flask
    client: FlaskClient
    orders: FakeOrders
    resellers: FakeResellers
    tokens: FakeForwarder
    notifier: FakeForwarder
    redis: FakeRedis
    clock: MutableClock

    def csrf(self, path: str = "/reseller/login") -> str:
        """The CSRF token rendered into a page's form."""
        html = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
            r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html
        )
        assert match, f"no csrf token on {path}"
        return match.group(1)

    def login(self, email: str = "rita@resell.example", next_path: str | None = None) -> Any:
        token = self.csrf()
        data = {
            "csrf_token": token,
            "email": email,
            "password": "correct horse battery",
        }
        if next_path is not None:
            data["next"] = next_path
        return self.client.post("/reseller/login", data=data)

    def api_csrf(self) -> str:
        return self.client.get("/api/v1/session").get_json()["csrf_token"]


def build_world(tmp_path: Any = None, **settings_changes: Any) -> World:
    orders, resellers = FakeOrders(), FakeResellers()
    tokens, notifier = FakeForwarder("token-service"), FakeForwarder("notifier")
    redis, clock = FakeRedis(), MutableClock()
    overrides: dict[str, Any] = {}
    if tmp_path is not None:
        overrides["mailbox_dir"] = str(tmp_path / "mailbox")
    from gateway.entrypoints.flask_app import create_app

    app = create_app(
        make_settings(**settings_changes),
        order_client=orders,
        reseller_client=resellers,
        token_client=tokens,
        notifier_client=notifier,
        redis=redis,
        session_clock=clock,
        **overrides,
    )
    app.config["TESTING"] = True
    return World(app, app.test_client(), orders, resellers, tokens, notifier, redis, clock)
