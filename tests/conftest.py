"""The whole system as real processes, for end-to-end, browser, security, fault and load tests.

Runs the Procfile's own commands (ports swapped for free ones) against this run's fresh databases, RabbitMQ vhost
and Redis prefix, with an in-process SMTP sink the tests can read.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from renewals_shared.config import DATABASE_SERVICES, SERVICE_PORTS
from renewals_shared.smtp_sink import SmtpSink
from renewals_shared.testing import RUN_ID, TEST_SECRETS, Databases, free_port

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(os.sys.executable).parent


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


@dataclass
class RunningSystem:
    env: dict[str, str]
    ports: dict[str, int]
    smtp: SmtpSink
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: Path | None = None

    def url(self, service: str = "gateway") -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def ops_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.env['OPS_TOKEN']}"}

    def start(self, name: str, command: str) -> None:
        for service, default_port in SERVICE_PORTS.items():
            command = command.replace(f"127.0.0.1:{default_port}", f"127.0.0.1:{self.ports[service]}")
        assert self.logs is not None
        log = (self.logs / f"{name}.log").open("ab")
        # Every process of a service (order-web, order-worker, order-worker-2) shares its metrics directory, so
        # the service's /metrics adds up what all of them counted (prometheus_client multiprocess mode).
        metrics_dir = self.logs / "metrics" / name.split("-")[0]
        metrics_dir.mkdir(parents=True, exist_ok=True)
        env = {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        self.processes[name] = subprocess.Popen(
            shlex.split(command), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.ports)
        while pending:
            for service in list(pending):
                try:
                    if requests.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200:
                        pending.discard(service)
                except requests.RequestException:
                    pass
            dead = [n for n, p in self.processes.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"not ready: {sorted(pending)}; exited: {dead}; logs in {self.logs}")
            time.sleep(0.3)

    def log_text(self) -> str:
        assert self.logs is not None
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))


@contextmanager
def launch_system(
    databases: Databases,
    broker_url: str,
    redis_url: str,
    logs: Path,
    env_overrides: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> Iterator[RunningSystem]:
    """Start every Procfile process on fresh databases; `env_overrides(env)` may repoint URLs (fault proxies)."""
    smtp = SmtpSink(maildir=logs / "mailbox").start()
    ports = {service: free_port() for service in SERVICE_PORTS}
    namespace = f"e2e{RUN_ID}{uuid.uuid4().hex[:4]}"
    env = {
        **os.environ,
        **TEST_SECRETS,
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "PYTHONUNBUFFERED": "1",
        "RENEWALS_MODE": "embedded",
        "RENEWALS_VAR_DIR": str(logs / "var"),
        "MAILBOX_DIR": str(logs / "mailbox"),
        "BROKER_URL": broker_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": f"test:{namespace}:",
        "BUS_NAMESPACE": namespace,
        "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['gateway']}",
        "ORDER_SERVICE_URL": f"http://127.0.0.1:{ports['order']}",
        "TOKEN_SERVICE_URL": f"http://127.0.0.1:{ports['token']}",
        "RESELLER_SERVICE_URL": f"http://127.0.0.1:{ports['reseller']}",
        "NOTIFIER_SERVICE_URL": f"http://127.0.0.1:{ports['notifier']}",
        "BROKER_VISIBILITY_TIMEOUT": "10",
        "TRACE_FILE": str(logs / "spans.jsonl"),  # every process appends its finished spans (tests/observability)
        "LOG_LEVEL": "INFO",
    }
    for service in DATABASE_SERVICES:
        env[f"{service.upper()}_DATABASE_URL"] = databases.fresh(service)
    subprocess.run([str(VENV_BIN / "renewals-bus"), "declare"], env=env, check=True, capture_output=True)
    if env_overrides is not None:
        env.update(env_overrides(dict(env)))
    running = RunningSystem(env=env, ports=ports, smtp=smtp, logs=logs)
    for name, command in procfile().items():
        if name != "smtp":  # the tests' own sink catches the mail
            running.start(name, command)
    try:
        running.wait_ready()
        yield running
    finally:
        for name in list(running.processes):
            running.stop(name)
        smtp.stop()


@pytest.fixture(scope="session")
def system(
    databases: Databases, rabbitmq_url: str | None, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSystem]:
    broker_url = rabbitmq_url or redis_url.rsplit("/", 1)[0] + "/2"
    with launch_system(databases, broker_url, redis_url, tmp_path_factory.mktemp("system-logs")) as running:
        yield running


@pytest.fixture(scope="session")
def system_launcher(
    databases: Databases, rabbitmq_url: str | None, redis_url: str
) -> Callable[..., AbstractContextManager[RunningSystem]]:
    """`system_launcher(logs, env_overrides=None)`: another whole system, e.g. behind a fault-injecting proxy."""
    broker_url = rabbitmq_url or redis_url.rsplit("/", 1)[0] + "/2"

    def launch(
        logs: Path, env_overrides: Callable[[dict[str, str]], dict[str, str]] | None = None
    ) -> AbstractContextManager[RunningSystem]:
        return launch_system(databases, broker_url, redis_url, logs, env_overrides)

    return launch


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    for item in items:
        uses_system = "system" in getattr(item, "fixturenames", ())
        if uses_system or re.search(r"tests/(e2e|load|faults|security|scale)/", str(item.path)):
            item.add_marker(pytest.mark.slow)
