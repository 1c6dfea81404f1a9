"""`make run`: the whole system on embedded backends, one command, nothing installed by hand.

Starts a private PostgreSQL (var/postgres) and Redis (var/redis, append-only), creates one database per service,
migrates them, declares the bus, loads demo data, then runs every process of the Procfile under honcho and
prints where to go. Ctrl-C stops the processes, then the private servers. A second run reuses what exists.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
os.chdir(ROOT)
os.environ.setdefault("RENEWALS_VAR_DIR", str(ROOT / "var"))
os.environ.setdefault("MAILBOX_DIR", str(ROOT / "var" / "mailbox"))

from renewals_shared import embedded  # noqa: E402
from renewals_shared.config import (  # noqa: E402
    DATABASE_SERVICES,
    EMBEDDED_PG_PORT,
    EMBEDDED_REDIS_PORT,
    SERVICE_PORTS,
    Settings,
    var_dir,
)
from renewals_shared.migrations import upgrade  # noqa: E402

SEED_MODULES = ("reseller_service", "order_service", "gateway")  # gateway: the demo operations user


def say(message: str) -> None:
    print(f"[renewals] {message}", flush=True)


def start_backends() -> None:
    if os.environ.get("RENEWALS_MODE", "embedded") != "embedded":
        return
    embedded.start_postgres(var_dir() / "postgres", EMBEDDED_PG_PORT)
    embedded.start_redis(var_dir() / "redis", EMBEDDED_REDIS_PORT)
    say(f"PostgreSQL on 127.0.0.1:{EMBEDDED_PG_PORT}, Redis on 127.0.0.1:{EMBEDDED_REDIS_PORT} (data under var/)")


def stop_backends() -> None:
    if os.environ.get("RENEWALS_MODE", "embedded") != "embedded":
        return
    embedded.stop_redis(EMBEDDED_REDIS_PORT)
    embedded.stop_postgres(var_dir() / "postgres", EMBEDDED_PG_PORT)
    say("private PostgreSQL and Redis stopped")


def migrate() -> None:
    for service in DATABASE_SERVICES:
        url = Settings.from_env(service).database_url
        assert url is not None
        admin = url.replace("+psycopg", "").rsplit("/", 1)[0] + "/postgres"
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(admin, autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
        upgrade(service, url)
    say("databases migrated: " + ", ".join(DATABASE_SERVICES))


def run_step(*args: str) -> None:
    subprocess.run([sys.executable, *args], check=True)


def seed() -> None:
    run_step("-m", "renewals_shared.bus_admin", "declare")
    for module in SEED_MODULES:
        run_step("-m", f"{module}.entrypoints.cli", "seed-demo")


def wait_ready(timeout: float = 90.0) -> list[str]:
    deadline = time.monotonic() + timeout
    pending = dict(SERVICE_PORTS)
    while pending and time.monotonic() < deadline:
        for name, port in list(pending.items()):
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    del pending[name]
            except requests.RequestException:
                pass
        time.sleep(0.3)
    return sorted(pending)


def demo_links(settings: Settings) -> list[str]:
    """Ask order-service for the demo licenses' extension links (it gets them from token-service)."""
    headers = {"Authorization": f"Bearer {settings.ops_token}"}
    lines = []
    try:
        licenses = requests.get(f"{settings.order_service_url}/admin/licenses", headers=headers, timeout=5).json()
        for license_ in licenses.get("licenses", [])[:6]:
            response = requests.post(
                f"{settings.order_service_url}/admin/licenses/{license_['id']}/extension-link",
                headers=headers,
                timeout=5,
            )
            if response.ok:
                lines.append(f"  {license_['licensee_name']:<28} {response.json()['url']}")
    except (requests.RequestException, ValueError, KeyError) as exc:
        lines.append(f"  (demo links unavailable: {exc})")
    return lines


def ops_password() -> str:
    path = var_dir() / "ops-password.txt"
    return path.read_text().strip() if path.exists() else "(see the seed output above)"


def procfile_with_metrics_dirs() -> Path:
    """The Procfile, each process given its service's (emptied) Prometheus multiprocess directory, so a
    service's /metrics adds up its gunicorn workers and its background processes."""
    lines = []
    for line in (ROOT / "Procfile").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, command = line.split(": ", 1)
        metrics_dir = var_dir() / "metrics" / name.split("-")[0]
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        lines.append(f"{name}: env PROMETHEUS_MULTIPROC_DIR={metrics_dir} {command}")
    generated = var_dir() / "Procfile"
    generated.write_text("\n".join(lines) + "\n")
    return generated


def main() -> int:
    start_backends()
    settings = Settings.from_env("gateway")
    migrate()
    seed()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    honcho = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "honcho",
            "start",
            "-f",
            str(procfile_with_metrics_dirs()),
            "--app-root",
            str(ROOT),
            "--no-colour",
        ],
        env=env,
        start_new_session=True,
    )

    stopping = False

    def shutdown(*_: object) -> None:
        nonlocal stopping
        stopping = True
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    try:
        not_ready = wait_ready()
        demo = json.loads((ROOT / "tools" / "demo_accounts.json").read_text())
        banner = [
            "",
            "=" * 78,
            f"Renewals is running: {settings.public_base_url}",
            f"  dev mailbox:       {settings.public_base_url}/dev/mailbox",
            f"  API docs:          {settings.public_base_url}/api/v1/docs",
            f"  operations:        {settings.public_base_url}/admin  ops@example.com / {ops_password()}",
            f"  ops token:         {settings.ops_token}",
            *[f"  {row['role']:<18} {row['email']} / {row['password']}" for row in demo],
            "  extension links:",
            *demo_links(settings),
            "Ctrl-C stops everything.",
            "=" * 78,
        ]
        if not_ready:
            banner.insert(2, f"  NOT READY: {', '.join(not_ready)} (see the logs above)")
        print("\n".join(banner), flush=True)
        code = honcho.wait()
        return 0 if stopping else code
    finally:
        shutdown()
        try:
            honcho.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
        stop_backends()


if __name__ == "__main__":
    sys.exit(main())
