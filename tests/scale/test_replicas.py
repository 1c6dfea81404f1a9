"""Scale out: a second replica of every event consumer and a second outbox relay, on the same PostgreSQL, broker
and Redis, each in its own process; a burst of purchases; every effect happens exactly once.

The second order-worker, token-worker and reseller-worker each also run a second outbox relay of their service
(`FOR UPDATE SKIP LOCKED` hands the relays disjoint batches); the consumers compete on their service's one queue
and the inbox makes a redelivered event a no-op.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from journey import add_years
from prometheus_client.multiprocess import MultiProcessCollector
from purchases import buy_direct, buyable_link, new_product, query, wait_until
from scrape import sample

ROOT = Path(__file__).resolve().parents[2]
REPLICATED = ("order-worker", "token-worker", "notifier-consumer", "reseller-worker")
BURST = 16  # purchases, 4 at a time


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_two_replicas_of_every_consumer_and_relay_apply_every_effect_exactly_once(system):
    commands = procfile()
    for name in REPLICATED:
        system.start(f"{name}-2", commands[name])
    try:
        # a burst sent before a replica subscribed could all go to the first one: wait until each consumes
        for name in ("order-worker", "token-worker", "notifier-consumer"):  # reseller-worker consumes nothing
            wait_until(lambda n=name: _subscribed(system, f"{n}-2"), timeout=60, what=f"{name}-2 consuming")
        _burst_and_check(system)
        shares = {
            "order relay 2 published": _counted(system, "order-worker-2", "renewals_events_published_total"),
            "token relay 2 published": _counted(system, "token-worker-2", "renewals_events_published_total"),
            "token consumer 2 consumed": _counted(system, "token-worker-2", "renewals_events_consumed_total"),
            "notifier consumer 2 consumed": _counted(system, "notifier-consumer-2", "renewals_events_consumed_total"),
        }
        # the second replicas took part (how much is up to the broker and SKIP LOCKED)
        assert shares["token consumer 2 consumed"] > 0 and shares["notifier consumer 2 consumed"] > 0, shares
        assert shares["order relay 2 published"] + shares["token relay 2 published"] > 0, shares
        dead = [
            name for name in (*REPLICATED, *(f"{n}-2" for n in REPLICATED)) if system.processes[name].poll() is not None
        ]
        assert not dead, f"replicas exited: {dead}; logs in {system.logs}"
    finally:
        for name in REPLICATED:
            system.stop(f"{name}-2")


def _subscribed(system, name: str) -> bool:
    log = system.logs / f"{name}.log"
    return log.exists() and '"event": "consuming"' in log.read_text(errors="replace")


def _burst_and_check(system) -> None:
    sku = new_product(system, price=10_000)
    links = [buyable_link(system, sku, licensee=f"Scale {i} AG") for i in range(BURST)]
    dead_letters = {s: sample(system, s, "renewals_events_dead_lettered_total") for s in ("order", "token", "notifier")}
    with ThreadPoolExecutor(max_workers=4) as pool:
        paid = list(pool.map(lambda link: buy_direct(system, link), links))
    order_numbers = sorted(order["order_number"] for order in paid)
    assert len(set(order_numbers)) == BURST
    license_ids = [link.license_id for link in links]

    # order-service: each license extended once, by exactly its one paid order
    orders = query(
        system, "order", "SELECT license_id, status FROM orders WHERE license_id = ANY(:ids)", ids=license_ids
    )
    assert Counter(status for _license, status in orders) == {"paid": BURST}
    history = query(
        system,
        "order",
        "SELECT license_id, order_number FROM license_history WHERE change = 'maintenance_extended' "
        "AND license_id = ANY(:ids)",
        ids=license_ids,
    )
    assert sorted(number for _license, number in history) == order_numbers
    ends = dict(
        query(system, "order", "SELECT id, maintenance_end FROM licenses WHERE id = ANY(:ids)", ids=license_ids)
    )
    for link in links:
        purchase = link.license["purchase_date"]
        assert ends[link.license_id].isoformat() == add_years_iso(purchase, 4), "extended more than once"

    # token-service: every link redeemed, once, by its own order (after order.paid crossed the broker)
    def redeemed() -> list:
        return query(
            system,
            "token",
            "SELECT redeemed_order_number FROM extension_links WHERE license_id = ANY(:ids) AND state = 'redeemed'",
            ids=license_ids,
        )

    wait_until(lambda: len(redeemed()) == BURST, timeout=90, what="every link redeemed")
    assert sorted(number for (number,) in redeemed()) == order_numbers

    # notifier: one order confirmation and one maintenance-extended notice per order, no more
    recipients = {link.license["end_customer"]["email"] for link in links}

    def emails() -> Counter:
        return Counter(
            (message["To"], message["X-Renewals-Email-Type"])
            for message in list(system.smtp.messages)
            if message["To"] in recipients
        )

    expected = Counter({(r, kind): 1 for r in recipients for kind in ("order_confirmation", "maintenance_extended")})
    wait_until(lambda: emails() == expected, timeout=120, what="one confirmation and one notice per order")
    sent = query(
        system,
        "notifier",
        "SELECT type, count(*) FROM email WHERE recipient = ANY(:r) AND status = 'sent' GROUP BY type",
        r=sorted(recipients),
    )
    assert dict(sent) == {"order_confirmation": BURST, "maintenance_extended": BURST}

    # every event went through the inboxes exactly once: nothing dead-lettered on the way
    for service, before in dead_letters.items():
        assert sample(system, service, "renewals_events_dead_lettered_total") == before


def _counted(system, process: str, name: str) -> float:
    """What one process counted, from its own files in the service's prometheus_client multiprocess directory."""
    directory = Path(system.logs) / "metrics" / process.split("-")[0]
    files = [str(path) for path in directory.glob(f"counter_{system.processes[process].pid}.db")]
    if not files:
        return 0.0
    return sum(
        s.value
        for metric in MultiProcessCollector.merge(files, accumulate=True)
        for s in metric.samples
        if s.name == name
    )


def add_years_iso(purchase_iso: str, years: int) -> str:
    return add_years(dt.date.fromisoformat(purchase_iso), years).isoformat()
