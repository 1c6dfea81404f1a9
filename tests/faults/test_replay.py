"""Out-of-order and duplicated events: a stream recorded from the running system, replayed shuffled and with
duplicates into fresh databases, leaves the notifier's license projection and sent-mail log and the
token-service's link states exactly as the in-order replay (and as the live system) does."""

from __future__ import annotations

import random

import sqlalchemy
from journey import issue_link
from purchases import Link, buy_direct, buyable_link, new_product, query, wait_until
from renewals_shared.bus import Topology, is_amqp
from renewals_shared.consumer import EventConsumer
from renewals_shared.db import make_engine
from renewals_shared.events import parse_event

LINK_COLUMNS = (
    "id, license_id, product_sku, cycle_end, licensee_name, currency, customer_discount_bp, expires_on, nonce, "
    "secret_id, token_hash"
)


def _record_stream(system):
    sku = new_product(system)
    links = [buyable_link(system, sku) for _ in range(5)]
    for link in links[:3]:
        buy_direct(system, link)
    # one license extended twice: its second cycle gets a new link, bought too
    twice = links[0]
    wait_until(
        lambda: (
            query(system, "token", "SELECT state FROM extension_links WHERE license_id = :id", id=twice.license_id)
            == [("redeemed",)]
        ),
        what="the first link to be redeemed",
    )
    second = Link(issue_link(system, twice.license_id), twice.license_id, twice.license)
    buy_direct(system, second)
    license_ids = [link.license_id for link in links]
    wait_until(
        lambda: query(system, "order", "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] == 0
        and query(system, "token", "SELECT count(*) FROM extension_links WHERE license_id = ANY(:ids) "
                  "AND state = 'redeemed'", ids=license_ids)[0][0] == 4,
        what="the stream to be published and applied",
    )  # fmt: skip
    envelopes = [
        row[0]
        for row in query(
            system,
            "order",
            "SELECT envelope FROM outbox WHERE envelope->'data'->>'license_id' = ANY(:ids) ORDER BY seq",
            ids=license_ids,
        )
    ]
    return license_ids, envelopes


def _consumer(service, engine, handlers, system):
    broker = system.env["BROKER_URL"]
    topology = Topology(system.env["BUS_NAMESPACE"], is_amqp(broker))
    return EventConsumer(service=service, broker_url=broker, topology=topology, engine=engine, handlers=handlers)


def _replay(system, databases, monkeypatch, license_ids, envelopes):
    from notifier.bootstrap import bootstrap as notifier_bootstrap
    from notifier.config import NotifierConfig
    from token_service.bootstrap import bootstrap as token_bootstrap
    from token_service.config import TokenConfig
    from token_service.entrypoints.worker import event_handlers as token_handlers

    notifier_url, token_url = databases.fresh("notifier"), databases.fresh("token")
    for name, value in system.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", notifier_url)
    monkeypatch.setenv("TOKEN_DATABASE_URL", token_url)
    notifier_engine, token_engine = make_engine(notifier_url), make_engine(token_url)

    links = query(
        system, "token", f"SELECT {LINK_COLUMNS} FROM extension_links WHERE license_id = ANY(:ids)", ids=license_ids
    )
    with token_engine.begin() as connection:
        for row in links:  # every link as it was issued: active
            connection.execute(
                sqlalchemy.text(
                    f"INSERT INTO extension_links ({LINK_COLUMNS}, state) VALUES "
                    "(:id, :license_id, :product_sku, :cycle_end, :licensee_name, :currency, :customer_discount_bp, "
                    ":expires_on, :nonce, :secret_id, :token_hash, 'active')"
                ),
                dict(row._mapping),
            )
    notifier = notifier_bootstrap(
        NotifierConfig.from_env(), engine=notifier_engine, enqueue=lambda ids: None, links=None, resets=None
    )
    consumers = [
        _consumer("notifier", notifier_engine, notifier.event_handlers(), system),
        _consumer("token", token_engine, token_handlers(token_bootstrap(TokenConfig.from_env(), engine=token_engine)),
                  system),
    ]  # fmt: skip
    return consumers, notifier_engine, token_engine


def _apply(consumers, envelopes, rng):
    position = 0
    while position < len(envelopes):
        size = rng.randint(1, 4) if rng else 1
        batch = [parse_event(envelope) for envelope in envelopes[position : position + size]]
        position += size
        for consumer in consumers:
            outcomes = consumer._apply_all(batch)  # the consumer's own transaction + inbox path, minus the broker
            assert not any(isinstance(outcome, str) for outcome in outcomes), outcomes


def _snapshot(notifier_engine, token_engine):
    with notifier_engine.connect() as connection:
        projection = connection.execute(
            sqlalchemy.text(
                "SELECT license_id, product_sku, product_name, licensee_name, purchase_date, maintenance_end, "
                "contact_email, currency, end_customer_email FROM license_projection ORDER BY license_id"
            )
        ).all()
        emails = connection.execute(
            sqlalchemy.text("SELECT type, recipient, dedupe_key FROM email ORDER BY dedupe_key")
        ).all()
    with token_engine.connect() as connection:
        links = connection.execute(
            sqlalchemy.text("SELECT id, state, redeemed_order_number, revoked_reason FROM extension_links ORDER BY id")
        ).all()
    return {"projection": projection, "emails": emails, "links": links}


def test_shuffled_and_duplicated_events_leave_the_projections_as_in_order(faulty, databases, monkeypatch):
    system = faulty.system
    license_ids, envelopes = _record_stream(system)
    types = {envelope["type"] for envelope in envelopes}
    assert {"license.registered", "license.maintenance_extended", "order.paid"} <= types, types

    results = []
    for seed in (None, 1, 2, 3):
        stream = list(envelopes)
        rng = random.Random(seed) if seed is not None else None
        if rng:
            stream += rng.sample(envelopes, k=len(envelopes) // 2)  # duplicates, as a redelivery would make
            rng.shuffle(stream)
        consumers, notifier_engine, token_engine = _replay(system, databases, monkeypatch, license_ids, envelopes)
        _apply(consumers, stream, rng)
        if rng:
            _apply(consumers, envelopes, rng)  # and the whole stream once more: nothing changes
        results.append(_snapshot(notifier_engine, token_engine))
        notifier_engine.dispose()
        token_engine.dispose()

    in_order = results[0]
    assert len(in_order["projection"]) == len(license_ids)
    assert len(in_order["emails"]) == 2 * 4  # a confirmation and a notice per purchase
    for shuffled in results[1:]:
        assert shuffled == in_order
    live_links = query(
        system,
        "token",
        "SELECT id, state, redeemed_order_number, revoked_reason FROM extension_links WHERE license_id = ANY(:ids) "
        "ORDER BY id",
        ids=license_ids,
    )
    assert [tuple(row) for row in in_order["links"]] == [tuple(row) for row in live_links]
