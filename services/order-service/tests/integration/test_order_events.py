"""The events of a paid order travel through the real broker; extension_link.revoked lands in the audit."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from order_service.adapters import orm
from order_service.entrypoints.worker import HANDLERS
from renewals_shared.bus import BatchPublisher
from renewals_shared.consumer import EventConsumer
from renewals_shared.events import Event, new_event
from renewals_shared.worker import build_relay, topology_for

SERVICE = {"Authorization": "Bearer test-service-token-0123456789"}
CARD_OK = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123", "holder": "A E"}


def _wait(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_paid_order_events_reach_a_consumer(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    lic = order.seed()
    fakes.tokens.add_link("tok", license_id=lic["id"], cycle_end=order.end(lic["maintenance_end"]))
    received: list[Event] = []
    wanted = ("order.placed", "order.paid", "license.maintenance_extended")
    probe = EventConsumer(
        service="orderprobe",
        broker_url=order.settings.broker_url,
        topology=topology_for(order.settings),
        engine=order.engine,
        handlers={t: (lambda event, session: received.append(event)) for t in wanted},
    )
    probe.declare()
    stop = threading.Event()
    thread = threading.Thread(target=probe.run, args=(stop,), daemon=True)
    thread.start()
    try:
        headers = {**SERVICE, "X-Extension-Token": "tok"}
        number = order.client.post(
            "/orders", json={"term_years": 1}, headers={**headers, "Idempotency-Key": "o"}
        ).get_json()["order_number"]
        paid = order.client.post(
            f"/orders/{number}/payments",
            json={"method": "card", "card": CARD_OK},
            headers={**headers, "Idempotency-Key": "p"},
        )
        assert paid.status_code == 200
        relay = build_relay(order.settings, order.engine)
        assert relay.relay_once() == 4  # license.registered + the three above
        assert _wait(lambda: len(received) == 3), [e.type for e in received]
    finally:
        stop.set()
        thread.join(timeout=10)
    by_type = {e.type: e for e in received}
    assert set(by_type) == set(wanted)
    assert by_type["order.paid"].data["order_number"] == number
    assert by_type["license.maintenance_extended"].data["maintenance_end"].isoformat() == "2027-03-31"
    with order.engine.connect() as c:
        assert c.execute(select(orm.outbox.c.event_id).where(orm.outbox.c.published_at.is_(None))).first() is None


def test_link_revoked_is_audited_once(order: SimpleNamespace) -> None:
    event = new_event(
        "extension_link.revoked", {"link_id": "lnk-9", "license_id": "lic-9", "reason": "ops"}, "token-service"
    )
    consumer = EventConsumer(
        service="order",
        broker_url=order.settings.broker_url,
        topology=topology_for(order.settings),
        engine=order.engine,
        handlers=HANDLERS,
    )
    consumer.declare()
    publisher = BatchPublisher(order.settings.broker_url, topology_for(order.settings))
    publisher.publish([event.to_dict(), event.to_dict()])  # a redelivery is a no-op
    publisher.close()
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()

    def audited() -> list[Any]:
        with Session(order.engine) as s:
            return list(s.execute(select(orm.link_audit.c.link_id, orm.link_audit.c.reason)))

    try:
        assert _wait(lambda: len(audited()) == 1)
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert audited() == [("lnk-9", "ops")]
