"""Unit of work: one database transaction holding the repositories and the outbox."""

from __future__ import annotations

import threading
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from order_service.adapters import repository
from renewals_shared.db import ReadSession, WriteSession
from renewals_shared.events import Event
from renewals_shared.outbox import add_events


class UnitOfWork(Protocol):
    products: Any
    price_lists: Any
    licenses: Any
    orders: Any
    idempotency: Any
    audit: Any

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *args: object) -> None: ...

    def reading(self) -> UnitOfWork: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def add_event(self, event: Event) -> None: ...


class _Repositories:
    def __init__(self, session: repository.Target) -> None:
        self.session = session
        self.products = repository.ProductRepository(session)
        self.price_lists = repository.PriceListRepository(session)
        self.licenses = repository.LicenseRepository(session)
        self.orders = repository.OrderRepository(session)
        self.idempotency = repository.IdempotencyRepository(session)
        self.audit = repository.AuditRepository(session)
        self.events: list[Event] = []


class SqlAlchemyUnitOfWork:
    """Shared by all requests of a process; the open transaction is per thread."""

    def __init__(self, engine: Engine) -> None:
        # no ORM session: the repositories' Core statements need none of its per-statement overhead
        self.engine = engine
        self._local = threading.local()

    @property
    def _active(self) -> _Repositories:
        active = getattr(self._local, "active", None)
        if active is None:
            raise RuntimeError("unit of work used outside 'with uow:'")
        return active  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        if name in ("products", "price_lists", "licenses", "orders", "idempotency", "audit", "session"):
            return getattr(self._active, name)
        raise AttributeError(name)

    def reading(self) -> SqlAlchemyUnitOfWork:
        """`with uow.reading():` for a block that only reads: its SELECTs run in a ReadSession, without a
        transaction (autocommit), each seeing what was committed when it started, as each statement of a READ
        COMMITTED transaction does, minus the BEGIN and ROLLBACK round trips. Never for a block that writes or
        locks (FOR UPDATE)."""
        self._local.read_only = True
        return self

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        read_only = getattr(self._local, "read_only", False)
        self._local.read_only = False
        self._local.active = _Repositories(ReadSession(self.engine) if read_only else WriteSession(self.engine))
        return self

    def __exit__(self, *args: object) -> None:
        active = self._active
        self._local.active = None
        active.session.close()  # rolls back what was not committed, events included

    def commit(self) -> None:
        active = self._active
        add_events(active.session, active.events)  # queued: they go out with the COMMIT, in one round trip
        active.events.clear()
        active.session.commit()

    def rollback(self) -> None:
        self._active.events.clear()
        self._active.session.rollback()

    def add_event(self, event: Event) -> None:
        """Written to the outbox at commit, in the same transaction."""
        self._active.events.append(event)


class SessionUnitOfWork:
    """Wraps a session owned by someone else (the shared consumer's transaction): never commits it."""

    def __init__(self, session: Session) -> None:
        self._repos = _Repositories(session)
        self.session = session
        self.products = self._repos.products
        self.price_lists = self._repos.price_lists
        self.licenses = self._repos.licenses
        self.orders = self._repos.orders
        self.idempotency = self._repos.idempotency
        self.audit = self._repos.audit

    def __enter__(self) -> SessionUnitOfWork:
        return self

    def reading(self) -> SessionUnitOfWork:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None

    def add_event(self, event: Event) -> None:
        from renewals_shared.outbox import add_event

        add_event(self.session, event)
