"""The token-service worker on real PostgreSQL and RabbitMQ: order.paid redeems, license.maintenance_extended
revokes the others, duplicates are no-ops, and no raw token reaches an event or a log line."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kombu import Queue
from renewals_shared.bus import BatchPublisher, connect
from renewals_shared.config import Settings
from renewals_shared.db import make_engine
from renewals_shared.events import new_event
from renewals_shared.testing import TEST_SECRETS
from renewals_shared.worker import build_consumer, run_worker, topology_for
from sqlalchemy import Engine, text
from token_service.bootstrap import bootstrap
from token_service.config import TokenConfig
from token_service.entrypoints.flask_app import create_app
from token_service.entrypoints.worker import event_handlers

SERVICE = {"Authorization": f"Bearer {TEST_SECRETS['SERVICE_TOKEN']}"}
PARTY = {
    "name": "Jane Doe",
    "company": "Acme GmbH",
    "email": "jane@example.com",
    "address": {"line1": "Main 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
}


class Running:
    def __init__(self, settings: Settings, engine: Engine, client: Any, observed: Queue, connection: Any) -> None:
        self.settings, self.engine, self.client = settings, engine, client
        self.observed, self.connection = observed, connection
        self.publisher = BatchPublisher(settings.broker_url, topology_for(settings))

    def issue(self, license_id: str, cycle_end: str) -> dict[str, Any]:
        body = {
            "license_id": license_id,
            "product_sku": "PRO",
            "cycle_end": cycle_end,
            "licensee_name": "Acme GmbH",
            "currency": "EUR",
        }
        response = self.client.post("/links", json=body, headers=SERVICE)
        assert response.status_code == 201
        return response.get_json()

    def publish(self, *envelopes: dict[str, Any]) -> None:
        self.publisher.publish(list(envelopes))

    def states(self) -> dict[str, tuple[str, str | None, str | None]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, state, redeemed_order_number, revoked_reason FROM extension_links")
            ).all()
        return {r.id: (r.state, r.redeemed_order_number, r.revoked_reason) for r in rows}

    def inbox_count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM inbox")).scalar_one()

    def wait_for(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError("condition not reached in time")

    def events_seen(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        queue = self.observed(self.connection.default_channel)
        while len(seen) < count and time.monotonic() < deadline:
            message = queue.get(no_ack=True)
            if message is None:
                time.sleep(0.1)
                continue
            seen.append(json.loads(message.body))
        return seen


@pytest.fixture
def running(service_env: Callable[..., Settings]) -> Iterator[Running]:
    settings = service_env("token")
    engine = make_engine(settings.database_url)
    bus = bootstrap(TokenConfig.from_env(settings), engine=engine)
    handlers = event_handlers(bus)
    build_consumer(settings, engine, handlers).declare()
    topology = topology_for(settings)
    observed = Queue(
        f"{settings.bus_namespace}.observer",
        exchange=topology.events,
        routing_key="extension_link.*",
        durable=False,
        auto_delete=False,
    )
    connection = connect(settings.broker_url)
    observed(connection.default_channel).declare()
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(settings, engine, handlers), kwargs={"stop": stop})
    worker.start()
    app = create_app(settings, engine=engine)
    try:
        yield Running(settings, engine, app.test_client(), observed, connection)
    finally:
        stop.set()
        worker.join(timeout=30)
        connection.release()
        engine.dispose()


def order_paid(link: dict[str, Any], order_number: str, license_id: str = "lic-1") -> dict[str, Any]:
    data = {
        "order_number": order_number,
        "license_id": license_id,
        "link_id": link["link_id"],
        "license_key_masked": "XXXX-1234",
        "product_name": "Pro",
        "licensee_name": "Acme GmbH",
        "previous_maintenance_end": dt.date(2025, 3, 31),
        "new_maintenance_end": dt.date(2026, 3, 31),
        "years_charged": 1,
        "price_per_year": {"amount": 10000, "currency": "EUR"},
        "total": {"amount": 10000, "currency": "EUR"},
        "effective_discount_bp": 5000,
        "billing": PARTY,
        "end_customer": PARTY,
        "payment_method": "card",
        "card_brand": "visa",
        "card_last4": "4242",
    }
    return new_event("order.paid", data, "order-service").to_dict()


def maintenance_extended(license_id: str, previous: str, new: str, order_number: str | None) -> dict[str, Any]:
    data = {
        "license_id": license_id,
        "previous_maintenance_end": dt.date.fromisoformat(previous),
        "maintenance_end": dt.date.fromisoformat(new),
        "order_number": order_number,
        "contact_email": "jane@example.com",
        "licensee_name": "Acme GmbH",
        "product_name": "Pro",
    }
    return new_event("license.maintenance_extended", data, "order-service").to_dict()


def test_order_paid_redeems_and_maintenance_extended_revokes_the_others(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    current = running.issue("lic-1", "2025-03-31")
    stale = running.issue("lic-1", "2024-03-31")
    unrelated = running.issue("lic-2", "2025-03-31")

    paid = order_paid(current, "R-1001")
    extended = maintenance_extended("lic-1", "2025-03-31", "2026-03-31", "R-1001")
    running.publish(extended, paid)  # either order: the paid cycle's link is kept for order.paid
    running.wait_for(lambda: running.inbox_count() == 2)
    assert running.states() == {
        current["link_id"]: ("redeemed", "R-1001", None),
        stale["link_id"]: ("revoked", None, "maintenance_extended"),
        unrelated["link_id"]: ("active", None, None),
    }
    resolved = running.client.get(
        "/links/resolve", headers={**SERVICE, "X-Extension-Token": current["token"]}
    ).get_json()
    assert (resolved["status"], resolved["redeemed_order_number"]) == ("redeemed", "R-1001")

    # Duplicates: the same events again (redelivery) and a second distinct event with the same facts.
    again = order_paid(current, "R-1001")
    running.publish(paid, extended, again)
    running.wait_for(lambda: running.inbox_count() == 3)
    time.sleep(0.5)
    assert running.states()[current["link_id"]] == ("redeemed", "R-1001", None)

    events = running.events_seen(5)  # 3 issued + 1 redeemed + 1 revoked, and nothing more
    assert sorted(e["type"] for e in events) == [
        "extension_link.issued",
        "extension_link.issued",
        "extension_link.issued",
        "extension_link.redeemed",
        "extension_link.revoked",
    ]
    time.sleep(1.0)
    assert running.events_seen(1, timeout=1.0) == []
    redeemed = next(e for e in events if e["type"] == "extension_link.redeemed")
    assert redeemed["data"] == {"link_id": current["link_id"], "license_id": "lic-1", "order_number": "R-1001"}
    assert redeemed["causation_id"] == paid["id"]

    tokens = [current["token"], stale["token"], unrelated["token"]]
    logs = caplog.text
    everything = json.dumps(events) + logs
    assert "extension link redeemed" in logs  # the logs were captured, so the check below means something
    for token in tokens:
        assert token not in everything


def test_an_operations_extension_revokes_every_active_link(running: Running) -> None:
    current = running.issue("lic-3", "2025-03-31")
    running.publish(maintenance_extended("lic-3", "2025-03-31", "2026-03-31", None))
    running.wait_for(lambda: running.states()[current["link_id"]][0] == "revoked")
    assert running.states()[current["link_id"]] == ("revoked", None, "maintenance_extended")
