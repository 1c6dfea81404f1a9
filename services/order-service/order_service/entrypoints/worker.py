"""order-service background process: the outbox relay and the consumer of extension_link.revoked."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from order_service.service_layer.handlers import record_link_revoked
from order_service.service_layer.unit_of_work import SessionUnitOfWork
from renewals_shared.config import Settings
from renewals_shared.db import make_engine
from renewals_shared.events import Event
from renewals_shared.worker import run_worker


def on_link_revoked(event: Event, session: Session) -> None:
    record_link_revoked(event, SessionUnitOfWork(session))


HANDLERS: dict[str, Callable[[Event, Session], None]] = {"extension_link.revoked": on_link_revoked}


def main() -> None:
    settings = Settings.from_env("order")
    assert settings.database_url is not None
    run_worker(settings, make_engine(settings.database_url), HANDLERS)


if __name__ == "__main__":
    main()
