"""Engines and the two tables every service with a database carries: the outbox and the inbox."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, MultipleResultsFound

# A pooled connection idle for longer than this is pinged before use (see make_engine).
PRE_PING_IDLE_SECONDS = 5.0


def make_engine(url: str, *, pre_ping_idle_seconds: float | None = PRE_PING_IDLE_SECONDS, **options: Any) -> Engine:
    """An engine on psycopg 3 whatever the URL's driver says; pool options may be overridden.

    Stale connections (database restarted, an idle connection cut by a firewall) are caught by a ping before a
    checkout, but only for a connection that sat idle in the pool for `pre_ping_idle_seconds` or more (`0`: before
    every checkout, SQLAlchemy's `pool_pre_ping`; `None`: never). A connection used a moment ago is handed out
    without the extra round trip, which SQLAlchemy's `pool_pre_ping` pays on every request. Should one of those
    still be dead, the statement fails as a disconnect, SQLAlchemy invalidates the whole pool (every older
    connection is replaced at its next checkout) and the caller gets its error (the internal HTTP clients retry
    idempotent calls on 5xx)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if "poolclass" not in options:
        options = {"pool_size": 5, "max_overflow": 5, **options}
    engine = create_engine(url, pool_pre_ping=pre_ping_idle_seconds == 0, **options)
    if pre_ping_idle_seconds:
        _ping_after_idle(engine, pre_ping_idle_seconds)
    return engine


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """SQLAlchemy's pessimistic disconnect handling (a ping at checkout; DisconnectionError makes the pool drop
    the connection and check out another), limited to connections idle for `idle_seconds` or more."""

    @event.listens_for(engine, "checkin")
    def remember_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        # `record.info` belongs to the DBAPI connection: a fresh connection has no check-in time and needs no ping
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"stale pooled connection: {type(exc).__name__}") from exc
        if not alive:
            raise DisconnectionError("stale pooled connection")


class HotSelect:
    """A prebuilt Core SELECT for the hottest reads, compiled once for psycopg.

    Run by a `ReadSession` it goes straight to the pooled psycopg connection: SQLAlchemy's Connection and result
    layers cost more CPU than the query itself on a one-row look-up (measured here: 0.46-0.49 ms of client CPU
    per read through an autocommit SQLAlchemy connection, 0.20-0.22 ms this way).
    Anywhere else (`execute_select` on a Connection or Session) it runs as the plain Core statement. Rows are
    named tuples of the statement's column names with psycopg's own types, so only plain columns (text, numbers,
    dates, timestamps, bytea, JSONB) belong in one: SQLAlchemy would convert none of them either.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=psycopg_dialect())
        self.sql = compiled.string
        self.defaults = dict(compiled.params)  # literals the statement carries (e.g. `status == "paid"`)


class _Rows:
    """The part of SQLAlchemy's Result the repositories use, over psycopg named-tuple rows."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self.cursor = cursor

    def first(self) -> Any:
        return self.cursor.fetchone()

    def one_or_none(self) -> Any:
        rows = self.cursor.fetchmany(2)
        if len(rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when one or none was required")
        return rows[0] if rows else None

    def scalar(self) -> Any:
        row = self.cursor.fetchone()
        return None if row is None else row[0]

    def all(self) -> list[Any]:
        return self.cursor.fetchall()


class ReadSession:
    """The connection of a read-only block: `HotSelect`s run on a pooled psycopg connection in autocommit (no
    BEGIN, no ROLLBACK: each SELECT sees what was committed when it started, as in READ COMMITTED); any other
    statement moves the block onto an autocommit SQLAlchemy connection. One pooled connection at a time. Never
    for writes or FOR UPDATE."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pooled: Any = None  # a raw pool checkout, for HotSelects only
        self._connection: Connection | None = None  # once a statement needed SQLAlchemy

    def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        if isinstance(statement, HotSelect):
            return self._run(statement, parameters or {})
        if self._connection is None:
            self._release_pooled()
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._connection.execute(statement, parameters)

    def scalar(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        return self.execute(statement, parameters).scalar()

    def _driver_connection(self) -> psycopg.Connection[Any]:
        if self._connection is not None:
            return self._connection.connection.driver_connection  # type: ignore[return-value]
        if self._pooled is None:
            self._pooled = self.engine.raw_connection()
            self._pooled.driver_connection.autocommit = True
        return self._pooled.driver_connection  # type: ignore[no-any-return]

    def _run(self, hot: HotSelect, parameters: Mapping[str, Any]) -> _Rows:
        connection = self._driver_connection()
        try:
            cursor = connection.cursor(row_factory=namedtuple_row)
            cursor.execute(hot.sql, {**hot.defaults, **parameters})
        except psycopg.OperationalError as exc:
            # what SQLAlchemy does for its own statements: drop the connection from the pool and report a
            # disconnect (the services answer 503 and their callers retry)
            self._invalidate(exc)
            raise DBAPIError.instance(
                hot.sql, dict(parameters), exc, psycopg.Error, connection_invalidated=True
            ) from exc
        return _Rows(cursor)

    def _invalidate(self, exc: Exception) -> None:
        if self._connection is not None:
            self._connection.invalidate(exc)
        elif self._pooled is not None:
            pooled, self._pooled = self._pooled, None
            pooled.invalidate(exc)

    def _release_pooled(self) -> None:
        if self._pooled is not None:
            pooled, self._pooled = self._pooled, None
            try:
                pooled.driver_connection.autocommit = False  # as the pool handed it out
            finally:
                pooled.close()

    def rollback(self) -> None:
        """Nothing to roll back: every statement committed (or failed) on its own."""

    def close(self) -> None:
        self._release_pooled()
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def __enter__(self) -> ReadSession:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def execute_select(target: Any, statement: Any, parameters: Mapping[str, Any]) -> Any:
    """Run `statement` on a ReadSession (a HotSelect takes the fast path) or on a SQLAlchemy Connection / Session
    (a HotSelect runs as its Core statement)."""
    if isinstance(statement, HotSelect) and not isinstance(target, ReadSession):
        statement = statement.statement
    return target.execute(statement, parameters)


def add_outbox_and_inbox(metadata: MetaData) -> tuple[Table, Table]:
    """Declare the outbox and inbox on a service's own metadata so its Alembic migrations own them too."""
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("envelope", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text, nullable=True),
    )
    # Partial: the relay's "what is unsent" scan stays cheap however long the published history grows.
    Index("outbox_pending", outbox.c.seq, postgresql_where=outbox.c.published_at.is_(None))
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id"),
    )
    return outbox, inbox


# The relay and the consumer only need the shape of these tables, never a service's own metadata.
_metadata = MetaData()
OUTBOX, INBOX = add_outbox_and_inbox(_metadata)
