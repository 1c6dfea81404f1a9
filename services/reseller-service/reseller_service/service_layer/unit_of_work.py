"""One transaction per use case: repositories plus the outbox, committed together or not at all."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, Self

from renewals_shared.db import ReadSession
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from reseller_service.adapters import repository

PRODUCER = "reseller-service"


class AbstractUnitOfWork(abc.ABC):
    resellers: repository.ResellerRepository
    billing_edits: repository.BillingEditRepository
    password_resets: repository.PasswordResetRepository
    change_requests: repository.ChangeRequestRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        self.rollback()

    def reading(self) -> Self:
        """`with uow.reading():` for a block that only reads (no writes, no FOR UPDATE): the adapter may run its
        SELECTs without a transaction around them. Committing in such a block is an error."""
        return self

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...

    @abc.abstractmethod
    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        """Queue an integration event in this transaction (the outbox); it leaves only if we commit."""


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        engine: Engine,
        correlation_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        """`reading()` blocks run their repositories in a ReadSession of `engine`: each SELECT sees what was
        committed when it started, without a Session to build and tear down, the BEGIN and ROLLBACK round trips,
        or SQLAlchemy's per-statement layers (sign-in pays all of that on top of its hash)."""
        self.session_factory = session_factory
        self.engine = engine
        self.correlation_id = correlation_id
        self._read_only = False

    def reading(self) -> Self:
        self._read_only = True
        return self

    def __enter__(self) -> Self:
        self.session: Session | ReadSession = ReadSession(self.engine) if self._read_only else self.session_factory()
        self.resellers = repository.SqlResellerRepository(self.session)
        self.billing_edits = repository.SqlBillingEditRepository(self.session)
        self.password_resets = repository.SqlPasswordResetRepository(self.session)
        self.change_requests = repository.SqlChangeRequestRepository(self.session)
        return super().__enter__()

    def __exit__(self, *args: object) -> None:
        super().__exit__(*args)
        self.session.close()
        self._read_only = False

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("commit in a read-only block (uow.reading())")
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        from renewals_shared.events import new_event
        from renewals_shared.outbox import add_event

        add_event(
            self.session,
            new_event(event_type, data, PRODUCER, correlation_id=self.correlation_id()),
        )
