"""The operations console at /admin on fakes: its own login, CSRF on every form, an audit entry per action."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher

from gateway.adapters.operations_client import OperationsClient
from gateway.adapters.operations_store import OperationsStore, operations_store
from gateway.entrypoints.admin_pages import build_console
from gateway.fakes import World, build_world
from gateway.operations_fakes import FakeAdminService, FakeOpsRedis, problem

OPERATOR = "ops@example.com"
PASSWORD = "a long operator passphrase"
FAST_ARGON2 = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

PARTY = {
    "name": "Rita Reseller",
    "company": "Resell Ltd",
    "email": "billing@resell.example",
    "vat_id": "DE123",
    "address": {
        "line1": "9 Trade Rd",
        "line2": "",
        "postal_code": "20095",
        "city": "Hamburg",
        "region": "",
        "country": "DE",
    },
}
END_CUSTOMER = {**PARTY, "name": "Erin End", "company": "Acme GmbH", "email": "it@acme.example", "vat_id": None}
LINK_URL = "http://127.0.0.1:8000/extend/raw-token-never-in-the-audit-log-0123"


def _account(rid: str, status: str) -> dict[str, Any]:
    return {
        "id": rid,
        "company": f"Company {rid}",
        "contact_name": "Rita",
        "email": f"{rid}@resell.example",
        "phone": "+49 40 1",
        "status": status,
        "discount_bp": 1000,
        "invoice_allowed": False,
        "billing": PARTY,
        "session_version": 1,
        "configured_discount_bp": 1000,
        "status_reason": "",
        "created_at": "2027-01-01T10:00:00+00:00",
    }


class Backends:
    def __init__(self) -> None:
        self.accounts = {"r-p": _account("r-p", "pending"), "r-a": _account("r-a", "approved")}
        self.change_requests = [
            {
                "id": "cr-1",
                "reseller_id": "r-a",
                "reseller_email": "r-a@resell.example",
                "previous_order_number": "R-2026-000001",
                "topic": "end_customer",
                "message": "The end customer moved to Munich.",
                "status": "open",
                "created_at": "2027-02-01T09:00:00+00:00",
                "closed_at": None,
                "closed_by": None,
            }
        ]
        self.dead = {
            "order": [
                {
                    "id": "ev-1",
                    "type": "extension_link.revoked",
                    "attempts": 5,
                    "error": "boom",
                    "data": {"link_id": "l-1"},
                }
            ]
        }
        self.products = [
            {
                "sku": "PRO",
                "name": "Pro Suite",
                "edition": "Enterprise",
                "price_lists": [
                    {
                        "id": 1,
                        "product_sku": "PRO",
                        "currency": "EUR",
                        "price_per_seat_year": 4999,
                        "valid_from": "2020-01-01",
                        "valid_to": None,
                    }
                ],
            }
        ]
        self.resellers = FakeAdminService("reseller-service", self._reseller_routes())
        self.orders = FakeAdminService("order-service", self._order_routes())
        self.tokens = FakeAdminService("token-service", self._dead_letter_routes("token"))
        self.notifier = FakeAdminService(
            "notifier",
            {
                ("post", "/admin/reminder-scans"): lambda body, _h: {
                    "as_of": (body or {}).get("as_of") or "2027-02-01",
                    "reminders_queued": 3,
                },
                **self._dead_letter_routes("notifier"),
            },
        )

    def _dead_letter_routes(self, service: str) -> dict:
        def listing(_p: Any, _h: Any) -> dict:
            return {"service": service, "dead_letters": self.dead.get(service, [])}

        def replay(body: dict, _h: Any) -> dict:
            rows = [r for r in self.dead.get(service, []) if body.get("all") or r["id"] in body["ids"]]
            self.dead[service] = [r for r in self.dead.get(service, []) if r not in rows]
            return {"service": service, "replayed": rows}

        def discard(body: dict, _h: Any) -> dict:
            rows = [r for r in self.dead.get(service, []) if r["id"] in body["ids"]]
            self.dead[service] = [r for r in self.dead.get(service, []) if r not in rows]
            return {"service": service, "discarded": rows}

        return {
            ("get", "/admin/dead-letters"): listing,
            ("post", "/admin/dead-letters/replay"): replay,
            ("post", "/admin/dead-letters/discard"): discard,
        }

    def _reseller_routes(self) -> dict:
        routes: dict = {
            ("get", "/admin/resellers"): lambda params, _h: {
                "resellers": [
                    a for a in self.accounts.values() if not params.get("status") or a["status"] == params["status"]
                ]
            },
            ("get", "/admin/change-requests"): lambda params, _h: {
                "change_requests": [
                    c for c in self.change_requests if not params.get("status") or c["status"] == params["status"]
                ]
            },
            **self._dead_letter_routes("reseller"),
        }
        for rid in self.accounts:
            routes[("get", f"/resellers/{rid}")] = lambda _p, _h, rid=rid: self.accounts[rid]
            routes[("get", f"/admin/resellers/{rid}/billing-edits")] = lambda _p, _h: {"billing_edits": []}
            routes[("post", f"/admin/resellers/{rid}/approve")] = lambda body, _h, rid=rid: self._decide(
                rid, "approved", body
            )
            routes[("post", f"/admin/resellers/{rid}/reject")] = lambda body, _h, rid=rid: self._decide(
                rid, "rejected", body
            )
            routes[("post", f"/admin/resellers/{rid}/suspend")] = lambda body, _h, rid=rid: self._decide(
                rid, "suspended", body
            )
            routes[("patch", f"/admin/resellers/{rid}/billing")] = lambda body, _h, rid=rid: self._billing(rid, body)

        def close(_b: Any, headers: dict) -> dict:
            self.change_requests[0].update(
                status="closed", closed_at="2027-02-02T10:00:00+00:00", closed_by=headers.get("X-Actor")
            )
            return self.change_requests[0]

        routes[("post", "/admin/change-requests/cr-1/close")] = close
        return routes

    def _decide(self, rid: str, status: str, body: dict) -> dict:
        account = self.accounts[rid]
        if status == "approved" and account["status"] == "approved":
            raise problem("reseller-service", 409, "Conflict", detail="an approved account cannot become approved")
        account["status"] = status
        if body.get("discount_bp") is not None:
            account["discount_bp"] = account["configured_discount_bp"] = body["discount_bp"]
        account["status_reason"] = body.get("reason", "")
        return account

    def _billing(self, rid: str, body: dict) -> dict:
        self.accounts[rid]["billing"] = body
        return self.accounts[rid]

    def _order_routes(self) -> dict:
        license_ = {
            "id": "lic-1",
            "license_key": "ABCD-EFGH-IJKL-MNOP",
            "product_sku": "PRO",
            "seats": 5,
            "licensee_name": "Acme GmbH",
            "purchase_date": "2020-03-15",
            "maintenance_end": "2027-03-15",
            "contact_email": "it@acme.example",
            "currency": "EUR",
            "end_customer": END_CUSTOMER,
            "previous_order_number": "R-2026-000001",
            "reseller_id": None,
        }
        order = {
            "order_number": "R-2026-000001",
            "status": "paid",
            "license_id": "lic-1",
            "licensee_name": "Acme GmbH",
            "product_name": "Pro Suite",
            "license_key_masked": "****-****-****-MNOP",
            "billing": PARTY,
            "end_customer": END_CUSTOMER,
            "total": {"amount": 4500, "currency": "EUR"},
            "previous_maintenance_end": "2026-03-15",
            "new_maintenance_end": "2027-03-15",
            "created_at": "2026-03-01T10:00:00+00:00",
        }

        def add_price_list(body: dict, _h: Any) -> dict:
            self.products[0]["price_lists"].append({"id": 2, "valid_to": None, **body})
            return {"id": 2, **body}

        return {
            ("get", "/admin/orders/R-2026-000001"): lambda _p, _h: order,
            ("get", "/admin/licenses"): lambda params, _h: {
                "licenses": [license_]
                if params.get("key") == license_["license_key"]
                or params.get("order_number") == "R-2026-000001"
                or "acme" in params.get("licensee", "").lower()
                else []
            },
            ("get", "/admin/licenses/lic-1"): lambda _p, _h: {
                **license_,
                "history": [
                    {
                        "at": "2026-03-01T10:00:00+00:00",
                        "change": "registered",
                        "source": "import",
                        "order_number": None,
                        "details": {},
                    }
                ],
            },
            ("post", "/admin/licenses/lic-1/extension-link"): lambda _b, _h: {"url": LINK_URL, "link_id": "link-7"},
            ("get", "/admin/products"): lambda _p, _h: {"products": self.products},
            ("post", "/admin/price-lists"): add_price_list,
            **self._dead_letter_routes("order"),
        }


@dataclass
class Ops:
    world: World
    backends: Backends
    store: OperationsStore
    redis: FakeOpsRedis

    @property
    def client(self) -> Any:
        return self.world.client

    def audit(self) -> list[dict[str, Any]]:
        return self.store.audit.latest(0, 1000)

    def actions(self) -> list[str]:
        return [e["action"] for e in self.audit()]

    def login_csrf(self) -> str:
        html = self.client.get("/admin/login").get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def login(self, email: str = OPERATOR, password: str = PASSWORD, next_path: str | None = None) -> Any:
        data = {"csrf_token": self.login_csrf(), "email": email, "password": password}
        if next_path:
            data["next"] = next_path
        return self.client.post("/admin/login", data=data)

    def csrf(self, path: str = "/admin/") -> str:
        html = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, page: str = "/admin/") -> Any:
        return self.client.post(path, data={"csrf_token": self.csrf(page), **(data or {})})


@pytest.fixture
def ops(tmp_path: Any) -> Ops:
    world = build_world(tmp_path)
    backends = Backends()
    redis = FakeOpsRedis()
    gateway = world.app.extensions["gateway"]
    store = operations_store(redis, "test:", gateway.session_policy, world.clock, FAST_ARGON2)
    store.operators.create(OPERATOR, PASSWORD)
    client = OperationsClient(backends.orders, backends.tokens, backends.resellers, backends.notifier)
    world.app.extensions["operations_console"] = build_console(gateway, store=store, client=client)
    return Ops(world, backends, store, redis)


@pytest.fixture
def signed_in(ops: Ops) -> Ops:
    assert ops.login().status_code == 303
    return ops


# --- login, sessions, CSRF ---------------------------------------------------------------------------------------

CONSOLE_PAGES = [
    "/admin/",
    "/admin/resellers",
    "/admin/resellers/r-p",
    "/admin/change-requests",
    "/admin/change-requests/cr-1",
    "/admin/licenses?key=ABCD-EFGH-IJKL-MNOP",
    "/admin/licenses/lic-1",
    "/admin/price-lists",
    "/admin/dead-letters",
    "/admin/reminder-scans",
    "/admin/audit",
]
CONSOLE_POSTS = [
    "/admin/resellers/r-p/approve",
    "/admin/resellers/r-p/reject",
    "/admin/resellers/r-a/suspend",
    "/admin/resellers/r-a/billing",
    "/admin/change-requests/cr-1/close",
    "/admin/licenses/lic-1/extension-link",
    "/admin/price-lists",
    "/admin/dead-letters/order/replay",
    "/admin/dead-letters/order/discard",
    "/admin/reminder-scans",
    "/admin/logout",
]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_every_console_page_needs_an_operator_login(ops: Ops, path: str) -> None:
    response = ops.client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/admin/login?next=")
    assert ops.backends.resellers.calls == [] and ops.backends.orders.calls == []


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_every_console_page_renders_for_an_operator(signed_in: Ops, path: str) -> None:
    response = signed_in.client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    assert OPERATOR in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", CONSOLE_POSTS)
def test_every_console_form_needs_a_login_then_the_operator_csrf_token(ops: Ops, path: str) -> None:
    assert ops.client.post(path, data={}).status_code == 303  # not signed in: to the login page
    ops.login()
    before = len(ops.backends.resellers.calls + ops.backends.orders.calls + ops.backends.notifier.calls)
    for token in (None, "forged"):
        data = {"reason": "x", "ids": "ev-1"} | ({"csrf_token": token} if token else {})
        response = ops.client.post(path, data=data)
        assert response.status_code == 400
        assert "This form has expired" in response.get_data(as_text=True)
    after = len(ops.backends.resellers.calls + ops.backends.orders.calls + ops.backends.notifier.calls)
    assert after == before  # nothing reached a service
    assert ops.actions()[:2] == ["csrf_rejected", "csrf_rejected"]
    assert ops.client.get("/admin/").status_code == 200  # still signed in


def test_a_reseller_session_does_not_open_the_console_and_an_operator_session_is_not_a_reseller(ops: Ops) -> None:
    ops.world.login()  # reseller portal login
    assert ops.client.get("/admin/").status_code == 303
    ops.client.post("/reseller/logout", data={"csrf_token": ops.world.csrf("/reseller/account")})
    ops.login()
    assert ops.client.get("/admin/").status_code == 200
    account = ops.client.get("/reseller/account")
    assert account.status_code in (302, 303)  # the reseller portal still wants a reseller login
    cookies = {c.key for c in ops.client._cookies.values()}
    assert "renewals_ops" in cookies


def test_login_with_a_wrong_password_or_unknown_email_says_the_same_and_is_audited(ops: Ops) -> None:
    wrong = ops.login(password="not the password at all")
    unknown = ops.login(email="nobody@example.com", password="not the password at all")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "The email or the password is wrong." in response.get_data(as_text=True)
    entries = ops.audit()
    assert [(e["actor"], e["action"], e["outcome"]) for e in entries[:2]] == [
        ("nobody@example.com", "login", "failed: wrong email or password"),
        (OPERATOR, "login", "failed: wrong email or password"),
    ]
    assert all(PASSWORD not in str(e) and "not the password" not in str(e) for e in entries)


def test_login_is_locked_after_five_failures_even_with_the_right_password(ops: Ops) -> None:
    for _ in range(5):
        assert ops.login(password="wrong wrong wrong").status_code == 401
    locked = ops.login()
    assert locked.status_code == 429
    assert ops.audit()[0]["outcome"] == "refused: too many failed attempts"


def test_login_form_has_its_own_csrf_check(ops: Ops) -> None:
    ops.client.get("/admin/login")
    response = ops.client.post("/admin/login", data={"csrf_token": "forged", "email": OPERATOR, "password": PASSWORD})
    assert response.status_code == 400
    assert ops.client.get("/admin/").status_code == 303
    assert ops.actions()[0] == "csrf_rejected"


def test_login_returns_to_the_console_page_asked_for_never_elsewhere(ops: Ops) -> None:
    assert ops.login(next_path="/admin/dead-letters").headers["Location"] == "/admin/dead-letters"
    ops.post("/admin/logout")
    assert ops.login(next_path="https://evil.example/").headers["Location"] == "/admin/"
    ops.post("/admin/logout")
    assert ops.login(next_path="/reseller/account").headers["Location"] == "/admin/"


def test_logout_ends_the_operator_session_and_is_audited(signed_in: Ops) -> None:
    response = signed_in.post("/admin/logout")
    assert response.status_code == 303
    assert signed_in.client.get("/admin/").status_code == 303
    assert signed_in.actions()[:2] == ["logout", "login"]


def test_operator_sessions_end_after_30_idle_minutes(signed_in: Ops) -> None:
    signed_in.world.clock.advance(29 * 60)
    assert signed_in.client.get("/admin/").status_code == 200
    signed_in.world.clock.advance(31 * 60)
    assert signed_in.client.get("/admin/").status_code == 303


def test_operator_session_id_is_stored_only_in_redis_under_the_prefix(signed_in: Ops) -> None:
    keys = [k for k in signed_in.redis.data if k.startswith("test:gateway:ops:session:")]
    assert len(keys) == 1
    stored_user = signed_in.redis.data["test:gateway:ops:user:ops@example.com"]
    assert "$argon2id$" in stored_user and PASSWORD not in stored_user


# --- resellers ----------------------------------------------------------------------------------------------------


def test_pending_resellers_are_listed_and_approved_with_a_discount(signed_in: Ops) -> None:
    page = signed_in.client.get("/admin/resellers").get_data(as_text=True)
    assert "Company r-p" in page and "Company r-a" not in page
    response = signed_in.post(
        "/admin/resellers/r-p/approve", {"discount_bp": "1500", "invoice_allowed": "y"}, page="/admin/resellers"
    )
    assert response.status_code == 303
    method, path, body, headers = signed_in.backends.resellers.calls[-1]
    assert (method, path, body) == (
        "post",
        "/admin/resellers/r-p/approve",
        {"discount_bp": 1500, "invoice_allowed": True},
    )
    assert headers["X-Actor"] == f"ops:{OPERATOR}"
    entry = signed_in.audit()[0]
    assert (entry["actor"], entry["action"], entry["target"], entry["outcome"]) == (
        OPERATOR,
        "reseller.approve",
        "r-p",
        "ok",
    )
    assert entry["details"] == {"discount_bp": 1500, "invoice_allowed": True}
    assert "Reseller approved." in signed_in.client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_out_of_range_discount_is_refused_before_any_call(signed_in: Ops) -> None:
    signed_in.post("/admin/resellers/r-p/approve", {"discount_bp": "10001"})
    assert not any(c[1].endswith("/approve") for c in signed_in.backends.resellers.calls)


def test_rejecting_needs_a_reason_and_passes_it_on(signed_in: Ops) -> None:
    signed_in.post("/admin/resellers/r-p/reject", {"reason": ""})
    assert not any(c[1].endswith("/reject") for c in signed_in.backends.resellers.calls)
    signed_in.post("/admin/resellers/r-p/reject", {"reason": "No VAT ID."})
    assert signed_in.backends.accounts["r-p"]["status"] == "rejected"
    assert signed_in.audit()[0]["details"] == {"reason": "No VAT ID."}


def test_a_refused_action_is_audited_with_its_failure_and_explained(signed_in: Ops) -> None:
    response = signed_in.post("/admin/resellers/r-a/approve", {"discount_bp": "1000"})
    entry = signed_in.audit()[0]
    assert entry["action"] == "reseller.approve" and entry["outcome"].startswith("failed: reseller-service 409")
    page = signed_in.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "reseller-service refused (409 Conflict)" in page


def test_a_service_down_is_audited_and_the_page_says_nothing_changed(signed_in: Ops) -> None:
    csrf = signed_in.csrf()
    signed_in.backends.resellers.down = True
    response = signed_in.client.post("/admin/resellers/r-p/reject", data={"csrf_token": csrf, "reason": "x"})
    assert signed_in.audit()[0]["outcome"] == "failed: reseller-service unavailable"
    down_page = signed_in.client.get(response.headers["Location"])
    assert down_page.status_code == 503 and down_page.headers["Retry-After"] == "5"
    assert "nothing was changed" in down_page.get_data(as_text=True)


def test_billing_edit_sends_the_whole_party_and_is_audited(signed_in: Ops) -> None:
    page = signed_in.client.get("/admin/resellers/r-a").get_data(as_text=True)
    assert 'value="9 Trade Rd"' in page
    form = {
        "name": "Rita Reseller",
        "company": "Resell Ltd",
        "email": "billing@resell.example",
        "line1": "1 New St",
        "line2": "",
        "postal_code": "80331",
        "city": "Munich",
        "region": "",
        "country": "DE",
        "vat_id": "",
    }
    response = signed_in.post("/admin/resellers/r-a/billing", form, page="/admin/resellers/r-a")
    assert response.status_code == 303
    _, path, body, headers = signed_in.backends.resellers.calls[-1]
    assert path == "/admin/resellers/r-a/billing" and headers["X-Actor"] == f"ops:{OPERATOR}"
    assert body["address"]["city"] == "Munich" and body["vat_id"] is None
    assert signed_in.audit()[0]["action"] == "reseller.billing_edit"


def test_billing_edit_with_a_missing_field_shows_the_error_and_calls_nothing(signed_in: Ops) -> None:
    response = signed_in.post("/admin/resellers/r-a/billing", {"name": "", "email": "x"}, page="/admin/resellers/r-a")
    assert response.status_code == 422
    assert not any(c[0] == "patch" for c in signed_in.backends.resellers.calls)


def test_suspend_is_audited(signed_in: Ops) -> None:
    signed_in.post("/admin/resellers/r-a/suspend", {"reason": "chargebacks"})
    assert signed_in.backends.accounts["r-a"]["status"] == "suspended"
    assert signed_in.audit()[0]["action"] == "reseller.suspend"


# --- change requests ----------------------------------------------------------------------------------------------


def test_a_change_request_shows_its_previous_order_from_order_service_and_closes(signed_in: Ops) -> None:
    listing = signed_in.client.get("/admin/change-requests").get_data(as_text=True)
    assert "R-2026-000001" in listing
    page = signed_in.client.get("/admin/change-requests/cr-1").get_data(as_text=True)
    assert "The end customer moved to Munich." in page
    assert "Erin End" in page and "45.00" in page  # the order's end customer and total
    assert "ABCD-EFGH-IJKL-MNOP" in page  # the license referring to it
    assert ("get", "/admin/orders/R-2026-000001") in [(c[0], c[1]) for c in signed_in.backends.orders.calls]
    signed_in.post("/admin/change-requests/cr-1/close", page="/admin/change-requests/cr-1")
    assert signed_in.backends.change_requests[0]["closed_by"] == f"ops:{OPERATOR}"
    assert signed_in.audit()[0]["action"] == "change_request.close"
    assert "No open change requests" in signed_in.client.get("/admin/change-requests").get_data(as_text=True)


def test_a_change_request_whose_order_is_unknown_still_shows(signed_in: Ops) -> None:
    signed_in.backends.change_requests[0]["previous_order_number"] = "R-1999-000001"
    page = signed_in.client.get("/admin/change-requests/cr-1").get_data(as_text=True)
    assert "No order with this number in order-service." in page


# --- licenses -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["key=ABCD-EFGH-IJKL-MNOP", "licensee=acme", "order_number=R-2026-000001"])
def test_license_lookup_by_key_licensee_or_order_number(signed_in: Ops, query: str) -> None:
    page = signed_in.client.get(f"/admin/licenses?{query}").get_data(as_text=True)
    assert "/admin/licenses/lic-1" in page


def test_license_page_shows_history_and_resends_the_extension_link_without_logging_the_token(signed_in: Ops) -> None:
    page = signed_in.client.get("/admin/licenses/lic-1").get_data(as_text=True)
    assert "registered" in page and 'id="license-history"' in page
    response = signed_in.post("/admin/licenses/lic-1/extension-link", page="/admin/licenses/lic-1")
    assert response.status_code == 200
    assert LINK_URL in response.get_data(as_text=True)
    entry = signed_in.audit()[0]
    assert (entry["action"], entry["target"], entry["details"]) == (
        "license.extension_link",
        "lic-1",
        {"link_id": "link-7"},
    )
    assert "raw-token" not in str(signed_in.redis.data)


# --- price lists ----------------------------------------------------------------------------------------------------


def test_price_lists_are_listed_and_added(signed_in: Ops) -> None:
    page = signed_in.client.get("/admin/price-lists").get_data(as_text=True)
    assert "Pro Suite" in page and "49.99" in page
    form = {
        "product_sku": "PRO",
        "currency": "USD",
        "price_per_seat_year": "5999",
        "valid_from": "2027-01-01",
        "valid_to": "",
    }
    response = signed_in.post("/admin/price-lists", form, page="/admin/price-lists")
    assert response.status_code == 303
    _, path, body, _ = signed_in.backends.orders.calls[-1]
    assert path == "/admin/price-lists"
    assert body == {"product_sku": "PRO", "currency": "USD", "price_per_seat_year": 5999, "valid_from": "2027-01-01"}
    assert signed_in.audit()[0]["action"] == "price_list.add"


def test_an_invalid_price_list_shows_errors(signed_in: Ops) -> None:
    response = signed_in.post(
        "/admin/price-lists", {"product_sku": "PRO", "currency": "eur"}, page="/admin/price-lists"
    )
    assert response.status_code == 422
    assert "Three capital letters." in response.get_data(as_text=True)


# --- dead letters -------------------------------------------------------------------------------------------------


def test_dead_letters_of_every_service_are_listed_with_their_data(signed_in: Ops) -> None:
    page = signed_in.client.get("/admin/dead-letters").get_data(as_text=True)
    for service in ("order", "token", "reseller", "notifier"):
        assert f'id="dead-letters-{service}"' in page
    assert "ev-1" in page and "extension_link.revoked" in page and "l-1" in page


def test_one_service_down_does_not_hide_the_others_dead_letters(signed_in: Ops) -> None:
    signed_in.backends.tokens.down = True
    response = signed_in.client.get("/admin/dead-letters")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "token-service is not answering" in html and "ev-1" in html


def test_dead_letters_are_replayed_by_id_and_audited(signed_in: Ops) -> None:
    response = signed_in.post("/admin/dead-letters/order/replay", {"ids": "ev-1"}, page="/admin/dead-letters")
    assert response.status_code == 303
    assert signed_in.backends.orders.calls[-1][2] == {"ids": ["ev-1"]}
    entry = signed_in.audit()[0]
    assert (entry["action"], entry["target"]) == ("dead_letters.replay", "order")
    assert entry["details"]["replayed"] == ["ev-1"]
    assert signed_in.backends.dead["order"] == []


def test_replay_all_is_explicit(signed_in: Ops) -> None:
    signed_in.post("/admin/dead-letters/order/replay", {}, page="/admin/dead-letters")
    assert not any(c[1].endswith("/replay") for c in signed_in.backends.orders.calls)
    signed_in.post("/admin/dead-letters/order/replay", {"all": "1"}, page="/admin/dead-letters")
    assert signed_in.backends.orders.calls[-1][2] == {"all": True}


def test_dead_letters_are_discarded_and_audited(signed_in: Ops) -> None:
    signed_in.post("/admin/dead-letters/order/discard", {"ids": "ev-1"}, page="/admin/dead-letters")
    assert signed_in.backends.dead["order"] == []
    assert signed_in.audit()[0]["details"]["discarded"] == ["ev-1"]


def test_an_unknown_service_has_no_dead_letters_route(signed_in: Ops) -> None:
    assert signed_in.post("/admin/dead-letters/gateway/replay", {"all": "1"}).status_code == 404


# --- reminder scan and audit page -----------------------------------------------------------------------------------


def test_reminder_scan_runs_now_and_shows_its_result(signed_in: Ops) -> None:
    response = signed_in.post("/admin/reminder-scans", {"as_of": "2027-03-01"}, page="/admin/reminder-scans")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="reminders-queued">3<' in html and "2027-03-01" in html
    assert signed_in.backends.notifier.calls[-1][2] == {"as_of": "2027-03-01"}
    entry = signed_in.audit()[0]
    assert entry["action"] == "reminder_scan.run"
    assert entry["details"] == {"as_of": "2027-03-01", "reminders_queued": 3, "scanned_as_of": "2027-03-01"}


def test_reminder_scan_without_a_date_scans_today(signed_in: Ops) -> None:
    signed_in.post("/admin/reminder-scans", {"as_of": ""}, page="/admin/reminder-scans")
    assert signed_in.backends.notifier.calls[-1][2] == {}


def test_the_audit_page_shows_who_did_what_when(signed_in: Ops) -> None:
    signed_in.post("/admin/resellers/r-p/reject", {"reason": "No VAT ID."})
    html = signed_in.client.get("/admin/audit").get_data(as_text=True)
    assert "reseller.reject" in html and "r-p" in html and OPERATOR in html and "login" in html


def test_the_console_says_so_when_redis_is_down(signed_in: Ops) -> None:
    signed_in.redis.down = True
    response = signed_in.client.get("/admin/")
    assert response.status_code == 503
    assert "Console unavailable" in response.get_data(as_text=True)
