"""Buying steps and database checks shared by the security, fault and load tests (on top of tests/e2e/journey.py).

A direct customer buys through the public API with no session: the link token in the URL places the order and
the `X-Extension-Token` header proves the right to pay it. A reseller buys with its logged-in session.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy
from journey import add_years, ensure_product, import_license, issue_link, license_body
from sqlalchemy import Engine

CARD_NUMBER = "4242424242424242"
CARD_CVC = "7319"
CARD = {
    "number": "4242 4242 4242 4242",
    "exp_month": 12,
    "exp_year": dt.date.today().year + 2,
    "cvc": CARD_CVC,
    "holder": "Erika Mustermann",
}


@dataclass(frozen=True)
class Link:
    token: str
    license_id: str
    license: dict[str, Any]


def license_dates(days_to_end: int = 30, years: int = 3) -> tuple[dt.date, dt.date]:
    """(purchase date P, maintenance end E = P + years) with E `days_to_end` days from today."""
    purchase = add_years(dt.date.today() + dt.timedelta(days=days_to_end), -years)
    return purchase, add_years(purchase, years)


def new_product(system: Any, price: int = 10_000) -> str:
    sku = f"SEC-{uuid.uuid4().hex[:8].upper()}"
    ensure_product(system, sku, price=price)
    return sku


def buyable_link(system: Any, sku: str | None = None, *, licensee: str = "Licensee AG", **extra: Any) -> Link:
    """A fresh license (E in 30 days) and its extension link, issued by operations."""
    sku = sku or new_product(system)
    purchase, end = license_dates()
    body = license_body(sku, purchase=purchase, end=end, licensee=licensee, **extra)
    license_id = import_license(system, body)
    return Link(token=issue_link(system, license_id), license_id=license_id, license=body)


def place_direct_order(system: Any, token: str, *, term_years: int = 1, key: str | None = None) -> requests.Response:
    return requests.post(
        f"{system.url()}/api/v1/extensions/{token}/orders",
        json={"term_years": term_years},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
        timeout=30,
    )


def pay_direct(
    system: Any, order_number: str, token: str, *, key: str | None = None, card: dict | None = None
) -> requests.Response:
    return requests.post(
        f"{system.url()}/api/v1/orders/{order_number}/payments",
        json={"method": "card", "card": dict(card or CARD)},
        headers={"Idempotency-Key": key or str(uuid.uuid4()), "X-Extension-Token": token},
        timeout=30,
    )


def place_reseller_order(
    system: Any, session: requests.Session, token: str, *, term_years: int = 1, key: str | None = None
) -> requests.Response:
    return session.post(
        f"{system.url()}/api/v1/extensions/{token}/orders",
        json={"term_years": term_years},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
        timeout=30,
    )


def pay_reseller(
    system: Any, session: requests.Session, order_number: str, *, key: str | None = None
) -> requests.Response:
    return session.post(
        f"{system.url()}/api/v1/orders/{order_number}/payments",
        json={"method": "card", "card": dict(CARD)},
        headers={"Idempotency-Key": key or str(uuid.uuid4())},
        timeout=30,
    )


def buy_direct(system: Any, link: Link) -> dict[str, Any]:
    """Order and pay as the link's direct customer; returns the paid order."""
    placed = place_direct_order(system, link.token)
    assert placed.status_code == 201, placed.text
    paid = pay_direct(system, placed.json()["order_number"], link.token)
    assert paid.status_code == 200, paid.text
    return paid.json()


@functools.cache
def _engine(url: str) -> Engine:
    return sqlalchemy.create_engine(url, pool_size=2, max_overflow=2)


def engine(system: Any, service: str) -> Engine:
    """The service's own database (read by the tests for cross-checks only; never through a fault proxy)."""
    name = f"{service.upper()}_DATABASE_URL"
    return _engine(system.env.get(f"TEST_DIRECT_{name}") or system.env[name])


def query(system: Any, service: str, sql: str, **params: Any) -> list[Any]:
    with engine(system, service).connect() as connection:
        return list(connection.execute(sqlalchemy.text(sql), params).all())


def scalar(system: Any, service: str, sql: str, **params: Any) -> Any:
    return query(system, service, sql, **params)[0][0]


def wait_until(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.3, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


def mails_to(system: Any, address: str) -> list[Any]:
    return [m for m in list(system.smtp.messages) if address in str(m["To"])]


def forget_rate_limits(system: Any) -> None:
    """Drop this system's failed-attempt counters (link guessing, logins): every test shares 127.0.0.1."""
    import redis

    client = redis.Redis.from_url(system.env["REDIS_URL"])
    prefix = system.env["REDIS_PREFIX"]
    for pattern in (f"{prefix}token:resolve-failures:*", f"{prefix}reseller:*"):
        keys = list(client.scan_iter(pattern, count=1000))
        if keys:
            client.delete(*keys)


@dataclass(frozen=True)
class Settlement:
    """What every service did about a set of paid orders, counted in their own databases and in the SMTP sink."""

    paid: int
    licenses_extended: int
    links_redeemed: int
    confirmations_sent: int
    notices_sent: int
    confirmations_received: int
    notices_received: int
    duplicate_messages: int

    @property
    def complete(self) -> bool:
        return (
            len(
                {
                    self.paid,
                    self.licenses_extended,
                    self.links_redeemed,
                    self.confirmations_sent,
                    self.notices_sent,
                    self.confirmations_received,
                    self.notices_received,
                }
            )
            == 1
        )


def settlement(system: Any, order_numbers: list[str]) -> Settlement:
    numbers = list(order_numbers)
    orders = query(
        system,
        "order",
        "SELECT o.order_number, o.link_id, o.license_id, o.new_maintenance_end = l.maintenance_end "
        "FROM orders o JOIN licenses l ON l.id = o.license_id WHERE o.status = 'paid' AND o.order_number = ANY(:n)",
        n=numbers,
    )
    links = {o[1]: o[0] for o in orders}
    redeemed = query(
        system,
        "token",
        "SELECT id, redeemed_order_number FROM extension_links WHERE state = 'redeemed' AND id = ANY(:ids)",
        ids=list(links),
    )
    license_ids = [o[2] for o in orders]
    emails = query(
        system,
        "notifier",
        "SELECT type, count(*) FROM email WHERE status = 'sent' AND ("
        "(type = 'order_confirmation' AND context->>'order_number' = ANY(:n)) OR "
        "(type = 'maintenance_extended' AND context->>'order_number' = ANY(:n))) GROUP BY type",
        n=numbers,
    )
    sent = dict(emails)
    received = {"order_confirmation": 0, "maintenance_extended": 0}
    message_ids: list[str] = []
    wanted = set(numbers)
    for message in list(system.smtp.messages):
        kind = str(message.get("X-Renewals-Email-Type", ""))
        if kind not in received:
            continue
        body = message.get_body(preferencelist=("plain",))
        text = f"{message['Subject']} {body.get_content() if body else ''}"
        if any(number in text for number in wanted):
            received[kind] += 1
            message_ids.append(str(message["Message-ID"]))
    del license_ids
    return Settlement(
        paid=len(orders),
        licenses_extended=sum(1 for o in orders if o[3]),
        links_redeemed=sum(1 for link_id, number in redeemed if links.get(link_id) == number),
        confirmations_sent=sent.get("order_confirmation", 0),
        notices_sent=sent.get("maintenance_extended", 0),
        confirmations_received=received["order_confirmation"],
        notices_received=received["maintenance_extended"],
        duplicate_messages=len(message_ids) - len(set(message_ids)),
    )


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """`os.environ` temporarily replaced by `env` (Settings.from_env reads the process environment)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def dead_letters(system: Any, service: str, broker_url: str | None = None) -> list[dict[str, Any]]:
    from renewals_shared.bus_admin import list_dead_letters
    from renewals_shared.config import Settings

    env = dict(system.env)
    if broker_url:
        env["BROKER_URL"] = broker_url
    for name, value in system.env.items():
        if name.startswith("TEST_DIRECT_"):
            env[name.removeprefix("TEST_DIRECT_")] = value
    with environment(env):
        return list_dead_letters(Settings.from_env(service))


def diagnose(system: Any, order_numbers: list[str]) -> dict[str, Any]:
    """Where the orders that did not settle got stuck: their events, the notifier's inbox and email rows."""
    numbers = list(order_numbers)
    events = query(
        system,
        "order",
        "SELECT event_id, event_type, published_at IS NOT NULL FROM outbox "
        "WHERE envelope->'data'->>'order_number' = ANY(:n)",
        n=numbers,
    )
    consumed = {
        row[0]
        for row in query(
            system, "notifier", "SELECT event_id FROM inbox WHERE event_id = ANY(:ids)", ids=[e[0] for e in events]
        )
    }
    emails = query(
        system,
        "notifier",
        "SELECT type, status, attempts, last_error, context->>'order_number' FROM email "
        "WHERE context->>'order_number' = ANY(:n) AND status <> 'sent'",
        n=numbers,
    )
    return {
        "events not published": [e[:2] for e in events if not e[2]],
        "events not consumed by the notifier": [
            e[:2] for e in events if e[0] not in consumed and e[1] in ("order.paid", "license.maintenance_extended")
        ],
        "emails not sent": [tuple(row) for row in emails],
    }
