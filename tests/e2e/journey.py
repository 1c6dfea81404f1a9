"""Steps of the seed journey through the public API, shared by the end-to-end, security and load tests."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Any

import requests

LINK_PATTERN = re.compile(r"https?://[^\s\"'<>]+/extend/([A-Za-z0-9_\-]+)")


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def ops_post(system: Any, path: str, body: Any) -> requests.Response:
    return requests.post(f"{system.url()}{path}", json=body, headers=system.ops_headers, timeout=20)


def ensure_product(system: Any, sku: str, currency: str = "EUR", price: int = 10_000) -> None:
    response = ops_post(system, "/api/v1/admin/products", {"sku": sku, "name": f"Product {sku}", "edition": "Pro"})
    assert response.status_code in (200, 201, 409), response.text
    price_list = {
        "product_sku": sku,
        "currency": currency,
        "price_per_seat_year": price,
        "valid_from": "2000-01-01",
    }
    response = requests.post(
        f"{system.url('order')}/admin/price-lists", json=price_list, headers=system.ops_headers, timeout=20
    )
    assert response.status_code in (200, 201, 409), response.text


def license_body(sku: str, *, purchase: dt.date, end: dt.date, licensee: str, seats: int = 1, **extra: Any) -> dict:
    key = extra.pop("license_key", f"LIC-{uuid.uuid4().hex[:12].upper()}")
    return {
        "license_key": key,
        "product_sku": sku,
        "seats": seats,
        "licensee_name": licensee,
        "purchase_date": purchase.isoformat(),
        "maintenance_end": end.isoformat(),
        "contact_email": extra.pop("contact_email", f"contact-{key.lower()}@customer.example"),
        "currency": "EUR",
        "end_customer": {
            "name": "Erika Mustermann",
            "company": licensee,
            "email": extra.pop("end_customer_email", f"end-{key.lower()}@customer.example"),
            "address": {
                "line1": "Hauptstrasse 1",
                "line2": "",
                "postal_code": "10115",
                "city": "Berlin",
                "region": "",
                "country": "DE",
            },
            "vat_id": None,
        },
        "previous_order_number": f"PREV-{key}",
        **extra,
    }


def import_license(system: Any, body: dict) -> str:
    response = ops_post(system, "/api/v1/admin/licenses", body)
    assert response.status_code in (200, 201), response.text
    found = requests.get(
        f"{system.url('order')}/admin/licenses",
        params={"key": body["license_key"]},
        headers=system.ops_headers,
        timeout=20,
    ).json()
    return found["licenses"][0]["id"]


def issue_link(system: Any, license_id: str) -> str:
    response = ops_post(system, f"/api/v1/admin/licenses/{license_id}/extension-link", {})
    assert response.status_code in (200, 201), response.text
    match = LINK_PATTERN.search(response.json()["url"])
    assert match, response.text
    return match.group(1)


def register_and_approve_reseller(system: Any, email: str, password: str = "Sturdy-Reseller-Pass-42") -> str:
    body = {
        "company": "Acme Reselling GmbH",
        "contact_name": "Rita Reseller",
        "email": email,
        "password": password,
        "billing_address": {
            "line1": "Resellerweg 5",
            "line2": "",
            "postal_code": "80331",
            "city": "Munich",
            "region": "Bavaria",
            "country": "DE",
        },
        "vat_id": "DE123456789",
        "phone": "+49 89 123456",
    }
    response = requests.post(f"{system.url()}/api/v1/resellers", json=body, timeout=20)
    assert response.status_code == 201, response.text
    reseller_id = response.json()["id"]
    approved = ops_post(system, f"/api/v1/admin/resellers/{reseller_id}/approve", {"discount_bp": 1000})
    assert approved.status_code == 200, approved.text
    return reseller_id


def login(system: Any, email: str, password: str = "Sturdy-Reseller-Pass-42") -> requests.Session:
    session = requests.Session()
    response = session.post(f"{system.url()}/api/v1/session", json={"email": email, "password": password}, timeout=20)
    assert response.status_code == 200, response.text
    session.headers["X-CSRF-Token"] = response.headers.get("X-CSRF-Token") or response.json()["csrf_token"]
    return session


def wait_for_mail(system: Any, predicate, timeout: float = 60.0) -> Any:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(system.smtp.messages):
            if predicate(message):
                return message
        time.sleep(0.2)
    seen = [(m["To"], m["Subject"]) for m in system.smtp.messages]
    raise AssertionError(f"no matching email within {timeout} s; seen: {seen}")


def text_of(message: Any) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


TEST_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


def expiring_license(system: Any, sku: str, *, days_to_end: int = 30, years: int = 3, **extra: Any) -> tuple[dict, str]:
    """A license whose maintenance (P + `years` years) ends `days_to_end` days from today (negative: lapsed);
    returns (the imported body, its id)."""
    purchase = add_years(dt.date.today() + dt.timedelta(days=days_to_end), -years)
    body = license_body(sku, purchase=purchase, end=add_years(purchase, years), **extra)
    return body, import_license(system, body)


def issue_link_with_id(system: Any, license_id: str) -> tuple[str, str]:
    """(token, link_id) of the license's current extension link, issued through the ops API."""
    response = ops_post(system, f"/api/v1/admin/licenses/{license_id}/extension-link", {})
    assert response.status_code in (200, 201), response.text
    match = LINK_PATTERN.search(response.json()["url"])
    assert match, response.text
    return match.group(1), response.json()["link_id"]


def buy_directly(system: Any, token: str, term_years: int = 1) -> dict:
    """A direct customer (no session) orders and pays through the public API; returns the paid order view."""
    order = requests.post(
        f"{system.url()}/api/v1/extensions/{token}/orders",
        json={"term_years": term_years},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=20,
    )
    assert order.status_code == 201, order.text
    card = {"number": TEST_CARD, "exp_month": 12, "exp_year": dt.date.today().year + 2, "cvc": "123", "holder": "E M"}
    paid = requests.post(
        f"{system.url()}/api/v1/orders/{order.json()['order_number']}/payments",
        json={"method": "card", "card": card},
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Extension-Token": token},
        timeout=20,
    )
    assert paid.status_code == 200, paid.text
    return {**order.json(), **paid.json()}


def wait_until(condition, timeout: float = 30.0, what: str = "condition") -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        time.sleep(0.3)


def reminder_for(system: Any, contact_email: str, timeout: float = 60.0) -> Any:
    """Run the reminder scan (ops API) until the reminder to `contact_email` arrives, and return that email.

    The scan reads the notifier's own license projection, fed by `license.registered` events: right after an
    import the event may still be on its way, so one scan can find nothing (a scan never sends a stage twice)."""
    deadline = time.monotonic() + timeout
    while True:
        scan = ops_post(system, "/api/v1/admin/reminder-scans", {"as_of": dt.date.today().isoformat()})
        assert scan.status_code in (200, 202), scan.text
        try:
            return wait_for_mail(system, lambda m: contact_email in m["To"], timeout=3.0)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
