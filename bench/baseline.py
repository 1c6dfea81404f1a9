"""Baselines measured in the same run as every benchmark (the machine is shared and noisy).

- a bare Flask + psycopg endpoint doing one indexed SELECT, served by gunicorn with 2 workers;
- two bare kombu loops on RabbitMQ, each consumed by a plain consumer: a publish that waits for its confirm
  per message, and batches of 200 published before waiting for all their confirms.

    python bench/baseline.py
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import requests
from common import LoadResult, free_port, gunicorn, http_load, scratch_database, scratch_vhost
from kombu import Connection, Consumer, Exchange, Producer, Queue

ITEMS = 100_000


@contextlib.contextmanager
def bare_endpoint() -> Iterator[str]:
    with scratch_database("baseline") as url:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price int NOT NULL)")
            connection.execute(
                "INSERT INTO items SELECT g, 'item ' || g, g * 7 FROM generate_series(1, %s) AS g", (ITEMS,)
            )
            connection.execute("ANALYZE items")
        with gunicorn("baseline_app:app", free_port(), {"BASELINE_DATABASE_URL": url, "PYTHONPATH": "bench"}) as base:
            yield base


def bare_request(base: str) -> Callable[[requests.Session, int], requests.Response]:
    """One request to the bare endpoint at `base` (for http_load / interleaved_http_load)."""
    return lambda s, i: s.get(f"{base}/items/{random.randint(1, ITEMS)}")


def measure_bare_http(seconds: float = 5.0, concurrency: int = 8) -> LoadResult:
    with bare_endpoint() as base:
        http_load(bare_request(base), seconds=1, concurrency=concurrency)
        return http_load(bare_request(base), seconds=seconds, concurrency=concurrency)


def _consume_count(broker_url: str, queue: Queue, expected: int, done: threading.Event, ready: threading.Event) -> None:
    received = 0

    def on_message(body: object, message) -> None:  # noqa: ANN001
        nonlocal received
        message.ack()
        received += 1

    with Connection(broker_url) as connection:
        with Consumer(connection.channel(), queues=[queue], callbacks=[on_message], accept=["json"]) as consumer:
            consumer.qos(prefetch_count=100)
            ready.set()
            while received < expected:
                with contextlib.suppress(TimeoutError):
                    connection.drain_events(timeout=1)
    done.set()


def _bare_loop(broker_url: str, messages: int, batch: int | None) -> float:
    """Messages per second from the first publish until the plain consumer acked the last one."""
    exchange = Exchange(f"bare{batch or 1}.{random.randint(0, 10**6)}", type="topic", durable=True)
    queue = Queue(
        exchange.name + ".q", exchange, routing_key="#", durable=True, queue_arguments={"x-queue-type": "quorum"}
    )
    with Connection(broker_url) as connection:
        queue(connection.default_channel).declare()
    done, ready = threading.Event(), threading.Event()
    consumer = threading.Thread(target=_consume_count, args=(broker_url, queue, messages, done, ready), daemon=True)
    consumer.start()
    ready.wait(10)
    body = {"id": "x" * 36, "type": "bench.event", "data": {"n": 0}}
    started = time.perf_counter()
    if batch is None:
        with Connection(broker_url, transport_options={"confirm_publish": True}) as connection:
            producer = Producer(connection.channel(), exchange=exchange)
            for _ in range(messages):
                producer.publish(body, routing_key="bench.event", delivery_mode=2, serializer="json")
    else:
        with Connection(broker_url) as connection:
            channel = connection.channel()
            channel.confirm_select()
            pending: set[int] = set()

            def on_ack(tag: int, multiple: bool) -> None:
                nonlocal pending
                pending = {t for t in pending if t > tag} if multiple else pending - {tag}

            channel.events["basic_ack"].add(on_ack)
            tag = 0
            import json

            payload = json.dumps(body)
            for offset in range(0, messages, batch):
                for _ in range(min(batch, messages - offset)):
                    message = channel.prepare_message(
                        payload,
                        content_type="application/json",
                        content_encoding="utf-8",
                        properties={"delivery_mode": 2},
                    )
                    channel.basic_publish(message, exchange=exchange.name, routing_key="bench.event")
                    tag += 1
                    pending.add(tag)
                while pending:
                    connection.drain_events(timeout=10)
    done.wait(120)
    elapsed = time.perf_counter() - started
    with Connection(broker_url) as connection:
        queue(connection.default_channel).delete()
        exchange(connection.default_channel).delete()
    return messages / elapsed


def measure_bare_bus(broker_url: str, messages: int = 5000) -> tuple[float, float]:
    """(per-message-confirm rate, batched-confirm rate) in messages per second."""
    return _bare_loop(broker_url, messages, None), _bare_loop(broker_url, messages, 200)


if __name__ == "__main__":
    print(measure_bare_http().line("bare Flask + psycopg, one indexed SELECT"))
    with scratch_vhost() as vhost:
        per_message, batched = measure_bare_bus(vhost)
    print(f"{'bare kombu, confirm per message':<44} {per_message:9.1f} msg/s")
    print(f"{'bare kombu, batches of 200 confirmed':<44} {batched:9.1f} msg/s")
