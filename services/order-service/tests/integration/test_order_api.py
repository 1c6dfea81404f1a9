"""order-service over HTTP on a real PostgreSQL: quotes, orders, payments, idempotency, races, imports."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select

from order_service.adapters import orm

SERVICE = {"Authorization": "Bearer test-service-token-0123456789"}
OPS = {"Authorization": "Bearer test-ops-token-0123456789"}
CARD_OK = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2030, "cvc": "123", "holder": "A E"}


def _link(order: SimpleNamespace, fakes: SimpleNamespace, token: str = "tok-1", **kwargs: Any) -> dict[str, Any]:
    lic = order.seed()
    fakes.tokens.add_link(token, license_id=lic["id"], cycle_end=order.end(lic["maintenance_end"]), **kwargs)
    return lic


def _headers(token: str | None = None, key: str | None = None) -> dict[str, str]:
    headers = dict(SERVICE)
    if token:
        headers["X-Extension-Token"] = token
    if key:
        headers["Idempotency-Key"] = key
    return headers


def _outbox_types(order: SimpleNamespace) -> list[str]:
    with order.engine.connect() as c:
        return list(c.execute(select(orm.outbox.c.event_type).order_by(orm.outbox.c.seq)).scalars())


def test_quote_direct_and_with_an_approved_reseller(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    _link(order, fakes)
    fakes.resellers.add("r-1")
    fakes.resellers.add("r-pending", status="pending")

    direct = order.client.get("/quote", headers=_headers("tok-1"))
    assert direct.status_code == 200, direct.get_json()
    offer = direct.get_json()["offer"]
    assert offer["list_price_per_year"] == {"amount": 9998, "currency": "EUR"}
    assert (offer["customer_discount_bp"], offer["reseller_discount_bp"], offer["effective_discount_bp"]) == (
        5000,
        0,
        5000,
    )
    assert offer["price_per_year"]["amount"] == 4999
    assert [t["new_maintenance_end"] for t in offer["terms"]] == ["2027-03-31", "2028-03-31", "2029-03-31"]
    assert direct.get_json()["license"]["license_key_masked"] == "****-****-****-MNOP"

    reseller = order.client.get("/quote?reseller_id=r-1", headers=_headers("tok-1")).get_json()["offer"]
    assert (reseller["reseller_discount_bp"], reseller["effective_discount_bp"]) == (1000, 5500)
    assert reseller["price_per_year"]["amount"] == 4499  # 9998 * 0.5 * 0.9 = 4499.1
    pending = order.client.get("/quote?reseller_id=r-pending", headers=_headers("tok-1")).get_json()["offer"]
    assert pending["reseller_discount_bp"] == 0


def test_quote_link_errors(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    _link(order, fakes)
    assert order.client.get("/quote", headers=_headers("nope")).status_code == 404
    assert order.client.get("/quote", headers=SERVICE).status_code == 404
    assert order.client.get("/quote", headers={"X-Extension-Token": "tok-1"}).status_code == 401
    fakes.tokens.set_status("tok-1", "revoked")
    gone = order.client.get("/quote", headers=_headers("tok-1"))
    assert gone.status_code == 410 and gone.get_json()["link_status"] == "revoked"
    assert gone.content_type == "application/problem+json"


def test_paid_order_extends_the_license_and_writes_the_outbox(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    lic = _link(order, fakes)
    placed = order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1", "k-1"))
    assert placed.status_code == 201, placed.get_json()
    body = placed.get_json()
    assert body["order_number"] == "R-2026-000001" and body["status"] == "pending_payment"
    assert body["billing"]["email"] == "customer@example.com" and body["payment_methods"] == ["card"]
    assert body["total"] == {"amount": 4999, "currency": "EUR"}

    paid = order.client.post(
        f"/orders/{body['order_number']}/payments",
        json={"method": "card", "card": CARD_OK},
        headers=_headers("tok-1", "p-1"),
    )
    assert paid.status_code == 200, paid.get_json()
    assert (paid.get_json()["status"], paid.get_json()["card_brand"], paid.get_json()["card_last4"]) == (
        "paid",
        "visa",
        "4242",
    )
    detail = order.client.get(f"/admin/licenses/{lic['id']}", headers=OPS).get_json()
    assert detail["maintenance_end"] == "2027-03-31"
    assert detail["previous_order_number"] == "R-2026-000001"
    assert [h["change"] for h in detail["history"]] == ["registered", "maintenance_extended"]
    assert _outbox_types(order) == ["license.registered", "order.placed", "order.paid", "license.maintenance_extended"]
    with order.engine.connect() as c:
        envelopes = list(c.execute(select(orm.outbox.c.envelope)).scalars())
        stored_cards = list(c.execute(select(orm.payments.c.card_last4, orm.payments.c.status)))
    assert "4242424242424242" not in str(envelopes) and "4242 4242" not in str(envelopes)
    assert stored_cards == [("4242", "succeeded")]
    paid_event = next(e for e in envelopes if e["type"] == "order.paid")["data"]
    assert paid_event["new_maintenance_end"] == "2027-03-31" and paid_event["total"]["amount"] == 4999

    # the same payment request again answers the stored response; a new key cannot pay twice
    again = order.client.post(
        f"/orders/{body['order_number']}/payments",
        json={"method": "card", "card": CARD_OK},
        headers=_headers("tok-1", "p-1"),
    )
    assert again.status_code == 200 and again.get_json() == paid.get_json()
    twice = order.client.post(
        f"/orders/{body['order_number']}/payments",
        json={"method": "card", "card": CARD_OK},
        headers=_headers("tok-1", "p-2"),
    )
    assert twice.status_code == 409
    assert len(fakes.cards.charges) == 1


def test_declined_card_changes_nothing(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    lic = _link(order, fakes)
    number = order.client.post("/orders", json={"term_years": 2}, headers=_headers("tok-1", "k")).get_json()[
        "order_number"
    ]
    for card_number, reason in (("4000000000000002", "card_declined"), ("4000000000009995", "insufficient_funds")):
        r = order.client.post(
            f"/orders/{number}/payments",
            headers=_headers("tok-1", card_number),
            json={"method": "card", "card": {**CARD_OK, "number": card_number}},
        )
        assert r.status_code == 402 and r.get_json()["reason"] == reason
    bad = order.client.post(
        f"/orders/{number}/payments",
        headers=_headers("tok-1", "luhn"),
        json={"method": "card", "card": {**CARD_OK, "number": "4242424242424241"}},
    )
    assert bad.status_code == 422
    expired = order.client.post(
        f"/orders/{number}/payments",
        headers=_headers("tok-1", "exp"),
        json={"method": "card", "card": {**CARD_OK, "exp_year": 2026, "exp_month": 2}},
    )
    assert expired.status_code == 422
    assert order.client.get(f"/admin/licenses/{lic['id']}", headers=OPS).get_json()["maintenance_end"] == "2026-03-31"
    assert order.client.get(f"/orders/{number}", headers=_headers("tok-1")).get_json()["status"] == "pending_payment"
    assert _outbox_types(order).count("order.payment_failed") == 2


def test_idempotency_key_replays_or_refuses(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    _link(order, fakes)
    first = order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1", "same"))
    second = order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1", "same"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json() == second.get_json()
    other = order.client.post("/orders", json={"term_years": 2}, headers=_headers("tok-1", "same"))
    assert other.status_code == 422
    assert order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1")).status_code == 422
    with order.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(orm.orders)).scalar() == 1


def test_a_repeated_order_request_gets_its_first_answer_after_the_link_is_spent(
    order: SimpleNamespace, fakes: SimpleNamespace
) -> None:
    _link(order, fakes)
    first = order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1", "once"))
    number = first.get_json()["order_number"]
    paid = order.client.post(
        f"/orders/{number}/payments", json={"method": "card", "card": CARD_OK}, headers=_headers("tok-1", "pay")
    )
    assert (first.status_code, paid.status_code) == (201, 200)
    fakes.tokens.set_status("tok-1", "redeemed")  # what token-service says once order.paid reached it
    again = order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1", "once"))
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    changed = order.client.post("/orders", json={"term_years": 2}, headers=_headers("tok-1", "once"))
    assert changed.status_code == 422 and changed.get_json()["title"] == "Idempotency key reused"
    fresh = order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1", "new-key"))
    assert fresh.status_code == 410 and fresh.get_json()["link_status"] == "redeemed"


def test_twenty_parallel_identical_requests_make_one_order(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    _link(order, fakes)
    barrier = threading.Barrier(20)

    def place(_: int) -> tuple[int, Any]:
        barrier.wait()
        r = order.client.post("/orders", json={"term_years": 3}, headers=_headers("tok-1", "parallel-key"))
        return r.status_code, r.get_json()

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(place, range(20)))
    assert {status for status, _ in results} == {201}
    assert len({body["order_number"] for _, body in results}) == 1
    with order.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(orm.orders)).scalar() == 1
    assert _outbox_types(order).count("order.placed") == 1


def test_ten_parallel_identical_payments_charge_once(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    _link(order, fakes)
    number = order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1", "o")).get_json()[
        "order_number"
    ]
    barrier = threading.Barrier(10)

    def pay(_: int) -> tuple[int, Any]:
        barrier.wait()
        r = order.client.post(
            f"/orders/{number}/payments", json={"method": "card", "card": CARD_OK}, headers=_headers("tok-1", "p")
        )
        return r.status_code, r.get_json()

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(pay, range(10)))
    assert {status for status, _ in results} == {200}
    assert all(body == results[0][1] for _, body in results) and results[0][1]["status"] == "paid"
    with order.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(orm.payments)).scalar() == 1
    assert _outbox_types(order).count("order.paid") == 1
    other = order.client.post(
        f"/orders/{number}/payments", json={"method": "invoice"}, headers=_headers("tok-1", "p")
    )  # the same key with another body
    assert other.status_code == 422 and other.get_json()["title"] == "Idempotency key reused"


def test_two_buyers_racing_for_one_link(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    lic = _link(order, fakes)
    fakes.resellers.add("r-1")
    direct = order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1", "a")).get_json()
    resold = order.client.post(
        "/orders", json={"term_years": 1, "reseller_id": "r-1"}, headers=_headers("tok-1", "b")
    ).get_json()
    assert resold["billing"]["company"] == "Resell AG" and resold["end_customer"]["company"] == "Example GmbH"
    barrier = threading.Barrier(2)

    def pay(args: tuple[str, dict[str, Any]]) -> int:
        number, extra = args
        barrier.wait()
        return order.client.post(
            f"/orders/{number}/payments",
            json={"method": "card", "card": CARD_OK, **extra},
            headers=_headers("tok-1", f"pay-{number}"),
        ).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(
            pool.map(pay, [(direct["order_number"], {}), (resold["order_number"], {"reseller_id": "r-1"})])
        )
    assert statuses == [200, 409]
    assert len(fakes.cards.charges) == 1
    assert order.client.get(f"/admin/licenses/{lic['id']}", headers=OPS).get_json()["maintenance_end"] == "2027-03-31"


def test_payment_refused_when_link_revoked(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    _link(order, fakes)
    number = order.client.post("/orders", json={"term_years": 1}, headers=_headers("tok-1", "k")).get_json()[
        "order_number"
    ]
    fakes.tokens.set_status("tok-1", "revoked")
    r = order.client.post(
        f"/orders/{number}/payments", json={"method": "card", "card": CARD_OK}, headers=_headers("tok-1", "p")
    )
    assert r.status_code == 409 and r.get_json()["link_status"] == "revoked"
    assert fakes.cards.charges == []


def test_orders_are_read_by_their_buyer_only(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    _link(order, fakes)
    fakes.resellers.add("r-1", invoice_allowed=True)
    fakes.resellers.add("r-2")
    resold = order.client.post(
        "/orders", json={"term_years": 1, "reseller_id": "r-1"}, headers=_headers("tok-1", "b")
    ).get_json()
    assert resold["payment_methods"] == ["card", "invoice"]
    number = resold["order_number"]
    assert order.client.get(f"/orders/{number}?reseller_id=r-1", headers=SERVICE).status_code == 200
    assert order.client.get(f"/orders/{number}?reseller_id=r-2", headers=SERVICE).status_code == 404
    assert order.client.get(f"/orders/{number}", headers=SERVICE).status_code == 404
    listed = order.client.get("/orders?reseller_id=r-1", headers=SERVICE).get_json()["orders"]
    assert [o["order_number"] for o in listed] == [number]
    assert order.client.get("/orders?reseller_id=r-2", headers=SERVICE).get_json()["orders"] == []
    paid = order.client.post(
        f"/orders/{number}/payments", json={"method": "invoice", "reseller_id": "r-1"}, headers=_headers(key="inv")
    )
    assert paid.status_code == 200 and paid.get_json()["status"] == "paid"


def test_lapsed_too_long_cannot_be_ordered(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    lic = order.seed(license_key="OLD-LICENSE-0001", purchase="2020-01-15", end="2024-01-15")
    fakes.tokens.add_link("old", license_id=lic["id"], cycle_end=order.end("2024-01-15"))
    quote = order.client.get("/quote", headers=_headers("old")).get_json()
    assert quote["offer"]["can_extend"] is False and quote["offer"]["terms"] == [] and quote["offer"]["reason"]
    r = order.client.post("/orders", json={"term_years": 1}, headers=_headers("old", "k"))
    assert r.status_code == 409


def test_bad_input_is_refused_with_problem_json(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    _link(order, fakes)
    for body in ({"term_years": 4}, {"term_years": "1"}, {"term_years": 1, "discount_bp": 9000}, {}):
        r = order.client.post("/orders", json=body, headers=_headers("tok-1", f"k{body}"))
        assert r.status_code == 422 and r.content_type == "application/problem+json", body
    r = order.client.post(
        "/admin/price-lists",
        headers=OPS,
        json={"product_sku": "NOTEPAD-PRO", "currency": "XXY", "price_per_seat_year": -5, "valid_from": "2020-01-01"},
    )
    assert r.status_code == 422 and set(r.get_json()["errors"]) == {"currency", "price_per_seat_year"}
    with order.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(orm.orders)).scalar() == 0


def test_csv_import_reports_bad_rows_by_line_and_is_idempotent(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    order.seed()
    header = (
        "license_key,product_sku,seats,licensee_name,purchase_date,maintenance_end,contact_email,currency,"
        "end_customer_name,end_customer_company,end_customer_email,end_customer_line1,end_customer_line2,"
        "end_customer_postal_code,end_customer_city,end_customer_region,end_customer_country,"
        "end_customer_vat_id,previous_order_number,reseller_id"
    )
    good = "KEY-0001-AAAA,NOTEPAD-PRO,5,Acme,2024-02-29,2025-02-28,a@example.com,EUR,Ann,Acme,a@example.com,Road 1,,1000,Wien,,AT,,R-2024-000001,"
    bad_date = "KEY-0002-BBBB,NOTEPAD-PRO,5,Acme,2024-02-29,2025-03-01,a@example.com,EUR,Ann,Acme,a@example.com,Road 1,,1000,Wien,,AT,,,"
    bad_seats = "KEY-0003-CCCC,NOTEPAD-PRO,zero,Acme,2024-02-29,2025-02-28,a@example.com,EUR,Ann,Acme,a@example.com,Road 1,,1000,Wien,,AT,,,"
    bad_product = "KEY-0004-DDDD,NOPE,5,Acme,2024-02-29,2025-02-28,a@example.com,EUR,Ann,Acme,a@example.com,Road 1,,1000,Wien,,AT,,,"
    csv_text = "\n".join([header, good, bad_date, bad_seats, bad_product]) + "\n"
    headers = {**OPS, "Content-Type": "text/csv"}
    report = order.client.post("/admin/licenses/import", data=csv_text, headers=headers).get_json()
    assert report["imported"] == 1 and report["updated"] == 0
    assert [e["line"] for e in report["errors"]] == [3, 4, 5]
    assert "seats" in report["errors"][1]["reason"] and "NOPE" in report["errors"][2]["reason"]
    again = order.client.post("/admin/licenses/import", data=csv_text, headers=headers).get_json()
    assert (again["imported"], again["updated"]) == (0, 0)
    moved = csv_text.replace(
        "2024-02-29,2025-02-28,a@example.com,EUR,Ann,Acme,a@example.com,Road 1,,1000,Wien,,AT,,R-",
        "2024-02-29,2026-02-28,a@example.com,EUR,Ann,Acme,a@example.com,Road 1,,1000,Wien,,AT,,R-",
    )
    third = order.client.post("/admin/licenses/import", data=moved, headers=headers).get_json()
    assert third["updated"] == 1
    assert _outbox_types(order).count("license.maintenance_extended") == 1
    assert (
        order.client.post(
            "/admin/licenses/import", data=csv_text, headers=SERVICE | {"Content-Type": "text/csv"}
        ).status_code
        == 200
    )
    assert (
        order.client.post("/admin/licenses/import", data=csv_text, headers={"Content-Type": "text/csv"}).status_code
        == 401
    )


def test_extension_link_admin_call(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    lic = order.seed()
    r = order.client.post(f"/admin/licenses/{lic['id']}/extension-link", headers=OPS)
    assert r.status_code == 200 and r.get_json()["link_id"] == "lnk-issued"
    assert fakes.tokens.issued[0]["cycle_end"].isoformat() == "2026-03-31"
    assert order.client.post("/admin/licenses/nope/extension-link", headers=OPS).status_code == 404
