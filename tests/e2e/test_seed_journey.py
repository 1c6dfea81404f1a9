"""The seed article's journey through the public JSON API, on the whole running system."""

from __future__ import annotations

import datetime as dt
import uuid

import requests
from journey import (
    LINK_PATTERN,
    add_years,
    ensure_product,
    import_license,
    license_body,
    login,
    register_and_approve_reseller,
    reminder_for,
    text_of,
    wait_for_mail,
)


def test_reseller_extends_maintenance_for_an_end_customer_from_the_reminder_link(system):
    today = dt.date.today()
    purchase = add_years(today + dt.timedelta(days=30), -3)  # E = P + 3 years, 30 days from now
    end = add_years(purchase, 3)
    sku = f"E2E-{uuid.uuid4().hex[:6].upper()}"
    ensure_product(system, sku, price=12_345)
    body = license_body(sku, purchase=purchase, end=end, licensee="Licensee <b>Fixed</b> AG", seats=2)
    license_id = import_license(system, body)

    reminder = reminder_for(system, body["contact_email"])  # scans until the notifier has seen the license
    token = LINK_PATTERN.search(text_of(reminder)).group(1)

    customer_view = requests.get(f"{system.url()}/api/v1/extensions/{token}", timeout=20)
    assert customer_view.status_code == 200, customer_view.text
    offer = customer_view.json()["offer"]
    assert customer_view.json()["license"]["licensee_name"] == body["licensee_name"]
    assert (offer["customer_discount_bp"], offer["reseller_discount_bp"], offer["effective_discount_bp"]) == (
        5000,
        0,
        5000,
    )
    list_price = 12_345 * 2
    assert offer["list_price_per_year"] == {"amount": list_price, "currency": "EUR"}
    assert offer["price_per_year"]["amount"] == (list_price * 5000 + 5000) // 10000  # 50 %, half up

    email = f"reseller-{uuid.uuid4().hex[:8]}@acme.example"
    register_and_approve_reseller(system, email)
    reseller = login(system, email)
    reseller_view = reseller.get(f"{system.url()}/api/v1/extensions/{token}", timeout=20).json()["offer"]
    assert (reseller_view["reseller_discount_bp"], reseller_view["effective_discount_bp"]) == (1000, 5500)
    expected_unit = (list_price * 5000 * 9000 + 50_000_000) // 100_000_000
    assert reseller_view["price_per_year"]["amount"] == expected_unit
    one_year = next(term for term in reseller_view["terms"] if term["years"] == 1)
    assert one_year["new_maintenance_end"] == add_years(purchase, 4).isoformat()

    account = reseller.get(f"{system.url()}/api/v1/reseller/account", timeout=20).json()
    assert account["status"] == "approved" and account["billing_address"]["city"] == "Munich"

    order = reseller.post(
        f"{system.url()}/api/v1/extensions/{token}/orders",
        json={"term_years": 1},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=20,
    )
    assert order.status_code == 201, order.text
    placed = order.json()
    assert placed["status"] == "pending_payment"
    assert placed["licensee_name"] == body["licensee_name"]
    assert placed["billing_address"]["city"] == "Munich"
    assert placed["end_customer"]["email"] == body["end_customer"]["email"]
    assert placed["total"] == {"amount": expected_unit, "currency": "EUR"}

    card = {
        "number": "4242 4242 4242 4242",
        "exp_month": 12,
        "exp_year": today.year + 2,
        "cvc": "123",
        "holder": "Rita",
    }
    paid = reseller.post(
        f"{system.url()}/api/v1/orders/{placed['order_number']}/payments",
        json={"method": "card", "card": card},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=20,
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    assert paid.json()["maintenance_end"] == add_years(purchase, 4).isoformat()

    confirmation = wait_for_mail(
        system, lambda m: email in m["To"] and placed["order_number"] in m["Subject"] + text_of(m)
    )
    assert body["licensee_name"] in text_of(confirmation)
    notice = wait_for_mail(system, lambda m: body["end_customer"]["email"] in m["To"])
    assert add_years(purchase, 4).isoformat() in text_of(notice) or str(add_years(purchase, 4).year) in text_of(notice)

    license_now = requests.get(
        f"{system.url('order')}/admin/licenses/{license_id}", headers=system.ops_headers, timeout=20
    )
    assert license_now.json()["maintenance_end"] == add_years(purchase, 4).isoformat()

    def link_redeemed() -> bool:
        return requests.get(f"{system.url()}/api/v1/extensions/{token}", timeout=20).status_code == 410

    import time

    deadline = time.monotonic() + 30
    while not link_redeemed():
        assert time.monotonic() < deadline, "link never redeemed"
        time.sleep(0.3)
    reorder = reseller.post(
        f"{system.url()}/api/v1/extensions/{token}/orders",
        json={"term_years": 1},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=20,
    )
    assert reorder.status_code in (409, 410), reorder.text
    assert "4242424242424242" not in system.log_text()
    assert token not in system.log_text()
