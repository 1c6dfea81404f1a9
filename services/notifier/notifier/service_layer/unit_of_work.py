"""Unit of work over the notifier's database; emails recorded in it are enqueued only after it commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from notifier.adapters.repository import SqlRepository


class SqlAlchemyUnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self._session_factory = sessionmaker(bind=engine, expire_on_commit=False)
        self.session: Session | None = None

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.repo = SqlRepository(self.session)
        return self

    def __exit__(self, *args: object) -> None:
        assert self.session is not None
        self.session.rollback()  # no-op after commit; undoes anything left uncommitted
        self.session.close()
        self.session = None

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()

    def rollback(self) -> None:
        assert self.session is not None
        self.session.rollback()


def uow_factory(engine: Engine) -> Callable[[], SqlAlchemyUnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)
