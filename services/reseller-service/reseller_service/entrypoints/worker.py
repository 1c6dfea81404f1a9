"""reseller-worker: the outbox relay (reseller-service consumes no events)."""

from __future__ import annotations

from collections.abc import Mapping

from renewals_shared.config import Settings
from renewals_shared.consumer import Handler
from renewals_shared.db import make_engine
from renewals_shared.worker import run_worker as run_shared_worker
from sqlalchemy import Engine

HANDLERS: dict[str, Handler] = {}


def run_worker(
    settings: Settings,
    engine: Engine,
    handlers: Mapping[str, Handler] | None = None,
    **kwargs: object,
) -> None:
    run_shared_worker(settings, engine, dict(handlers or HANDLERS), **kwargs)  # type: ignore[arg-type]


def main() -> None:
    settings = Settings.from_env("reseller")
    assert settings.database_url is not None
    run_worker(settings, make_engine(settings.database_url))


if __name__ == "__main__":
    main()
