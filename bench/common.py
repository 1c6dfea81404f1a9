"""What every benchmark shares: isolated backends, a bounded HTTP load generator, latency percentiles, output."""

from __future__ import annotations

import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
RUN = uuid.uuid4().hex[:6]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def scratch_database(label: str) -> Iterator[str]:
    name = f"bench_{RUN}_{label}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def scratch_vhost() -> Iterator[str]:
    vhost = f"bench_{RUN}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True, capture_output=True)
    try:
        yield RABBITMQ.rstrip("/") + f"/{vhost}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95)

    def line(self, label: str) -> str:
        return (
            f"{label:<44} {self.rate:9.1f} req/s   p50 {self.p50 * 1000:7.1f} ms   p95 {self.p95 * 1000:7.1f} ms"
            f"   errors {self.errors}"
        )


def http_load(
    make_request: Callable[[requests.Session, int], requests.Response],
    *,
    seconds: float = 5.0,
    concurrency: int = 8,
    ok: Callable[[requests.Response], bool] = lambda r: r.status_code < 400,
) -> LoadResult:
    """A closed-loop load: `concurrency` clients each sending the next request when the last one answered."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    def client() -> None:
        nonlocal errors
        session = requests.Session()
        local, local_errors = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                response = make_request(session, next(counter))
                good = ok(response)
            except requests.RequestException:
                good = False
            local.append(time.perf_counter() - started)
            local_errors += 0 if good else 1
        with lock:
            latencies.extend(local)
            errors += local_errors

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(len(latencies), errors, time.perf_counter() - started, latencies)


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextlib.contextmanager
def gunicorn(app: str, port: int, env: dict[str, str], workers: int = 2, ready_path: str = "/healthz") -> Iterator[str]:
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", app],
        env={**os.environ, **env},
        cwd=ROOT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}{ready_path}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(15)


def machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


def ratio_line(label: str, value: float, baseline: float, target: float) -> str:
    ratio = value / baseline if baseline else float("nan")
    verdict = "OK" if ratio >= target else "BELOW TARGET"
    return f"{label:<44} {ratio * 100:6.1f} %   (target >= {target * 100:.0f} %)   {verdict}"


def median(values: list[float]) -> float:
    return statistics.median(values)
