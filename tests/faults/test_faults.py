"""Faults on a whole running system: broker and database connections cut, SMTP refusing, services down, a
poison message. Nothing is lost, nothing happens twice, and nobody sees a 500."""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from journey import login, register_and_approve_reseller
from purchases import (
    buy_direct,
    buyable_link,
    diagnose,
    new_product,
    pay_reseller,
    place_reseller_order,
    query,
    settlement,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


@contextmanager
def _environment(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _settled(system, numbers, timeout=90.0):
    def check():
        state = settlement(system, numbers)
        return state if state.complete and state.paid == len(numbers) else None

    try:
        return wait_until(check, timeout=timeout, interval=1.0, what="every paid order to settle")
    except AssertionError:
        raise AssertionError(f"not settled: {settlement(system, numbers)}; {diagnose(system, numbers)}") from None


def _assert_exactly_once(system, numbers):
    state = _settled(system, numbers)
    time.sleep(3)  # a late duplicate would show up here
    again = settlement(system, numbers)
    assert again == state and again.duplicate_messages == 0, again
    return again


def test_broker_connection_cut_during_a_burst_of_purchases_loses_nothing_and_doubles_nothing(faulty):
    system = faulty.system
    sku = new_product(system)
    email = f"burst-{uuid.uuid4().hex[:8]}@acme.example"
    register_and_approve_reseller(system, email)
    reseller = login(system, email)
    links = [buyable_link(system, sku) for _ in range(16)]

    def buy(index_link):
        index, link = index_link
        if index % 2:
            placed = place_reseller_order(system, reseller, link.token)
            assert placed.status_code == 201, placed.text
            paid = pay_reseller(system, reseller, placed.json()["order_number"])
            assert paid.status_code == 200, paid.text
            return paid.json()["order_number"]
        return buy_direct(system, link)["order_number"]

    stop = threading.Event()

    def chaos():
        while not stop.is_set():
            time.sleep(0.7)
            faulty.broker.cut()
            faulty.broker.refuse = True
            time.sleep(1.5)
            faulty.broker.refuse = False

    cutter = threading.Thread(target=chaos, daemon=True)
    cutter.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            numbers = list(pool.map(buy, enumerate(links)))
        time.sleep(2)
    finally:
        stop.set()
        cutter.join()
        faulty.broker.refuse = False
    assert faulty.broker.cuts > 0
    state = _assert_exactly_once(system, numbers)
    assert state.paid == len(links)


def _inbox_rows(faulty, event_type):
    return query(faulty.system, "notifier", "SELECT count(*) FROM inbox WHERE event_type = :t", t=event_type)[0][0]


@pytest.mark.parametrize(
    "where",
    [
        pytest.param({"pattern": b"INSERT INTO inbox"}, id="before-commit"),
        pytest.param({"pattern": b"COMMIT", "after": b"INSERT INTO inbox", "forward": True}, id="commit-reply-lost"),
    ],
)
def test_database_connection_cut_mid_transaction_in_a_consumer_applies_the_event_once(faulty, where):
    system = faulty.system
    link = buyable_link(system)
    wait_until(  # the license.registered event has been consumed, so the next consumer transaction is ours
        lambda: query(
            system, "notifier", "SELECT 1 FROM license_projection WHERE license_id = :id", id=link.license_id
        ),
        what="license.registered to reach the notifier",
    )
    trigger = faulty.notifier_db.cut_when(
        where["pattern"], after=where.get("after"), forward=where.get("forward", False)
    )
    number = buy_direct(system, link)["order_number"]
    wait_until(trigger.fired.is_set, timeout=30, what="the consumer's transaction to be cut")
    _assert_exactly_once(system, [number])
    event_ids = [
        row[0]
        for row in query(
            system, "order", "SELECT event_id FROM outbox WHERE envelope->'data'->>'order_number' = :n", n=number
        )
    ]
    inbox = query(system, "notifier", "SELECT event_id FROM inbox WHERE event_id = ANY(:ids)", ids=event_ids)
    assert sorted(r[0] for r in inbox) == sorted(set(event_ids) & {r[0] for r in inbox})  # no duplicate rows
    assert len(inbox) >= 1


def test_smtp_down_for_a_while_then_every_email_is_delivered_once(faulty):
    system = faulty.system
    system.smtp.handler.accept = False
    try:
        link = buyable_link(system)
        number = buy_direct(system, link)["order_number"]

        def retried():
            rows = query(
                system,
                "notifier",
                "SELECT attempts, status FROM email WHERE type = 'order_confirmation' "
                "AND context->>'order_number' = :n",
                n=number,
            )
            return rows and rows[0][0] >= 2 and rows[0][1] in ("pending", "sending")

        wait_until(retried, timeout=60, interval=0.5, what="the confirmation to be retried while SMTP refuses")
    finally:
        system.smtp.handler.accept = True
    _assert_exactly_once(system, [number])


def _problem_or_page_503(response, api: bool):
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text
    if api:
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["status"] == 503
    else:
        assert response.headers["Content-Type"].startswith("text/html")
        assert "<html" in response.text.lower()


@pytest.mark.parametrize("process", ["order-web", "token-web", "reseller-web"])
def test_a_service_down_gives_friendly_503s_and_the_gateway_recovers_without_restart(faulty, process):
    system = faulty.system
    link = buyable_link(system)
    email = f"down-{uuid.uuid4().hex[:8]}@acme.example"
    register_and_approve_reseller(system, email)
    reseller = login(system, email)
    checks = {
        "order-web": [
            (lambda: requests.get(f"{system.url()}/extend/{link.token}", timeout=30), False),
            (lambda: requests.get(f"{system.url()}/api/v1/extensions/{link.token}", timeout=30), True),
            (lambda: reseller.get(f"{system.url()}/reseller/orders", timeout=30), False),
        ],
        "token-web": [
            (lambda: requests.get(f"{system.url()}/extend/{link.token}", timeout=30), False),
            (lambda: requests.get(f"{system.url()}/api/v1/extensions/{link.token}", timeout=30), True),
        ],
        "reseller-web": [
            (lambda: reseller.get(f"{system.url()}/reseller/account", timeout=30), False),
            (lambda: reseller.get(f"{system.url()}/api/v1/reseller/account", timeout=30), True),
            (
                lambda: requests.post(
                    f"{system.url()}/api/v1/session", json={"email": email, "password": "x" * 12}, timeout=30
                ),
                True,
            ),
        ],
    }[process]
    system.stop(process)
    try:
        for call, api in checks:
            _problem_or_page_503(call(), api)
        assert requests.get(f"{system.url()}/", timeout=20).status_code == 200  # the rest of the site works
    finally:
        system.start(process, _procfile()[process])
    service = process.split("-")[0]
    wait_until(lambda: _ready(system, service), timeout=60, what=f"{process} to come back")
    for call, _api in checks[:2]:
        assert wait_until(lambda call=call: call().status_code == 200, timeout=30, what="the gateway to recover")


def _ready(system, service):
    try:
        return requests.get(f"{system.url(service)}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_poison_message_is_dead_lettered_and_does_not_block_the_queue(faulty):
    from renewals_shared.bus import BatchPublisher, Topology, connect, is_amqp
    from renewals_shared.bus_admin import discard_dead_letters, list_dead_letters
    from renewals_shared.config import Settings

    system = faulty.system
    broker_url = faulty.direct_broker_url
    topology = Topology(system.env["BUS_NAMESPACE"], is_amqp(broker_url))
    poison_id = str(uuid.uuid4())
    poison = {
        "id": poison_id,
        "type": "order.paid",
        "version": "99.0",  # an unknown major version: never retried, straight to the dead-letter queue
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "producer": "faults-test",
        "correlation_id": poison_id,
        "causation_id": None,
        "data": {"order_number": "POISON"},
    }
    publisher = BatchPublisher(broker_url, topology)
    publisher.publish([poison])
    # and a body that is not even JSON
    garbage_id = str(uuid.uuid4())
    with connect(broker_url) as connection:
        from kombu import Producer

        Producer(connection.default_channel).publish(
            b"\x00not json{", exchange=topology.events.name, routing_key="order.paid",
            content_type="application/json", content_encoding="utf-8", message_id=garbage_id,
            headers={"event_type": "order.paid"}, retry=False,
        )  # fmt: skip
    publisher.close()

    started = time.monotonic()
    number = buy_direct(system, buyable_link(system))["order_number"]
    _settled(system, [number], timeout=60)
    elapsed = time.monotonic() - started

    env = {**system.env, "BROKER_URL": broker_url}
    env["NOTIFIER_DATABASE_URL"] = faulty.direct_notifier_database_url
    with _environment(env):
        for service in ("notifier", "token"):
            settings = Settings.from_env(service)

            def both(settings=settings):
                ids = {row["id"]: row for row in list_dead_letters(settings)}
                return ids if {poison_id, garbage_id} <= set(ids) else None

            letters = wait_until(both, timeout=30, what=f"both poison messages in {service}'s dead-letter queue")
            assert "99" in str(letters[poison_id]["error"]), letters[poison_id]
            assert "InvalidEvent" in str(letters[garbage_id]["error"]), letters[garbage_id]
            discard_dead_letters(settings, {poison_id, garbage_id})
            assert not {poison_id, garbage_id} & {row["id"] for row in list_dead_letters(settings)}
    assert elapsed < 15, f"the queue was blocked for {elapsed:.0f} s"
