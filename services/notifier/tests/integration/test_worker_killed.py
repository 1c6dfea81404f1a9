"""A Celery worker disturbed in the middle of a send (SIGKILLed, or its broker connection cut): the email still
goes out exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker
from notifier.adapters.orm import email as email_table
from notifier.config import NotifierConfig
from notifier.entrypoints.celery_app import create_celery
from renewals_shared.events import new_event, parse_event
from renewals_shared.fault_proxy import FaultProxy
from renewals_shared.testing import free_port
from sqlalchemy import select
from sqlalchemy.orm import Session


class SlowFirstRcpt:
    """Stalls the first RCPT TO long enough for the test to kill the sending worker in mid-conversation."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.first_rcpt = threading.Event()
        self.rcpts = 0

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.rcpts += 1
        if self.rcpts == 1:
            self.first_rcpt.set()
            await asyncio.sleep(8)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


class SlowDataReply:
    """Holds the reply to DATA: the message is on the wire and `data_started_at` committed, the worker waits."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.data_received = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.data_received.set()
        await asyncio.sleep(4)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def wait_until(condition, timeout: float = 30.0) -> Any:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_worker_sigkilled_mid_send_sends_once(service_env, require_rabbitmq) -> None:  # type: ignore[no-untyped-def]
    handler = SlowFirstRcpt()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        settings = service_env(
            "notifier",
            SMTP_URL=f"smtp://127.0.0.1:{controller.port}",
            EMAIL_SENDING_LEASE_SECONDS="3",
            SMTP_TIMEOUT_SECONDS="30",
        )
        config = NotifierConfig.from_env(settings)
        app = create_celery(config)
        notifier = app.notifier()
        worker = _celery_worker("--pool", "solo")
        event = new_event("order.paid", ORDER_PAID, "order")
        with Session(notifier.engine) as session, session.begin():
            notifier.event_handlers()["order.paid"](parse_event(event.to_dict()), session)
        assert handler.first_rcpt.wait(60), "the worker never reached RCPT"
        os.killpg(worker.pid, signal.SIGKILL)  # mid-conversation: after MAIL FROM, before DATA
        worker.wait(10)

        def row() -> dict[str, Any]:
            with notifier.engine.connect() as c:
                return dict(c.execute(select(email_table)).one()._mapping)

        dead = row()
        assert dead["status"] == "sending" and dead["attempts"] == 1 and dead["data_started_at"] is None
        with start_worker(
            app, pool="threads", concurrency=1, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10
        ):
            # RabbitMQ hands the unacked task to the new worker at once; while the dead attempt's lease runs it
            # is left alone, then the sweep (beat, every 45 s in production) sends it
            time.sleep(3.5)
            notifier.sweep()
            wait_until(lambda: row()["status"] == "sent")
            time.sleep(1.0)
        assert len(handler.messages) == 1
        assert handler.messages[0]["Subject"].startswith("Order confirmation R-9")
        final = row()
        assert final["attempts"] == 2 and final["message_id"] == handler.messages[0]["Message-ID"]
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        controller.stop()


def _celery_worker(*options: str) -> subprocess.Popen[bytes]:
    """A real worker process, started the way the Procfile starts it."""
    command = [sys.executable, "-m", "celery", "-A", "notifier.entrypoints.celery_app", "worker", *options]
    command += ["--without-mingle", "--without-gossip", "-l", "WARNING"]
    return subprocess.Popen(
        command, env=os.environ.copy(), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.mark.slow
def test_broker_connection_cut_mid_send_lets_the_send_finish_once(service_env, broker_url) -> None:  # type: ignore[no-untyped-def]
    """Celery can terminate acks-late tasks when its broker connection drops; in the middle of DATA that would
    leave the email `uncertain` (maybe sent, never resent). The send must finish, and the redelivered task must
    see it done."""
    handler = SlowDataReply()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    broker = urlsplit(broker_url)
    proxy = FaultProxy(broker.hostname or "127.0.0.1", broker.port or 5672).start()
    userinfo = broker.netloc.rsplit("@", 1)[0] + "@" if "@" in broker.netloc else ""
    worker: subprocess.Popen[bytes] | None = None
    try:
        settings = service_env(
            "notifier",
            BROKER_URL=urlunsplit(broker._replace(netloc=f"{userinfo}127.0.0.1:{proxy.port}")),
            SMTP_URL=f"smtp://127.0.0.1:{controller.port}",
            EMAIL_SENDING_LEASE_SECONDS="60",
            SMTP_TIMEOUT_SECONDS="30",
        )
        notifier = create_celery(NotifierConfig.from_env(settings)).notifier()
        worker = _celery_worker("--pool", "prefork", "--concurrency", "1")
        event = new_event("order.paid", ORDER_PAID, "order")
        with Session(notifier.engine) as session, session.begin():
            notifier.event_handlers()["order.paid"](parse_event(event.to_dict()), session)
        assert handler.data_received.wait(60), "the worker never sent DATA"
        proxy.cut()
        proxy.refuse = True
        time.sleep(1.0)
        proxy.refuse = False

        def row() -> dict[str, Any]:
            with notifier.engine.connect() as c:
                return dict(c.execute(select(email_table)).one()._mapping)

        with contextlib.suppress(AssertionError):  # the assertions below say what state it was left in
            wait_until(lambda: row()["status"] == "sent", timeout=20)
        time.sleep(2.0)  # the redelivered task has run by now
        final = row()
        assert final["status"] == "sent", final
        assert final["attempts"] == 1
        assert len(handler.messages) == 1
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        proxy.stop()
        controller.stop()


ADDRESS = {"line1": "Main St 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}
ORDER_PAID = {
    "order_number": "R-9",
    "license_id": "lic-1",
    "link_id": "link-1",
    "reseller_id": None,
    "license_key_masked": "ABCD-****",
    "product_name": "Widget Pro",
    "licensee_name": "Acme GmbH",
    "previous_maintenance_end": dt.date(2026, 7, 1),
    "new_maintenance_end": dt.date(2027, 7, 1),
    "years_charged": 1,
    "price_per_year": {"amount": 10000, "currency": "EUR"},
    "total": {"amount": 10000, "currency": "EUR"},
    "effective_discount_bp": 5000,
    "billing": {"name": "Eve", "company": "Acme", "email": "eve@acme.example", "address": ADDRESS, "vat_id": None},
    "end_customer": {"name": "Eve", "company": "Acme", "email": "eve@acme.example", "address": ADDRESS, "vat_id": None},
    "payment_method": "card",
    "card_brand": "visa",
    "card_last4": "4242",
}
