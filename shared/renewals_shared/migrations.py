"""Alembic glue shared by every service: one env.py body, one programmatic upgrade."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import MetaData, pool

from renewals_shared.db import INBOX, OUTBOX, make_engine

SERVICE_DIRS = {
    "order": "services/order-service",
    "token": "services/token-service",
    "reseller": "services/reseller-service",
    "notifier": "services/notifier",
}


def _database_url(service_env_name: str | None) -> str:
    from alembic import context

    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url and service_env_name:
        url = os.environ.get(service_env_name)
    if not url:
        raise RuntimeError(f"no database URL: pass -x url=... or set {service_env_name}")
    return url


def run_alembic_env(target_metadata: MetaData, database_url_env: str | None = None) -> None:
    """The whole body of a service's migrations/env.py (online mode only: we always migrate a live database)."""
    from alembic import context

    engine = make_engine(_database_url(database_url_env), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def create_outbox_and_inbox() -> None:
    """For a service's first migration: the platform tables exactly as `renewals_shared.db` declares them."""
    from alembic import op

    OUTBOX.metadata.create_all(op.get_bind(), tables=[OUTBOX, INBOX])


def drop_outbox_and_inbox() -> None:
    from alembic import op

    OUTBOX.metadata.drop_all(op.get_bind(), tables=[OUTBOX, INBOX])


def repo_root() -> Path:
    env = os.environ.get("RENEWALS_REPO_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "services").is_dir() and (parent / "shared").is_dir():
            return parent
    return Path.cwd()


def upgrade(service: str, url: str) -> None:
    from alembic import command
    from alembic.config import Config

    service_dir = repo_root() / SERVICE_DIRS[service]
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
