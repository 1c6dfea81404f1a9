"""What every benchmark shares: isolated backends, a bounded HTTP load generator, latency percentiles, output."""

from __future__ import annotations

import contextlib
import json
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
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
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
    sessions: list[requests.Session] | None = None,
) -> LoadResult:
    """A closed-loop load: `concurrency` clients each sending the next request when the last one answered.
    `sessions`: one per client, to carry connections and cookies over from an earlier call."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    def client(session: requests.Session) -> None:
        nonlocal errors
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
    sessions = sessions or [requests.Session() for _ in range(concurrency)]
    threads = [threading.Thread(target=client, args=(sessions[n],)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(len(latencies), errors, time.perf_counter() - started, latencies)


def interleaved_http_load(
    loads: dict[str, tuple[Callable[[requests.Session, int], requests.Response], Callable[[requests.Response], bool]]],
    *,
    seconds: float = 5.0,
    concurrency: int = 8,
    slice_seconds: float = 1.0,
) -> dict[str, LoadResult]:
    """Several closed-loop loads (name -> (make_request, ok)), `seconds` each, run in alternating slices of
    `slice_seconds` so that a figure and its baseline see the same background load on a shared machine. Each
    load keeps its clients' sessions (connections, cookies) from slice to slice, as one steady closed loop would."""
    parts: dict[str, list[LoadResult]] = {name: [] for name in loads}
    sessions = {name: [requests.Session() for _ in range(concurrency)] for name in loads}
    for _ in range(max(1, round(seconds / slice_seconds))):
        for name, (make_request, ok) in loads.items():
            parts[name].append(
                http_load(make_request, seconds=slice_seconds, concurrency=concurrency, ok=ok, sessions=sessions[name])
            )
    return {
        name: LoadResult(
            sum(r.requests for r in results),
            sum(r.errors for r in results),
            sum(r.seconds for r in results),
            [latency for r in results for latency in r.latencies],
        )
        for name, results in parts.items()
    }


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
def gunicorn(
    app: str,
    port: int,
    env: dict[str, str],
    workers: int = 2,
    ready_path: str = "/healthz",
    log: Path | None = None,
) -> Iterator[str]:
    """`log`: a file for the server's stderr (the services' JSON logs), so they stay out of the figures."""
    stderr = open(log, "ab") if log is not None else None  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "python:renewals_shared.gunicorn_conf",  # the services' own server settings, for the baseline too
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        stderr=stderr,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}{ready_path}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(15)
        if stderr is not None:
            stderr.close()


def machine() -> str:
    return f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


def ratio_line(label: str, value: float, baseline: float, target: float) -> str:
    ratio = value / baseline if baseline else float("nan")
    verdict = "OK" if ratio >= target else "BELOW TARGET"
    return f"{label:<44} {ratio * 100:6.1f} %   (target >= {target * 100:.0f} %)   {verdict}"


def median(values: list[float]) -> float:
    return statistics.median(values)


RESULT_PREFIX = "BENCH-RESULT "


def report(
    label: str, value: float, unit: str, baseline_label: str, baseline: float, target: float, note: str = ""
) -> None:
    """The ratio line a person reads, then one JSON line `run_all.py` collects for BENCHMARKS.md.

    `value` and `baseline` are rates (higher is better); `target` is the least acceptable value / baseline."""
    print(ratio_line(f"{label} / {baseline_label}", value, baseline, target))
    ratio = value / baseline if baseline else float("nan")
    record = {
        "figure": label,
        "value": round(value, 1),
        "unit": unit,
        "baseline": baseline_label,
        "baseline_value": round(baseline, 1),
        "ratio": round(ratio, 4),
        "target": target,
        "ok": ratio >= target,
        "note": note,
    }
    print(RESULT_PREFIX + json.dumps(record), flush=True)
