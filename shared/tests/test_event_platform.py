"""The platform's promises, on the real brokers: RabbitMQ (quorum queues) and the embedded Redis transport."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from bus_harness import ConsumerThread, effects, make_consumer, make_test_event
from renewals_shared.bus import BatchPublisher, Topology, is_amqp
from renewals_shared.bus_admin import list_dead_letters, replay_dead_letters
from renewals_shared.config import Settings
from renewals_shared.db import INBOX, OUTBOX
from renewals_shared.outbox import OutboxRelay, add_event
from sqlalchemy import Engine, func, select

HARNESS = Path(__file__).parent / "bus_harness.py"


@pytest.fixture(params=["rabbitmq", "redis"])
def transport(request: pytest.FixtureRequest, rabbitmq_url: str | None, redis_url: str) -> str:
    if request.param == "rabbitmq":
        if rabbitmq_url is None:
            pytest.skip("RabbitMQ unreachable")
        return rabbitmq_url
    return redis_url.rsplit("/", 1)[0] + "/1"


def effect_count(engine: Engine, event_id: str | None = None) -> int:
    query = select(func.count()).select_from(effects)
    if event_id is not None:
        query = query.where(effects.c.event_id == event_id)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def relay_for(engine: Engine, broker_url: str, namespace: str) -> OutboxRelay:
    return OutboxRelay(engine, BatchPublisher(broker_url, Topology(namespace, is_amqp(broker_url))))


def start_consumer_process(database_url: str, broker_url: str, namespace: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(HARNESS),
            "--database-url",
            database_url,
            "--broker-url",
            broker_url,
            "--namespace",
            namespace,
            "--visibility-timeout",
            "3",
        ],
        env={**os.environ, **env},
    )


def test_committed_event_reaches_another_process_and_rolled_back_one_never_does(platform_db, transport, bus_namespace):
    _, producer = platform_db()
    consumer_url, consumer_db = platform_db()
    make_consumer(transport, bus_namespace, consumer_db).declare()
    process = start_consumer_process(consumer_url, transport, bus_namespace)
    try:
        committed, rolled_back, barrier = make_test_event(n=1), make_test_event(n=2), make_test_event(n=3)
        with producer.begin() as connection:
            add_event(connection, committed)
        with producer.connect() as connection:
            transaction = connection.begin()
            add_event(connection, rolled_back)
            transaction.rollback()
        with producer.begin() as connection:
            add_event(connection, barrier)
        assert relay_for(producer, transport, bus_namespace).relay_once() == 2
        wait_until(lambda: effect_count(consumer_db, barrier.id) == 1, what="the barrier event")
        assert effect_count(consumer_db, committed.id) == 1
        assert effect_count(consumer_db, rolled_back.id) == 0
        assert effect_count(consumer_db) == 2
    finally:
        process.terminate()
        process.wait(10)


def test_broker_unreachable_loses_nothing_and_delivers_each_event_once(platform_db, transport, bus_namespace):
    _, producer = platform_db()
    _, consumer_db = platform_db()
    events = [make_test_event(n=i) for i in range(1000)]
    with producer.begin() as connection:
        for event in events:
            add_event(connection, event)
    closed = "amqp://guest:guest@127.0.0.1:1//" if is_amqp(transport) else "redis://127.0.0.1:1/0"
    down_relay = relay_for(producer, closed, bus_namespace)
    with pytest.raises(Exception):
        down_relay.relay_once()
    with producer.connect() as connection:
        assert connection.execute(select(func.count()).where(OUTBOX.c.published_at.is_(None))).scalar_one() == 1000
        assert connection.execute(select(func.max(OUTBOX.c.attempts))).scalar_one() == 1  # the failed batch

    with ConsumerThread(make_consumer(transport, bus_namespace, consumer_db)):
        relay = relay_for(producer, transport, bus_namespace)
        while relay.relay_once():
            pass
        wait_until(lambda: effect_count(consumer_db) >= 1000, what="1000 effects")
        time.sleep(0.5)  # a late duplicate would show up now
    assert effect_count(consumer_db) == 1000
    with consumer_db.connect() as connection:
        assert connection.execute(select(func.count(func.distinct(effects.c.event_id)))).scalar_one() == 1000
    assert relay.backlog()[0] == 0


def test_the_same_event_delivered_twice_has_its_effect_once(platform_db, transport, bus_namespace):
    _, consumer_db = platform_db()
    event = make_test_event(n=7)
    publisher = BatchPublisher(transport, Topology(bus_namespace, is_amqp(transport)))
    with ConsumerThread(make_consumer(transport, bus_namespace, consumer_db)):
        publisher.publish([event.to_dict(), event.to_dict()])
        publisher.publish([event.to_dict()])
        barrier = make_test_event(n=8)
        publisher.publish([barrier.to_dict()])
        wait_until(lambda: effect_count(consumer_db, barrier.id) == 1, what="barrier")
        time.sleep(0.3)
    publisher.close()
    assert effect_count(consumer_db, event.id) == 1
    with consumer_db.connect() as connection:
        assert connection.execute(select(func.count()).select_from(INBOX)).scalar_one() == 2


def test_failing_handler_is_retried_then_dead_lettered_and_replay_applies_it(
    platform_db, transport, bus_namespace, tmp_path, monkeypatch
):
    _, consumer_db = platform_db()
    fix_file = tmp_path / "fixed"
    monkeypatch.setenv("FIX_FILE", str(fix_file))
    poison, healthy = make_test_event("fail", n=1), make_test_event(n=2)
    publisher = BatchPublisher(transport, Topology(bus_namespace, is_amqp(transport)))
    consumer = make_consumer(transport, bus_namespace, consumer_db, max_attempts=3, retry_delay=0.05)
    monkeypatch.setenv("BROKER_URL", transport)
    monkeypatch.setenv("BUS_NAMESPACE", bus_namespace)
    with ConsumerThread(consumer):
        publisher.publish([poison.to_dict(), healthy.to_dict()])
        wait_until(lambda: effect_count(consumer_db, healthy.id) == 1, what="the healthy event behind the poison")
        ops = _harness_settings()
        wait_until(lambda: len(list_dead_letters(ops)) == 1, what="the dead letter")
        [dead] = list_dead_letters(ops)
        assert dead["id"] == poison.id
        assert dead["attempts"] == 3
        assert "handler fault injected" in dead["error"]
        assert effect_count(consumer_db, poison.id) == 0

        fix_file.write_text("fixed")
        assert [row["id"] for row in replay_dead_letters(ops)] == [poison.id]
        wait_until(lambda: effect_count(consumer_db, poison.id) == 1, what="the replayed event")
    assert list_dead_letters(ops) == []
    publisher.close()


def _harness_settings() -> Settings:
    """Settings whose service is the harness's queue (the dead-letter CLI works per service name)."""
    import dataclasses

    return dataclasses.replace(Settings.from_env("order"), service="harness")


def test_consumer_killed_mid_handler_loses_nothing_and_applies_once(platform_db, transport, bus_namespace, tmp_path):
    consumer_url, consumer_db = platform_db()
    started = tmp_path / "started"
    slow = make_test_event("sleep:3", n=1)
    make_consumer(transport, bus_namespace, consumer_db).declare()
    BatchPublisher(transport, Topology(bus_namespace, is_amqp(transport))).publish([slow.to_dict()])

    first = start_consumer_process(consumer_url, transport, bus_namespace, STARTED_FILE=str(started))
    wait_until(started.exists, what="the handler to start")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert effect_count(consumer_db) == 0

    second = start_consumer_process(consumer_url, transport, bus_namespace)
    try:
        wait_until(lambda: effect_count(consumer_db, slow.id) == 1, timeout=60, what="redelivery after SIGKILL")
        time.sleep(1.0)
        assert effect_count(consumer_db) == 1
    finally:
        second.terminate()
        second.wait(10)
