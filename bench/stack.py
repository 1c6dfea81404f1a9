"""Running the real services for a benchmark: settings, migrated scratch databases, gunicorn with logs aside.

Not a benchmark itself (no __main__): links.py, orders.py and auth.py import it.
"""

from __future__ import annotations

import atexit
import contextlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import redis
from common import RABBITMQ, RUN, free_port, gunicorn, scratch_database

REDIS_URL = "redis://127.0.0.1:6379/0"
REDIS_PREFIX = f"bench:{RUN}:"
APPS = {
    "order": "order_service.entrypoints.flask_app:create_app()",
    "token": "token_service.entrypoints.flask_app:create_app()",
    "reseller": "reseller_service.entrypoints.flask_app:create_app()",
}
SECRETS = {name: secrets.token_urlsafe(32) for name in ("OPS_TOKEN", "SERVICE_TOKEN", "LINK_SECRET", "SESSION_SECRET")}
LOG_DIR = Path(tempfile.mkdtemp(prefix=f"bench-{RUN}-"))  # the services' logs; removed when the benchmark exits
atexit.register(shutil.rmtree, LOG_DIR, True)


def base_env() -> dict[str, str]:
    """Real mode with fixed secrets for this run (nothing written under var/), a unique Redis prefix and bus
    namespace. The web processes write events to their outbox only; no relay runs, so nothing is published."""
    return {
        "RENEWALS_MODE": "real",
        "RENEWALS_VAR_DIR": str(LOG_DIR / "var"),
        "OPS_TOKEN": SECRETS["OPS_TOKEN"],
        "SERVICE_TOKEN": SECRETS["SERVICE_TOKEN"],
        "LINK_SECRET": SECRETS["LINK_SECRET"],
        "SESSION_SECRET": SECRETS["SESSION_SECRET"],
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": REDIS_PREFIX,
        "BUS_NAMESPACE": f"bench{RUN}",
        "BROKER_URL": RABBITMQ,
        "SMTP_URL": "smtp://127.0.0.1:8025",
        "LOG_LEVEL": "INFO",  # as deployed; the logs go to a file, see log_file()
    }


@contextlib.contextmanager
def service_database(service: str) -> Iterator[str]:
    """A scratch PostgreSQL database migrated to head with the service's own migrations; dropped afterwards."""
    from renewals_shared.migrations import upgrade

    with scratch_database(service) as url:
        upgrade(service, url.replace("postgresql://", "postgresql+psycopg://"))
        yield url


def log_file(service: str) -> Path:
    return LOG_DIR / f"{service}.log"


@contextlib.contextmanager
def serve(service: str, env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """The service's Flask app under gunicorn (as in the Procfile) on a free port; yields its base URL."""
    with gunicorn(APPS[service], free_port(), env, workers=workers, log=log_file(service)) as base:
        yield base


def drop_redis_keys() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=REDIS_PREFIX + "*", count=1000))
    if keys:
        client.delete(*keys)
