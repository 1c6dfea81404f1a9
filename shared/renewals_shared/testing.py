"""pytest plugin: real PostgreSQL, RabbitMQ and Redis on 127.0.0.1, isolated per run and per test.

- PostgreSQL: a fresh database per `service_env` call, cloned from a migrated template made once per run;
  every database this run created is dropped at the end. No server answering -> an embedded one is started.
- RabbitMQ: a fresh vhost per run (deleted at the end). Unreachable -> tests that need it fail when
  REQUIRE_SERVICES=1, else `service_env` falls back to the Redis transport and the summary says so loudly.
- Redis: a unique key prefix per test, its keys deleted afterwards. No server -> an embedded one.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from renewals_shared import embedded
from renewals_shared.config import DATABASE_SERVICES, Settings
from renewals_shared.migrations import upgrade
from renewals_shared.smtp_sink import SmtpSink

# aiosmtpd logs every SMTP command at INFO from its own thread; in a session-long sink that outlives a test's
# captured stderr, each line became a "--- Logging error ---" traceback in the output.
logging.getLogger("mail.log").setLevel(logging.WARNING)

RUN_ID = uuid.uuid4().hex[:8]
_counter = itertools.count(1)
_fallbacks: list[str] = []
TEST_SECRETS = {
    "OPS_TOKEN": "test-ops-token-0123456789",
    "SERVICE_TOKEN": "test-service-token-0123456789",
    "LINK_SECRET": "test-link-secret-0123456789",
    "SESSION_SECRET": "test-session-secret-0123456789",
}


def require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port(url: str, default: int) -> int:
    return urlsplit(url).port or default


class Databases:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []
        self.templates: dict[str, str] = {}

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)

    def url(self, name: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(("postgresql+psycopg", parts.netloc, f"/{name}", parts.query, ""))

    def create(self, name: str, template: str | None = None) -> str:
        self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return self.url(name)

    def fresh(self, service: str) -> str:
        if service not in self.templates:
            template = f"rt_{RUN_ID}_{service}_tpl"
            upgrade(service, self.create(template))
            self.templates[service] = template
        return self.create(f"rt_{RUN_ID}_{service}_{next(_counter)}", self.templates[service])

    def drop_all(self) -> None:
        for name in reversed(self.created):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    if embedded.port_open(_port(url, 5432)):
        yield url
        return
    data_dir = tmp_path_factory.mktemp("postgres") / "data"
    port = free_port()
    embedded.start_postgres(data_dir, port)
    _fallbacks.append(f"PostgreSQL at {url} unreachable: used an embedded server")
    yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    embedded.stop_postgres(data_dir)


@pytest.fixture(scope="session")
def databases(postgres_admin_url: str) -> Iterator[Databases]:
    manager = Databases(postgres_admin_url)
    yield manager
    manager.drop_all()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if embedded.port_open(_port(url, 6379)):
        yield url
        return
    port = free_port()
    embedded.start_redis(tmp_path_factory.mktemp("redis"), port)
    _fallbacks.append(f"Redis at {url} unreachable: used an embedded server")
    yield f"redis://127.0.0.1:{port}/0"
    embedded.stop_redis(port)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str | None]:
    """A fresh vhost on the local RabbitMQ, or None when there is none (see `broker_url`)."""
    base = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if not embedded.port_open(_port(base, 5672)):
        if require_services():
            pytest.fail(f"RabbitMQ at {base} is unreachable and REQUIRE_SERVICES=1")
        _fallbacks.append(f"RabbitMQ at {base} unreachable: tests ran on the Redis transport or were skipped")
        yield None
        return
    if shutil.which("rabbitmqctl") is None:
        yield base  # per-test namespaces still isolate exchanges and queues
        return
    vhost = f"renewals_test_{RUN_ID}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, urlsplit(base).username or "guest", ".*", ".*", ".*")
    parts = urlsplit(base)
    yield urlunsplit((parts.scheme, parts.netloc, f"/{vhost}", "", ""))
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def require_rabbitmq(rabbitmq_url: str | None) -> str:
    if rabbitmq_url is None:
        pytest.skip("RabbitMQ unreachable")
    return rabbitmq_url


@pytest.fixture
def broker_url(rabbitmq_url: str | None, redis_url: str) -> str:
    return rabbitmq_url or redis_url


@pytest.fixture
def bus_namespace() -> str:
    return f"t{RUN_ID}n{next(_counter)}"


@pytest.fixture
def service_env(
    monkeypatch: pytest.MonkeyPatch,
    databases: Databases,
    broker_url: str,
    redis_url: str,
    bus_namespace: str,
    tmp_path: Path,
) -> Iterator[Callable[..., Settings]]:
    prefix = f"test:{bus_namespace}:"
    base_env = {
        "RENEWALS_MODE": "embedded",
        "RENEWALS_VAR_DIR": str(tmp_path / "var"),
        "BROKER_URL": broker_url,
        "REDIS_URL": redis_url,
        "BUS_NAMESPACE": bus_namespace,
        "REDIS_PREFIX": prefix,
        "PUBLIC_BASE_URL": "http://renewals.test",
        "SMTP_URL": "smtp://127.0.0.1:1",
        "BROKER_VISIBILITY_TIMEOUT": "5",
        **TEST_SECRETS,
    }
    for name, value in base_env.items():
        monkeypatch.setenv(name, value)

    def make(service: str, **overrides: str) -> Settings:
        for name, value in overrides.items():
            monkeypatch.setenv(name, str(value))
        variable = f"{service.upper()}_DATABASE_URL"
        if service in DATABASE_SERVICES and variable not in overrides:
            monkeypatch.setenv(variable, databases.fresh(service))
        return Settings.from_env(service)

    yield make

    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in dict.fromkeys(_fallbacks):
        terminalreporter.write_line(f"!!! NOT RUN FOR REAL: {line}", red=True, bold=True)
