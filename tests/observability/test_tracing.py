"""One order, one trace: W3C trace context crosses HTTP calls, the outbox, the broker and Celery.

The `system` processes run with TRACE_FILE set (tests/conftest.py): every process appends its finished spans as
JSON lines to one file, read here.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import requests
from journey import TEST_CARD, ensure_product, expiring_license, issue_link, wait_for_mail
from scrape import spans

EXPECTED = {
    "gateway": "POST /api/v1/orders/<order_number>/payments",
    "order": "POST /orders/<order_number>/payments",
    "token": "GET /links/resolve",
    "order-worker": "publish order.paid",
    "token-worker": "consume order.paid",
    "notifier-worker": "consume order.paid",
    "notifier-celery": "send email order_confirmation",
}


def _trace_of(system, correlation_id: str, timeout: float = 60.0) -> list[dict]:
    """The spans of the trace whose gateway span carries `correlation_id`, once every expected one arrived."""
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline:
        everything = spans(system)
        roots = [
            s
            for s in everything
            if s["service"] == "gateway" and s["attributes"].get("correlation_id") == correlation_id
        ]
        if roots:
            trace_id = roots[-1]["trace_id"]
            found = [s for s in everything if s["trace_id"] == trace_id]
            have = {(s["service"], s["name"]) for s in found}
            if all(item in have for item in EXPECTED.items()):
                return found
        time.sleep(0.5)
    raise AssertionError(f"incomplete trace: {sorted((s['service'], s['name']) for s in found)}")


def test_one_order_is_one_trace_from_the_gateway_through_the_services_to_the_notifier(system):
    sku = f"TRC-{uuid.uuid4().hex[:6].upper()}"
    ensure_product(system, sku)
    body, license_id = expiring_license(system, sku, licensee="Traced AG")
    token = issue_link(system, license_id)
    order = requests.post(
        f"{system.url()}/api/v1/extensions/{token}/orders",
        json={"term_years": 1},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=20,
    )
    assert order.status_code == 201, order.text
    correlation_id = str(uuid.uuid4())
    card = {"number": TEST_CARD, "exp_month": 12, "exp_year": dt.date.today().year + 2, "cvc": "123", "holder": "T"}
    paid = requests.post(
        f"{system.url()}/api/v1/orders/{order.json()['order_number']}/payments",
        json={"method": "card", "card": card},
        headers={"Idempotency-Key": str(uuid.uuid4()), "X-Extension-Token": token, "X-Correlation-ID": correlation_id},
        timeout=20,
    )
    assert paid.status_code == 200, paid.text

    trace = _trace_of(system, correlation_id)
    by_id = {s["span_id"]: s for s in trace}
    roots = [s for s in trace if s["parent_id"] is None]
    assert [(r["service"], r["name"]) for r in roots] == [("gateway", EXPECTED["gateway"])]
    assert all(s["parent_id"] in by_id for s in trace if s["parent_id"]), "a span's parent is outside the trace"

    def chain(service: str, name: str) -> list[str]:
        span = next(s for s in trace if (s["service"], s["name"]) == (service, name))
        services: list[str] = []  # root first, a service once per hop (its server and client spans together)
        while span is not None:
            if not services or services[-1] != span["service"]:
                services.append(span["service"])
            span = by_id.get(span["parent_id"])
        return services[::-1]

    # the email was sent under the payment request, through the event the order-service wrote
    assert chain("notifier-celery", EXPECTED["notifier-celery"]) == [
        "gateway",
        "order",
        "order-worker",
        "notifier-worker",
        "notifier-celery",
    ]
    assert chain("token", EXPECTED["token"])[:3] == ["gateway", "order", "token"]
    assert chain("token-worker", EXPECTED["token-worker"])[-2:] == ["order-worker", "token-worker"]
    assert not any(token in str(s) for s in trace), "a link token leaked into a span"

    # and the emails that order caused carry its correlation id
    email = body["end_customer"]["email"]
    confirmation = wait_for_mail(
        system, lambda m: email in m["To"] and m["X-Renewals-Email-Type"] == "order_confirmation"
    )
    assert confirmation["X-Correlation-ID"] == correlation_id
