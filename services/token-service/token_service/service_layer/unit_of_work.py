"""Units of work: one database transaction, the links changed in it, and their events written to the outbox
in that same transaction (DESIGN.md section 5)."""

from __future__ import annotations

import abc
from collections.abc import Callable
from types import TracebackType
from typing import Self

from renewals_shared.db import ReadSession
from renewals_shared.events import Event, new_event
from renewals_shared.outbox import add_event
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from token_service.adapters.repository import (
    CoreLinkReader,
    SqlAlchemyDiscountRepository,
    SqlAlchemyLinkRepository,
)
from token_service.domain.events import DomainEvent, LinkIssued, LinkRedeemed, LinkRevoked
from token_service.service_layer.repository import (
    AbstractDiscountRepository,
    AbstractLinkRepository,
    DuplicateLink,
)

EVENT_TYPES: dict[type, str] = {
    LinkIssued: "extension_link.issued",
    LinkRedeemed: "extension_link.redeemed",
    LinkRevoked: "extension_link.revoked",
}


class AbstractUnitOfWork(abc.ABC):
    links: AbstractLinkRepository
    discounts: AbstractDiscountRepository
    correlation_id: str | None = None
    causation_id: str | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        """Write the events of every link touched in this transaction to the outbox, then commit."""
        for link in self.links.seen:
            while link.events:
                self._write_event(link.events.pop(0))
        self._commit()

    @abc.abstractmethod
    def _write_event(self, event: DomainEvent) -> None: ...

    @abc.abstractmethod
    def _commit(self) -> None:
        """Raise DuplicateLink when the unique (license, cycle) constraint rejects the transaction."""

    @abc.abstractmethod
    def rollback(self) -> None: ...


def integration_event(event: DomainEvent, correlation_id: str | None, causation_id: str | None) -> Event:
    """The outbox form of a domain event (schemas in renewals_shared.events). Never carries a token."""
    return new_event(
        EVENT_TYPES[type(event)],
        dict(vars(event)),
        "token-service",
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """A transaction of its own (web requests, the CLI)."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        self.links = SqlAlchemyLinkRepository(self.session)
        self.discounts = SqlAlchemyDiscountRepository(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        self.session.close()

    def _write_event(self, event: DomainEvent) -> None:
        add_event(self.session, integration_event(event, self.correlation_id, self.causation_id))

    def commit(self) -> None:
        try:
            super().commit()  # the INSERT may be flushed while the outbox rows are written, or at COMMIT
        except IntegrityError as exc:
            self.rollback()
            raise DuplicateLink(type(exc.orig).__name__) from None

    def _commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class ReadOnlyUnitOfWork(AbstractUnitOfWork):
    """Look-ups of one row for the read-only handlers (resolve, get) in a ReadSession: in autocommit, so the
    SELECT is the only round trip (no BEGIN, no ROLLBACK), without SQLAlchemy's per-statement layers. Committing
    is an error; every write goes through SqlAlchemyUnitOfWork."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Self:
        self.reads = ReadSession(self.engine)
        self.links = CoreLinkReader(self.reads)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.reads.close()

    def _write_event(self, event: DomainEvent) -> None:
        raise TypeError("ReadOnlyUnitOfWork cannot write events")

    def _commit(self) -> None:
        raise TypeError("ReadOnlyUnitOfWork cannot commit")

    def rollback(self) -> None:
        pass


class ConsumerUnitOfWork(SqlAlchemyUnitOfWork):
    """Inside the event consumer's transaction (renewals_shared.worker): ``commit`` writes the outbox rows and
    flushes; the worker commits them together with the inbox row, and rolls everything back if we raise."""

    def __init__(self, session: Session, correlation_id: str | None, causation_id: str | None) -> None:
        self._outer = session
        self.correlation_id = correlation_id
        self.causation_id = causation_id
        super().__init__(lambda: session)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass  # the worker owns the transaction: no rollback, no close

    def _commit(self) -> None:
        self.session.flush()

    def rollback(self) -> None:
        pass
