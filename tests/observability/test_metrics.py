"""Each service's /metrics moves when the thing it counts happens (on the whole running system).

Every process of a service shares its PROMETHEUS_MULTIPROC_DIR (tests/conftest.py), so the web app's /metrics
also shows what the service's event worker and, for the notifier, its Celery workers counted.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import requests
from journey import buy_directly, ensure_product, expiring_license, issue_link, ops_post, wait_until
from scrape import sample


def _moved(system, service: str, name: str, before: float, by: float = 1, **labels: str) -> None:
    wait_until(
        lambda: sample(system, service, name, **labels) >= before + by,
        timeout=60,
        what=f"{service} {name}{labels} to grow by {by} from {before}",
    )


def _purchase(system):
    sku = f"MET-{uuid.uuid4().hex[:6].upper()}"
    ensure_product(system, sku, price=10_000)
    _body, license_id = expiring_license(system, sku, licensee="Metrics AG")
    return buy_directly(system, issue_link(system, license_id))


def test_order_service_counts_orders_and_revenue_by_currency_and_its_worker_publishes(system):
    before = {
        "placed": sample(system, "order", "renewals_orders_total", currency="EUR", status="placed"),
        "paid": sample(system, "order", "renewals_orders_total", currency="EUR", status="paid"),
        "revenue": sample(system, "order", "renewals_revenue_minor_units_total", currency="EUR"),
        "published": sample(system, "order", "renewals_events_published_total", event_type="order.paid"),
    }
    paid = _purchase(system)
    assert paid["total"]["currency"] == "EUR"

    assert sample(system, "order", "renewals_orders_total", currency="EUR", status="placed") >= before["placed"] + 1
    assert sample(system, "order", "renewals_orders_total", currency="EUR", status="paid") >= before["paid"] + 1
    revenue = sample(system, "order", "renewals_revenue_minor_units_total", currency="EUR")
    assert revenue >= before["revenue"] + paid["total"]["amount"]
    # published by order-worker's relay, a process with no HTTP server: seen through order-web's /metrics
    _moved(system, "order", "renewals_events_published_total", before["published"], event_type="order.paid")
    wait_until(
        lambda: "renewals_outbox_backlog" in requests.get(f"{system.url('order')}/metrics", timeout=10).text,
        timeout=30,
        what="the relay's outbox backlog gauge",
    )


def test_token_service_counts_resolve_failures_and_consumed_events(system):
    failures = sample(system, "token", "renewals_link_resolve_failures_total", reason="not_found")
    unknown = requests.get(f"{system.url()}/api/v1/extensions/{'x' * 43}", timeout=20)
    assert unknown.status_code == 404
    assert sample(system, "token", "renewals_link_resolve_failures_total", reason="not_found") >= failures + 1

    consumed = sample(system, "token", "renewals_events_consumed_total", event_type="order.paid", outcome="applied")
    _purchase(system)
    _moved(system, "token", "renewals_events_consumed_total", consumed, event_type="order.paid", outcome="applied")


def test_reseller_service_counts_login_failures(system):
    before = sample(system, "reseller", "renewals_login_failures_total", reason="invalid_credentials")
    response = requests.post(
        f"{system.url()}/api/v1/session",
        json={"email": f"nobody-{uuid.uuid4().hex[:8]}@acme.example", "password": "Wrong-Password-123"},
        timeout=20,
    )
    assert response.status_code == 401, response.text
    assert sample(system, "reseller", "renewals_login_failures_total", reason="invalid_credentials") >= before + 1


def test_notifier_counts_emails_by_type_and_outcome_and_reminders_by_stage(system):
    confirmations = sample(system, "notifier", "renewals_emails_total", type="order_confirmation", outcome="sent")
    reminders = sample(system, "notifier", "renewals_reminders_sent_total", stage="-30")
    _purchase(system)
    # sent by a Celery worker child process: seen through notifier-web's /metrics
    _moved(system, "notifier", "renewals_emails_total", confirmations, type="order_confirmation", outcome="sent")

    sku = f"REM-{uuid.uuid4().hex[:6].upper()}"
    ensure_product(system, sku)
    expiring_license(system, sku, days_to_end=20, licensee="Reminder AG")  # the -30 stage is due today
    # the license reaches the notifier's projection through an event: scan until a -30 reminder went out
    deadline = time.monotonic() + 90
    while sample(system, "notifier", "renewals_reminders_sent_total", stage="-30") < reminders + 1:
        assert time.monotonic() < deadline, "no -30 reminder counted within 90 s"
        response = ops_post(system, "/api/v1/admin/reminder-scans", {"as_of": dt.date.today().isoformat()})
        assert response.status_code in (200, 202), response.text
        time.sleep(2)


def test_gateway_times_requests_by_route_template_never_by_raw_path(system):
    token = "y" * 43
    requests.get(f"{system.url()}/api/v1/extensions/{token}", timeout=20)
    text = requests.get(f"{system.url()}/metrics", timeout=10).text
    assert 'route="/api/v1/extensions/<token>"' in text
    assert token not in text  # a link token never becomes a label
