"""A throwaway consuming service for the platform tests, runnable in-thread or as its own process.

Its handler records each event in `effects`; the event's `reason` field steers it: "fail" raises until the
file named by FIX_FILE exists, "sleep:N" sleeps N seconds before recording (a window to kill the process in).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

from renewals_shared.bus import Topology, is_amqp
from renewals_shared.consumer import EventConsumer
from renewals_shared.db import add_outbox_and_inbox, make_engine
from renewals_shared.events import Event, new_event
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, insert
from sqlalchemy.orm import Session

EVENT_TYPE = "extension_link.revoked"
platform_metadata = MetaData()
add_outbox_and_inbox(platform_metadata)
effects = Table(
    "effects",
    platform_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
)


def make_test_event(reason: str = "ok", n: int = 0) -> Event:
    return new_event(EVENT_TYPE, {"link_id": f"link-{n}", "license_id": f"lic-{n}", "reason": reason}, "test")


def record_effect(event: Event, session: Session) -> None:
    reason = event.data["reason"]
    if reason == "fail" and not Path(os.environ.get("FIX_FILE", "/nonexistent")).exists():
        raise RuntimeError("handler fault injected by the test")
    if reason.startswith("sleep:"):
        started = os.environ.get("STARTED_FILE")
        if started:
            Path(started).write_text(event.id)
        time.sleep(float(reason.split(":", 1)[1]))
    session.execute(insert(effects).values(event_id=event.id))


def make_consumer(broker_url: str, namespace: str, engine: Engine, **kwargs: object) -> EventConsumer:
    return EventConsumer(
        service="harness",
        broker_url=broker_url,
        topology=Topology(namespace, is_amqp(broker_url)),
        engine=engine,
        handlers={EVENT_TYPE: record_effect},
        **kwargs,  # type: ignore[arg-type]
    )


class ConsumerThread:
    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=consumer.run, args=(self.stop_event,), daemon=True)

    def __enter__(self) -> ConsumerThread:
        self.consumer.declare()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--broker-url", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--visibility-timeout", type=int, default=5)
    args = parser.parse_args()
    consumer = make_consumer(
        args.broker_url, args.namespace, make_engine(args.database_url), visibility_timeout=args.visibility_timeout
    )
    consumer.declare()
    consumer.run()
