"""A second whole system for fault injection: the broker and the notifier's database are reached through the
tests' own TCP proxies (renewals_shared/fault_proxy.py), and mail retries/sweeps are fast so recovery fits in a test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from renewals_shared.fault_proxy import FaultProxy

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent / "e2e", HERE.parent / "load", HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@dataclass
class FaultySystem:
    system: Any  # RunningSystem
    broker: FaultProxy  # in front of RabbitMQ (or the Redis transport) for every process
    notifier_db: FaultProxy  # in front of PostgreSQL for the notifier's processes only
    direct_broker_url: str
    direct_notifier_database_url: str


def _through(url: str, proxy: FaultProxy) -> str:
    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{proxy.port}"))


def _proxy_for(url: str, default_port: int) -> FaultProxy:
    parts = urlsplit(url)
    return FaultProxy(parts.hostname or "127.0.0.1", parts.port or default_port).start()


@contextmanager
def _explained(logs: Path) -> Iterator[None]:
    """A start-up failure names the process and shows the end of its log (pytest rotates the log directories)."""
    try:
        yield
    except RuntimeError as exc:
        tails = []
        for log in sorted(logs.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()
            if any("Traceback" in line or "Error" in line for line in lines):
                tails.append(f"--- {log.name}\n" + "\n".join(lines[-25:]))
        raise RuntimeError(f"{exc}\n" + "\n".join(tails)) from None


@pytest.fixture(scope="session")
def faulty(system_launcher, tmp_path_factory) -> Any:
    made: dict[str, Any] = {}

    def overrides(env: dict[str, str]) -> dict[str, str]:
        default_broker_port = 5672 if env["BROKER_URL"].startswith("amqp") else 6379
        made["broker"] = _proxy_for(env["BROKER_URL"], default_broker_port)
        made["notifier_db"] = _proxy_for(env["NOTIFIER_DATABASE_URL"], 5432)
        made["direct_broker_url"] = env["BROKER_URL"]
        made["direct_notifier_database_url"] = env["NOTIFIER_DATABASE_URL"]
        return {
            "BROKER_URL": _through(env["BROKER_URL"], made["broker"]),
            "NOTIFIER_DATABASE_URL": _through(env["NOTIFIER_DATABASE_URL"], made["notifier_db"]),
            "TEST_DIRECT_NOTIFIER_DATABASE_URL": env["NOTIFIER_DATABASE_URL"],  # the tests' own reads
            # recover within a test: quick mail retries, a frequent sweep of emails nobody enqueued
            "EMAIL_RETRY_BACKOFF_SECONDS": "1",
            "EMAIL_RETRY_BACKOFF_MAX_SECONDS": "3",
            "EMAIL_SWEEP_SECONDS": "3",
            "EMAIL_PENDING_GRACE_SECONDS": "5",
            # an email claimed by an attempt that died (a killed worker, a cut database connection) waits for its
            # lease (default 300 s) before the sweep retries it: a short lease keeps that in the test
            "EMAIL_SENDING_LEASE_SECONDS": "15",
            "SMTP_TIMEOUT_SECONDS": "5",
            "SERVICE_TIMEOUT_SECONDS": "2",
        }

    logs = tmp_path_factory.mktemp("faulty-system")
    try:
        with _explained(logs), system_launcher(logs, overrides) as running:
            yield FaultySystem(
                running,
                made["broker"],
                made["notifier_db"],
                made["direct_broker_url"],
                made["direct_notifier_database_url"],
            )
    finally:
        for name in ("broker", "notifier_db"):
            if name in made:
                made[name].stop()
