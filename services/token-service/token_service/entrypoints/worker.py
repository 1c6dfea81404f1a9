"""The token-service's background process: its outbox relay and its event consumer.

- ``order.paid``: redeem the paid order's link (by link id), recording the order number.
- ``license.maintenance_extended``: revoke every other active link of the license (reason
  ``maintenance_extended``); when an order did the extending, its cycle's link is left to ``order.paid``.
Both are idempotent (the inbox drops redeliveries; the transitions themselves are no-ops when repeated).
"""

from __future__ import annotations

from collections.abc import Callable

from renewals_shared.config import Settings
from renewals_shared.consumer import Handler
from renewals_shared.db import make_engine
from renewals_shared.events import Event
from renewals_shared.worker import run_worker
from sqlalchemy.orm import Session

from token_service.bootstrap import bootstrap
from token_service.config import TokenConfig
from token_service.service_layer import commands
from token_service.service_layer.messagebus import MessageBus
from token_service.service_layer.unit_of_work import ConsumerUnitOfWork

MAINTENANCE_EXTENDED = "maintenance_extended"


def event_handlers(bus: MessageBus) -> dict[str, Handler]:
    def in_transaction(event: Event, session: Session) -> ConsumerUnitOfWork:
        return ConsumerUnitOfWork(session, correlation_id=event.correlation_id, causation_id=event.id)

    def on_order_paid(event: Event, session: Session) -> None:
        command = commands.RedeemLink(link_id=event.data["link_id"], order_number=event.data["order_number"])
        bus.handle(command, uow=in_transaction(event, session))

    def on_maintenance_extended(event: Event, session: Session) -> None:
        ordered = event.data.get("order_number") is not None
        command = commands.RevokeOtherLinks(
            license_id=event.data["license_id"],
            reason=MAINTENANCE_EXTENDED,
            keep_cycle_end=event.data["previous_maintenance_end"] if ordered else None,
        )
        bus.handle(command, uow=in_transaction(event, session))

    handlers: dict[str, Callable[[Event, Session], None]] = {
        "order.paid": on_order_paid,
        "license.maintenance_extended": on_maintenance_extended,
    }
    return handlers


def main(settings: Settings | None = None) -> None:
    config = TokenConfig.from_env(settings)
    assert config.settings.database_url is not None
    engine = make_engine(config.settings.database_url)
    bus = bootstrap(config, engine=engine)
    run_worker(config.settings, engine, event_handlers(bus))


if __name__ == "__main__":
    main()
