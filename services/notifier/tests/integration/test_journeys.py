"""End to end inside the notifier, for real: PostgreSQL, the broker (RabbitMQ), a Celery worker, the SMTP sink,
and a fake token-service over HTTP."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from celery.contrib.testing.worker import start_worker
from notifier.adapters.orm import email as email_table
from notifier.adapters.orm import license_projection
from notifier.bootstrap import Notifier, bootstrap
from notifier.config import NotifierConfig
from notifier.entrypoints.celery_app import create_celery
from renewals_shared.bus import BatchPublisher
from renewals_shared.events import new_event
from renewals_shared.worker import run_worker, topology_for
from sqlalchemy import select, text

TODAY = dt.date.today()


def wait_until(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def license_event(license_id: str, end: dt.date) -> dict[str, Any]:
    return new_event(
        "license.registered",
        {
            "license_id": license_id,
            "license_key": "ABCD-EFGH-IJKL",
            "product_sku": "PRO",
            "product_name": "Widget Pro",
            "seats": 5,
            "licensee_name": "Acme GmbH",
            "purchase_date": dt.date(end.year - 3, end.month, min(end.day, 28)),
            "maintenance_end": end,
            "contact_email": "it@acme.example",
            "currency": "EUR",
        },
        "order",
    ).to_dict()


@pytest.fixture
def celery_stack(notifier_settings: Any) -> Iterator[tuple[Notifier, Any]]:
    """The notifier wired to a Celery app and one real worker thread consuming the real broker."""
    config = NotifierConfig.from_env(notifier_settings)
    app = create_celery(config)
    notifier = app.notifier()
    with start_worker(
        app, pool="threads", concurrency=1, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
    ):
        yield notifier, app


def emails(notifier: Notifier) -> list[dict[str, Any]]:
    with notifier.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(email_table).order_by(email_table.c.id))]


@pytest.mark.slow
def test_license_due_in_30_days_gets_exactly_one_reminder_whose_link_resolves(
    celery_stack, smtp_sink, token_service, notifier_settings
) -> None:  # type: ignore[no-untyped-def]
    notifier, _ = celery_stack
    # the license arrives as an event through the real consumer (inbox, shared worker)
    stop = threading.Event()
    consumer = threading.Thread(
        target=run_worker,
        args=(notifier_settings, notifier.engine, notifier.event_handlers()),
        kwargs={"stop": stop, "relay": False},
        daemon=True,
    )
    consumer.start()
    try:
        end = TODAY + dt.timedelta(days=30)
        envelope = license_event("lic-30", end)
        time.sleep(1.0)  # the consumer declares its queue and bindings at start
        publisher = BatchPublisher(notifier_settings.broker_url, topology_for(notifier_settings))
        publisher.publish([envelope])
        publisher.publish([envelope])  # a redelivery: the inbox makes it a no-op
        publisher.close()

        def projected() -> Any:
            with notifier.engine.connect() as c:
                return c.execute(select(license_projection.c.maintenance_end)).scalar()

        assert wait_until(projected, what="the projection") == end
    finally:
        stop.set()
        consumer.join(timeout=15)

    assert notifier.scan(TODAY).reminders_queued == 1
    assert notifier.scan(TODAY).reminders_queued == 0
    assert notifier.scan(TODAY + dt.timedelta(days=1)).reminders_queued == 0

    (message,) = smtp_sink.wait_for(1, timeout=30)
    assert "Widget Pro" in message["Subject"] and end.isoformat() in message["Subject"]
    assert message["To"] == "it@acme.example"
    text_body = message.get_body(("plain",)).get_content()
    url = re.search(r"http://renewals\.test/extend/(\S+)", text_body)
    assert url is not None
    resolved = requests.get(
        f"{token_service.url}/links/resolve", headers={"X-Extension-Token": url.group(1)}, timeout=5
    )
    assert resolved.status_code == 200 and resolved.json()["license_id"] == "lic-30"
    assert resolved.json()["cycle_end"] == end.isoformat()

    (row,) = wait_until(lambda: [e for e in emails(notifier) if e["status"] == "sent"], what="sent status")
    assert row["dedupe_key"] == f"reminder:lic-30:{end.isoformat()}:-30"
    assert row["message_id"] == message["Message-ID"] and row["attempts"] == 1
    assert url.group(1) not in str(row["context"])  # the raw token never reached our database
    time.sleep(1.0)
    assert len(smtp_sink.messages) == 1


@pytest.mark.slow
def test_smtp_down_is_retried_then_delivered_once(celery_stack, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    notifier, _ = celery_stack
    smtp_sink.handler.accept = False  # 451 for every message
    handlers = notifier.event_handlers()
    event = new_event(
        "reseller.registered",
        {"reseller_id": "res-1", "email": "anna@resell.example", "company": "Resell AG", "contact_name": "Anna"},
        "reseller",
    )
    from renewals_shared.events import parse_event
    from sqlalchemy.orm import Session

    with Session(notifier.engine) as session, session.begin():
        handlers["reseller.registered"](parse_event(event.to_dict()), session)
    # both emails are retried by Celery with backoff while the server refuses them
    wait_until(
        lambda: all(e["attempts"] >= 2 for e in emails(notifier)) and len(emails(notifier)) == 2,
        what="two failed attempts each",
    )
    assert all(e["status"] in ("pending", "sending") for e in emails(notifier))
    assert smtp_sink.messages == []
    smtp_sink.handler.accept = True
    messages = smtp_sink.wait_for(2, timeout=30)
    wait_until(lambda: all(e["status"] == "sent" for e in emails(notifier)), what="sent")
    time.sleep(2.5)  # any stray retry would have landed by now
    assert len(smtp_sink.messages) == 2
    assert sorted(m["To"] for m in messages) == ["anna@resell.example", "support@renewals.test"]


@pytest.mark.slow
def test_crash_between_commit_and_enqueue_is_caught_by_the_sweep(celery_stack, smtp_sink) -> None:  # type: ignore[no-untyped-def]
    notifier, _ = celery_stack
    lost = bootstrap(notifier.config, engine=notifier.engine, enqueue=lambda ids: None)  # enqueue "crashed"
    from renewals_shared.events import parse_event
    from sqlalchemy.orm import Session

    event = new_event(
        "reseller.approved",
        {
            "reseller_id": "res-1",
            "email": "anna@resell.example",
            "company": "Resell AG",
            "contact_name": "Anna",
            "discount_bp": 1000,
            "invoice_allowed": True,
        },
        "reseller",
    )
    with Session(notifier.engine) as session, session.begin():
        lost.event_handlers()["reseller.approved"](parse_event(event.to_dict()), session)
    assert notifier.sweep() == []  # younger than the grace period: its own enqueue may still be on the way
    time.sleep(1.0)
    assert smtp_sink.messages == []  # nothing was enqueued
    with notifier.engine.begin() as c:
        c.execute(text("UPDATE email SET next_attempt_at = now() - interval '2 minutes'"))
    assert len(notifier.sweep()) == 1
    (message,) = smtp_sink.wait_for(1, timeout=20)
    assert "approved" in message["Subject"]
    wait_until(lambda: emails(notifier)[0]["status"] == "sent", what="sent")
    assert notifier.sweep() == []


def test_two_concurrent_scans_send_once(notifier_settings, smtp_sink, token_service) -> None:  # type: ignore[no-untyped-def]
    config = NotifierConfig.from_env(notifier_settings)
    enqueued: list[int] = []
    lock = threading.Lock()

    def record(ids: list[int]) -> None:
        with lock:
            enqueued.extend(ids)

    notifier = bootstrap(config, enqueue=record)
    with notifier.uow_factory() as uow:
        from notifier.domain.model import LicenseProjection

        for n in range(40):
            uow.repo.merge_license(
                LicenseProjection(
                    f"lic-{n:02}",
                    "PRO",
                    "Widget Pro",
                    "Acme",
                    dt.date(2020, 1, 1),
                    TODAY + dt.timedelta(days=7 if n % 2 else 0),
                    f"it{n}@acme.example",
                    "EUR",
                )
            )
        uow.commit()
    results: list[int] = []
    barrier = threading.Barrier(2)

    def scan() -> None:
        scanner = bootstrap(config, engine=notifier.engine, enqueue=record)
        scanner.config = config
        barrier.wait()
        results.append(scanner.scan(TODAY).reminders_queued)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(results) == 40
    assert len(enqueued) == 40 and len(set(enqueued)) == 40
    for email_id in enqueued + enqueued:  # every id delivered twice over, as a redelivery would
        notifier.deliver(email_id)
    smtp_sink.wait_for(40, timeout=20)
    time.sleep(0.5)
    assert len(smtp_sink.messages) == 40
    assert len({m["To"] for m in smtp_sink.messages}) == 40


def test_extended_end_date_stops_reminders(notifier_settings, smtp_sink, token_service) -> None:  # type: ignore[no-untyped-def]
    notifier = bootstrap(NotifierConfig.from_env(notifier_settings), enqueue=lambda ids: None)
    from renewals_shared.events import parse_event
    from sqlalchemy.orm import Session

    handlers = notifier.event_handlers()
    end = TODAY + dt.timedelta(days=30)

    def apply(envelope: dict[str, Any]) -> None:
        with Session(notifier.engine) as session, session.begin():
            handlers[envelope["type"]](parse_event(envelope), session)

    apply(license_event("lic-x", end))
    assert notifier.scan(TODAY).reminders_queued == 1
    pending_reminder = emails(notifier)[0]["id"]
    new_end = dt.date(end.year + 1, end.month, min(end.day, 28)) if end.month == 2 else end.replace(year=end.year + 1)
    apply(
        new_event(
            "license.maintenance_extended",
            {
                "license_id": "lic-x",
                "previous_maintenance_end": end,
                "maintenance_end": new_end,
                "order_number": "R-1",
                "contact_email": "it@acme.example",
                "licensee_name": "Acme GmbH",
                "product_name": "Widget Pro",
                "end_customer": None,
            },
            "order",
        ).to_dict()
    )
    # the reminder recorded for the old cycle no longer goes out, and no later stage of the old E is scanned
    assert str(notifier.deliver(pending_reminder)) == "cancelled"
    for day in range(0, 61, 1):
        assert notifier.scan(TODAY + dt.timedelta(days=day)).reminders_queued == 0
    assert smtp_sink.messages == []
    assert token_service.issue_calls == 1


@pytest.mark.slow
def test_embedded_mode_on_the_redis_transport(service_env, smtp_sink, redis_url) -> None:  # type: ignore[no-untyped-def]
    settings = service_env("notifier", BROKER_URL=redis_url, SMTP_URL=f"smtp://127.0.0.1:{smtp_sink.port}")
    app = create_celery(NotifierConfig.from_env(settings))
    notifier = app.notifier()
    from renewals_shared.events import parse_event
    from sqlalchemy.orm import Session

    event = new_event(
        "reseller.change_requested",
        {
            "change_request_id": "cr-1",
            "reseller_id": None,
            "reseller_email": "anna@resell.example",
            "previous_order_number": "R-7",
            "topic": "billing",
            "message": "New VAT id",
        },
        "reseller",
    )
    with start_worker(
        app, pool="threads", concurrency=1, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
    ):
        with Session(notifier.engine) as session, session.begin():
            notifier.event_handlers()["reseller.change_requested"](parse_event(event.to_dict()), session)
        messages = smtp_sink.wait_for(2, timeout=20)
    assert sorted(m["To"] for m in messages) == ["anna@resell.example", "support@renewals.example"]
    support_copy = next(m for m in messages if m["To"] == "support@renewals.example")
    assert support_copy["Reply-To"] == "anna@resell.example"
