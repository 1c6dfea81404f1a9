from __future__ import annotations

import re

import pytest

from gateway.fakes import OPS_TOKEN, TOKEN

PROBLEM = "application/problem+json"

CARD = {
    "number": "4242 4242 4242 4242",
    "exp_month": 12,
    "exp_year": 2030,
    "cvc": "123",
    "holder": "Erin End",
}
REGISTRATION = {
    "company": "New Co",
    "contact_name": "Nia",
    "email": "nia@new.example",
    "password": "a long enough pass",
    "phone": "+1 555",
    "billing_address": {
        "line1": "1 Road",
        "postal_code": "12345",
        "city": "Town",
        "country": "US",
    },
}


def api_login(world, email="rita@resell.example"):
    return world.client.post("/api/v1/session", json={"email": email, "password": "correct horse battery"})


def test_extension_shape_for_a_direct_customer(world):
    response = world.client.get(f"/api/v1/extensions/{TOKEN}")
    assert response.status_code == 200
    body = response.get_json()
    assert {
        "id",
        "product",
        "licensee_name",
        "purchase_date",
        "maintenance_end",
    } <= set(body["license"])
    offer = body["offer"]
    assert offer["customer_discount_bp"] == 5000
    assert offer["reseller_discount_bp"] == 0
    assert offer["effective_discount_bp"] == 5000
    assert offer["list_price_per_year"] == {"amount": 10000, "currency": "EUR"}
    assert offer["price_per_year"] == {"amount": 5000, "currency": "EUR"}
    assert offer["can_extend"] is True
    assert [t["years"] for t in offer["terms"]] == [1, 2, 3]
    assert {"years", "years_charged", "new_maintenance_end", "total"} <= set(offer["terms"][0])


def test_extension_with_an_approved_reseller_session(world):
    assert api_login(world).status_code == 200
    offer = world.client.get(f"/api/v1/extensions/{TOKEN}").get_json()["offer"]
    assert offer["reseller_discount_bp"] == 1000
    assert offer["effective_discount_bp"] == 5500
    assert offer["price_per_year"]["amount"] == 4500


@pytest.mark.parametrize(("token", "status"), [("nope", 404), ("tok_redeemed", 410), ("tok_revoked", 410)])
def test_unusable_links_are_problems(world, token, status):
    response = world.client.get(f"/api/v1/extensions/{token}")
    assert response.status_code == status
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"]
    if status == 410:
        assert body["link_status"] == token.split("_")[1]


def test_service_down_is_a_503_problem(world):
    world.orders.down = True
    response = world.client.get(f"/api/v1/extensions/{TOKEN}")
    assert response.status_code == 503
    assert response.mimetype == PROBLEM
    assert "order-service" in response.get_json()["detail"]


def test_register(world):
    response = world.client.post("/api/v1/resellers", json=REGISTRATION)
    assert response.status_code == 201
    assert response.get_json()["status"] == "pending"
    assert world.client.post("/api/v1/resellers", json=REGISTRATION).status_code == 409


@pytest.mark.parametrize(
    "change",
    [
        {"status": "approved"},
        {"discount_bp": 9000},
        {"email": "not-an-email"},
        {"company": None},
    ],
)
def test_register_rejects_invalid_and_mass_assigned_fields(world, change):
    response = world.client.post("/api/v1/resellers", json={**REGISTRATION, **change})
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert response.get_json()["errors"]
    assert not world.resellers.registrations


def test_register_needs_json(world):
    assert world.client.post("/api/v1/resellers", data="x=1").status_code == 415


def test_login_sets_a_session_and_returns_a_csrf_token(world):
    response = api_login(world)
    body = response.get_json()
    assert response.status_code == 200
    assert body["authenticated"] is True
    assert body["reseller"]["company"] == "Resell Ltd"
    assert body["csrf_token"]
    assert world.client.get_cookie("renewals_session")
    state = world.client.get("/api/v1/session").get_json()
    assert state["authenticated"] is True


@pytest.mark.parametrize(
    ("email", "password", "status"),
    [
        ("rita@resell.example", "wrong", 401),
        ("ghost@x.example", "x", 401),
        ("pending@resell.example", "correct horse battery", 403),
    ],
)
def test_login_failures(world, email, password, status):
    response = world.client.post("/api/v1/session", json={"email": email, "password": password})
    assert response.status_code == status
    assert response.mimetype == PROBLEM


def test_login_rate_limited_passes_retry_after(world):
    world.resellers.rate_limited = True
    response = api_login(world)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"


def test_login_rotates_the_session_id(world):
    world.client.get("/api/v1/session")
    before = world.client.get_cookie("renewals_session").value
    csrf = world.client.get("/api/v1/session").get_json()["csrf_token"]
    world.client.post(
        "/api/v1/session",
        json={"email": "rita@resell.example", "password": "correct horse battery"},
        headers={"X-CSRF-Token": csrf},
    )
    assert world.client.get_cookie("renewals_session").value != before


def test_state_changing_calls_with_a_session_cookie_need_the_csrf_header(world):
    api_login(world)
    response = world.client.post(
        f"/api/v1/extensions/{TOKEN}/orders",
        json={"term_years": 1},
        headers={"Idempotency-Key": "k1"},
    )
    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    assert not world.orders.orders
    bad = world.client.post(
        f"/api/v1/extensions/{TOKEN}/orders",
        json={"term_years": 1},
        headers={"Idempotency-Key": "k1", "X-CSRF-Token": "forged"},
    )
    assert bad.status_code == 403
    assert world.client.delete("/api/v1/session").status_code == 403


def test_reseller_journey_through_the_api(world):
    csrf = api_login(world).get_json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    account = world.client.get("/api/v1/reseller/account").get_json()
    assert {"company", "email", "status", "discount_bp", "billing_address"} <= set(account)
    assert account["billing_address"]["line1"] == "9 Trade Rd"

    response = world.client.post(
        f"/api/v1/extensions/{TOKEN}/orders",
        json={"term_years": 2},
        headers={**headers, "Idempotency-Key": "k-1"},
    )
    assert response.status_code == 201
    order = response.get_json()
    assert order["status"] == "pending_payment"
    assert order["licensee_name"] == "Acme GmbH"
    assert order["billing_address"]["line1"] == "9 Trade Rd"
    assert order["end_customer"]["company"] == "Acme GmbH"
    assert order["total"] == {"amount": 9000, "currency": "EUR"}
    assert order["new_maintenance_end"] == "2029-03-15"

    paid = world.client.post(
        f"/api/v1/orders/{order['order_number']}/payments",
        json={"method": "card", "card": CARD},
        headers={**headers, "Idempotency-Key": "p-1"},
    )
    assert paid.status_code == 200
    assert paid.get_json()["status"] == "paid"
    assert paid.get_json()["maintenance_end"] == "2029-03-15"
    assert world.orders.calls[-1][1][1]["card"]["number"] == "4242424242424242"
    assert world.orders.calls[-1][1][4] == "r-1"

    listed = world.client.get("/api/v1/reseller/orders").get_json()["orders"]
    assert [o["order_number"] for o in listed] == [order["order_number"]]
    assert world.client.get(f"/api/v1/orders/{order['order_number']}").get_json()["status"] == "paid"

    assert world.client.delete("/api/v1/session", headers=headers).status_code == 204
    assert world.client.get("/api/v1/reseller/account").status_code == 401


def test_direct_customer_machine_client_without_cookies(world):
    client = world.app.test_client(use_cookies=False)
    created = client.post(
        f"/api/v1/extensions/{TOKEN}/orders",
        json={"term_years": 1},
        headers={"Idempotency-Key": "m-1"},
    )
    assert created.status_code == 201
    number = created.get_json()["order_number"]
    assert world.orders.orders[number]["reseller_id"] is None
    stranger = client.get(f"/api/v1/orders/{number}")
    assert stranger.status_code == 404
    declined = client.post(
        f"/api/v1/orders/{number}/payments",
        json={"method": "card", "card": {**CARD, "number": "4000000000000002"}},
        headers={"X-Extension-Token": TOKEN},
    )
    assert declined.status_code == 402
    assert declined.get_json()["reason"] == "card declined"
    paid = client.post(
        f"/api/v1/orders/{number}/payments",
        json={"method": "card", "card": CARD},
        headers={"X-Extension-Token": TOKEN},
    )
    assert paid.status_code == 200
    assert client.get(f"/api/v1/orders/{number}", headers={"X-Extension-Token": TOKEN}).status_code == 200


def test_direct_customer_with_a_cookie_keeps_access_to_its_order(world):
    created = world.client.post(
        f"/api/v1/extensions/{TOKEN}/orders",
        json={"term_years": 3},
        headers={"Idempotency-Key": "c-1"},
    )
    assert created.status_code == 201
    assert created.headers["X-CSRF-Token"]
    number = created.get_json()["order_number"]
    assert world.client.get(f"/api/v1/orders/{number}").status_code == 200


def test_order_needs_an_idempotency_key_and_a_valid_term(world):
    client = world.app.test_client(use_cookies=False)
    assert client.post(f"/api/v1/extensions/{TOKEN}/orders", json={"term_years": 1}).status_code == 400
    bad = client.post(
        f"/api/v1/extensions/{TOKEN}/orders",
        json={"term_years": 7},
        headers={"Idempotency-Key": "x"},
    )
    assert bad.status_code == 422
    bad = client.post(
        f"/api/v1/extensions/{TOKEN}/orders",
        json={"term_years": "1"},
        headers={"Idempotency-Key": "x"},
    )
    assert bad.status_code == 422


def test_card_payment_needs_card_details(world):
    client = world.app.test_client(use_cookies=False)
    number = client.post(
        f"/api/v1/extensions/{TOKEN}/orders",
        json={"term_years": 1},
        headers={"Idempotency-Key": "d-1"},
    ).get_json()["order_number"]
    response = client.post(
        f"/api/v1/orders/{number}/payments",
        json={"method": "card"},
        headers={"X-Extension-Token": TOKEN},
    )
    assert response.status_code == 422


def test_reseller_endpoints_need_a_session(world):
    for path in ("/api/v1/reseller/account", "/api/v1/reseller/orders"):
        response = world.client.get(path)
        assert response.status_code == 401
        assert response.mimetype == PROBLEM


def test_change_request_and_password_reset(world):
    client = world.app.test_client(use_cookies=False)
    body = {
        "reseller_email": "rita@resell.example",
        "previous_order_number": "R-1",
        "topic": "billing",
        "message": "m",
    }
    assert client.post("/api/v1/change-requests", json=body).status_code == 202
    assert client.post("/api/v1/change-requests", json={**body, "topic": "price"}).status_code == 422
    assert client.post("/api/v1/password-resets", json={"email": "a@b.example"}).status_code == 202
    assert (
        client.post(
            "/api/v1/password-resets/complete",
            json={"token": "bad", "new_password": "x" * 12},
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/api/v1/password-resets/complete",
            json={"token": "reset-ok", "new_password": "x" * 12},
        ).status_code
        == 204
    )


def test_admin_needs_the_ops_token(world):
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer service-token-for-tests-0123"},
    ):
        response = world.client.get("/api/v1/admin/resellers?status=pending", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == PROBLEM
    assert not world.resellers.forwarded


def test_admin_calls_are_forwarded(world):
    ops = {"Authorization": f"Bearer {OPS_TOKEN}"}
    listed = world.client.get("/api/v1/admin/resellers?status=pending", headers=ops)
    assert listed.status_code == 200
    assert world.resellers.forwarded[-1] == (
        "get",
        "/admin/resellers",
        {"status": "pending"},
    )
    approve = world.client.post(
        "/api/v1/admin/resellers/r-pending/approve",
        json={"discount_bp": 1500},
        headers=ops,
    )
    assert approve.status_code == 200
    assert world.resellers.forwarded[-1] == (
        "post",
        "/admin/resellers/r-pending/approve",
        {"discount_bp": 1500},
    )
    created = world.client.post("/api/v1/admin/licenses", json=[{"license_key": "K"}], headers=ops)
    assert created.status_code == 201
    assert world.orders.forwarded[-1] == (
        "post",
        "/admin/licenses",
        [{"license_key": "K"}],
    )
    link = world.client.post("/api/v1/admin/licenses/lic-1/extension-link", headers=ops)
    assert link.get_json()["url"].endswith(f"/extend/{TOKEN}")
    assert "token" not in link.get_json()
    scan = world.client.post("/api/v1/admin/reminder-scans", json={"as_of": "2027-01-14"}, headers=ops)
    assert scan.get_json()["reminders_queued"] == 3
    assert world.notifier.forwarded[-1] == (
        "post",
        "/admin/reminder-scans",
        {"as_of": "2027-01-14"},
    )
    revoke = world.client.post("/api/v1/admin/links/link-1/revoke", json={"reason": "test"}, headers=ops)
    assert revoke.status_code == 200
    assert world.tokens.forwarded[-1] == (
        "post",
        "/links/link-1/revoke",
        {"reason": "test"},
    )
    missing = world.client.get("/api/v1/admin/licenses/missing", headers=ops)
    assert missing.status_code == 404 and missing.mimetype == PROBLEM


def test_admin_with_ops_token_needs_no_csrf_even_with_a_cookie(world):
    api_login(world)
    response = world.client.post(
        "/api/v1/admin/resellers/r-pending/reject",
        json={"reason": "no"},
        headers={"Authorization": f"Bearer {OPS_TOKEN}"},
    )
    assert response.status_code == 200


def test_admin_path_segments_are_escaped(world):
    ops = {"Authorization": f"Bearer {OPS_TOKEN}"}
    world.client.put("/api/v1/admin/products/A%3Fb%23c", json={"name": "n"}, headers=ops)
    assert world.orders.forwarded[-1][1] == "/admin/products/A%3Fb%23c"
    assert world.client.put("/api/v1/admin/products/A%2F..%2Fx", json={}, headers=ops).status_code == 404


def test_unknown_api_route_is_a_problem(world):
    response = world.client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.mimetype == PROBLEM


def test_openapi_documents_every_api_route(world):
    spec = world.client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    for rule in world.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in (
            "/api/v1/openapi.json",
            "/api/v1/docs",
        ):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1") :])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not documented"


def test_docs_page_renders_the_paths(world):
    response = world.client.get("/api/v1/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/extensions/{token}/orders" in html
    assert "<script" not in html
