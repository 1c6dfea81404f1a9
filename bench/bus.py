"""Events per second and commit-to-consumer-commit latency through outbox -> RabbitMQ -> consumer with inbox.

Every guarantee on: the producer commits events with its state change, a relay process publishes them with
confirms (batched), a consumer process applies each in a transaction with its inbox row and acks after commit.
Compared with the two bare kombu loops of baseline.py, measured in the same run.

    python bench/bus.py [--events 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))
from baseline import measure_bare_bus  # noqa: E402
from common import machine, percentile, report, scratch_database, scratch_vhost  # noqa: E402
from renewals_shared.bus import BatchPublisher, Topology  # noqa: E402
from renewals_shared.consumer import EventConsumer  # noqa: E402
from renewals_shared.db import add_outbox_and_inbox, make_engine  # noqa: E402
from renewals_shared.events import Event, new_event  # noqa: E402
from renewals_shared.outbox import OutboxRelay, add_events  # noqa: E402

metadata = MetaData()
add_outbox_and_inbox(metadata)
effects = Table(
    "effects",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("latency", Float, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
)
EVENT_TYPE = "extension_link.redeemed"


def apply_effect(event: Event, session: Session) -> None:
    committed = dt.datetime.fromisoformat(event.occurred_at)
    latency = (dt.datetime.now(dt.UTC) - committed).total_seconds()
    session.execute(insert(effects).values(event_id=event.id, latency=latency))


def run_relay(database_url: str, broker_url: str, namespace: str) -> None:
    relay = OutboxRelay(make_engine(database_url), BatchPublisher(broker_url, Topology(namespace, True)))
    relay.run(threading.Event())


def run_consumer(database_url: str, broker_url: str, namespace: str) -> None:
    consumer = EventConsumer(
        service="bench",
        broker_url=broker_url,
        topology=Topology(namespace, True),
        engine=make_engine(database_url),
        handlers={EVENT_TYPE: apply_effect},
        prefetch=200,
    )
    consumer.declare()
    consumer.run(threading.Event())


def spawn(role: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, role, *args], env={**os.environ, "LOG_LEVEL": "WARNING"})


def measure_pipeline(broker_url: str, events: int, per_transaction: int = 50) -> tuple[float, float, float]:
    namespace = f"benchbus{os.getpid()}"
    with scratch_database("bus_producer") as producer_url, scratch_database("bus_consumer") as consumer_url:
        producer, consumer = make_engine(producer_url), make_engine(consumer_url)
        metadata.create_all(producer)
        metadata.create_all(consumer)
        EventConsumer(
            service="bench",
            broker_url=broker_url,
            topology=Topology(namespace, True),
            engine=consumer,
            handlers={EVENT_TYPE: apply_effect},
        ).declare()
        processes = [
            spawn("consumer", consumer_url, broker_url, namespace),
            spawn("relay", producer_url, broker_url, namespace),
        ]
        try:
            time.sleep(2.0)  # both processes connected and idle
            started = time.perf_counter()
            for offset in range(0, events, per_transaction):
                with producer.begin() as connection:
                    add_events(
                        connection,
                        [
                            new_event(EVENT_TYPE, {"link_id": f"l{n}", "license_id": "x", "order_number": "o"}, "bench")
                            for n in range(offset, min(events, offset + per_transaction))
                        ],
                    )
            produced = time.perf_counter() - started
            print(f"(producer committed {events} events in {produced:.2f} s)")
            with consumer.connect() as connection:
                while connection.execute(select(func.count()).select_from(effects)).scalar_one() < events:
                    time.sleep(0.02)
                    connection.rollback()
                elapsed = time.perf_counter() - started
                latencies = list(connection.execute(select(effects.c.latency)).scalars())
        finally:
            for process in processes:
                process.terminate()
                process.wait(15)
            producer.dispose()
            consumer.dispose()
    return events / elapsed, percentile(latencies, 50), percentile(latencies, 99)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with scratch_vhost() as vhost:
        per_message, batched = measure_bare_bus(vhost, args.events)
        rate, p50, p99 = measure_pipeline(vhost, args.events)
    print(f"{'bare kombu, confirm per message':<44} {per_message:9.1f} msg/s")
    print(f"{'bare kombu, batches of 200 confirmed':<44} {batched:9.1f} msg/s")
    print(
        f"{'outbox -> RabbitMQ -> consumer with inbox':<44} {rate:9.1f} ev/s"
        f"   p50 {p50 * 1000:.0f} ms   p99 {p99 * 1000:.0f} ms"
    )
    report(
        "outbox -> RabbitMQ -> consumer with inbox", rate, "ev/s", "bare kombu, confirm per message", per_message, 1.00
    )
    report("outbox -> RabbitMQ -> consumer with inbox", rate, "ev/s", "bare kombu, batches of 200", batched, 0.25)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("relay", "consumer"):
        {"relay": run_relay, "consumer": run_consumer}[sys.argv[1]](*sys.argv[2:5])
    else:
        main()
