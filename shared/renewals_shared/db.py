"""Engines and the two tables every service with a database carries: the outbox and the inbox."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import psycopg
from psycopg.rows import namedtuple_row
from psycopg.types.json import Jsonb
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
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, MultipleResultsFound, NoResultFound
from sqlalchemy.sql import sqltypes
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.crud import REQUIRED

from renewals_shared import jsoncodec

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
    options = {"json_serializer": jsoncodec.dumps, "json_deserializer": jsoncodec.loads, **options}
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


class HotStatement:
    """A prebuilt Core statement for the hottest reads and writes, compiled once for psycopg.

    Run by a `ReadSession` or a `WriteSession` it goes straight to the pooled psycopg connection: SQLAlchemy's
    Connection and result layers cost more CPU than the statement itself on a one-row look-up (measured here:
    0.46-0.49 ms of client CPU per read through an autocommit SQLAlchemy connection, 0.20-0.22 ms this way).
    Anywhere else (`execute_hot` on a Connection or Session) it runs as the plain Core statement. Rows are named
    tuples of the statement's column names with psycopg's own types, so only plain columns (text, numbers,
    dates, timestamps, bytea, JSON) belong in one: SQLAlchemy would convert none of them either.

    `columns` names the columns an INSERT's or UPDATE's parameters set: what SQLAlchemy reads off the
    parameters of each execution, fixed here once. JSON parameters are sent as SQLAlchemy's JSON type sends
    them (None as JSON null).
    """

    def __init__(self, statement: Executable, *, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        compiled = statement.compile(dialect=psycopg_dialect(), column_keys=list(columns) if columns else None)
        self.sql = compiled.string
        # literals the statement carries (`status == "paid"`, `last_value + 1`); REQUIRED marks a column value
        self.defaults = {name: value for name, value in compiled.params.items() if value is not REQUIRED}
        self.json_parameters = tuple(
            name for name, bind in compiled.binds.items() if isinstance(bind.type, sqltypes.JSON)
        )

    def parameters(self, given: Mapping[str, Any]) -> dict[str, Any]:
        merged = {**self.defaults, **given}
        for name in self.json_parameters:
            if name in merged:
                merged[name] = Jsonb(merged[name])
        return merged


class _Rows:
    """The part of SQLAlchemy's Result the repositories use, over psycopg named-tuple rows."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self.cursor = cursor

    @property
    def rowcount(self) -> int:
        return self.cursor.rowcount

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

    def scalar_one(self) -> Any:
        rows = self.cursor.fetchmany(2)
        if len(rows) != 1:
            raise (MultipleResultsFound if rows else NoResultFound)(f"{len(rows)} rows where exactly one was required")
        return rows[0][0]

    def all(self) -> list[Any]:
        return self.cursor.fetchall()


def _as_sqlalchemy_error(
    engine: Engine, driver: psycopg.Connection[Any], exc: psycopg.Error, sql: str, parameters: Any
) -> DBAPIError:
    """What SQLAlchemy raises for its own statements (IntegrityError for a unique violation, and so on), marked
    `connection_invalidated` when the connection is lost: the caller then invalidates it and the services
    answer 503."""
    lost = isinstance(exc, psycopg.OperationalError) or engine.dialect.is_disconnect(exc, driver, None)
    return DBAPIError.instance(sql, parameters, exc, psycopg.Error, connection_invalidated=lost)  # type: ignore[return-value]


def _run_hot(driver: psycopg.Connection[Any], hot: HotStatement, parameters: Mapping[str, Any]) -> _Rows:
    cursor = driver.cursor(row_factory=namedtuple_row)
    cursor.execute(hot.sql, hot.parameters(parameters))
    return _Rows(cursor)


class ReadSession:
    """The connection of a read-only block: `HotStatement`s run on a pooled psycopg connection in autocommit (no
    BEGIN, no ROLLBACK: each SELECT sees what was committed when it started, as in READ COMMITTED); any other
    statement moves the block onto an autocommit SQLAlchemy connection. One pooled connection at a time. Never
    for writes or FOR UPDATE."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pooled: Any = None  # a raw pool checkout, for HotStatements only
        self._connection: Connection | None = None  # once a statement needed SQLAlchemy

    def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        if isinstance(statement, HotStatement):
            driver = self._driver_connection()
            try:
                return _run_hot(driver, statement, parameters or {})
            except psycopg.Error as exc:
                error = _as_sqlalchemy_error(self.engine, driver, exc, statement.sql, dict(parameters or {}))
                if error.connection_invalidated:
                    self._invalidate(exc)
                raise error from exc
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

    def _invalidate(self, exc: BaseException | None) -> None:
        if self._connection is not None:
            self._connection.invalidate(exc)  # type: ignore[arg-type]
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


class WriteSession:
    """The connection of a transaction that writes: a SQLAlchemy Connection inside a transaction, whose
    `HotStatement`s run on its psycopg connection directly, in the same transaction.

    Round trips are what such a transaction mostly costs, so it saves them:
    - `queue` takes the writes whose results nobody reads. They go out in the same message as the transaction's
      next statement, or as its COMMIT.
    - The BEGIN goes out with the first statement, not on its own as psycopg would send it.
    Such a message is bound on the client (psycopg's own quoting) and sent as one simple query. An error in a
    queued write is raised by the statement or the commit it went out with (PostgreSQL skips the rest of the
    message, COMMIT included); the transaction is then rolled back as after any failed statement.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection = engine.connect()
        self.connection.begin()
        self._driver: psycopg.Connection[Any] = self.connection.connection.driver_connection  # type: ignore[assignment]
        self._driver.autocommit = True  # the transaction's BEGIN is this session's own, see _script
        self._binder = psycopg.ClientCursor(self._driver)
        self._begun = False
        self._queued: list[str] = []

    def execute(self, statement: Any, parameters: Mapping[str, Any] | None = None) -> Any:
        if not isinstance(statement, HotStatement):
            if script := self._script(begin=True):
                self._send(script, "queued writes", None)
            return self.connection.execute(statement, parameters)
        parameters = parameters or {}
        if self._begun and not self._queued:  # alone: server-side binding, prepared after a few runs
            try:
                return _run_hot(self._driver, statement, parameters)
            except psycopg.Error as exc:
                self._fail(exc, statement.sql, dict(parameters))
        script = self._script(self._bind(statement, parameters), begin=True)
        return _Rows(self._send(script, statement.sql, dict(parameters)))

    def queue(self, statement: HotStatement, parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
        """A write (or, with a list of parameter sets, several) sent with the next statement or the commit."""
        for one in (parameters,) if isinstance(parameters, Mapping) else parameters:
            self._queued.append(self._bind(statement, one))

    def commit(self) -> None:
        if self._begun or self._queued:
            self._send(self._script("COMMIT", begin=False), "COMMIT", None)
        self._begun = False
        self.connection.commit()  # SQLAlchemy's bookkeeping: the connection is idle, psycopg sends nothing

    def rollback(self) -> None:
        self._queued.clear()
        self._begun = False
        self.connection.rollback()  # psycopg sends the ROLLBACK: the connection is in a transaction

    def close(self) -> None:
        self._queued.clear()
        try:
            self._driver.rollback()  # nothing to do unless a statement went out and no COMMIT did
            self._driver.autocommit = False  # as the pool handed it out
        except psycopg.Error as exc:
            self.connection.invalidate(exc)
        self.connection.close()

    def _bind(self, statement: HotStatement, parameters: Mapping[str, Any]) -> str:
        try:
            return self._binder.mogrify(statement.sql, statement.parameters(parameters))
        except psycopg.Error as exc:
            self._fail(exc, statement.sql, dict(parameters))

    def _script(self, *statements: str, begin: bool) -> list[str]:
        """The queued writes and `statements`, after the BEGIN if it has not gone out yet (with `begin`, even
        alone: the caller's next statement belongs in the transaction); empty when there is nothing to send."""
        script = self._queued + list(statements)
        self._queued = []
        if not self._begun and (script or begin):
            script.insert(0, "BEGIN")
            self._begun = True
        return script

    def _send(self, script: list[str], what: str, parameters: Any) -> psycopg.Cursor[Any]:
        """`script` as one message; the cursor holds the result of its last statement."""
        cursor = self._driver.cursor(row_factory=namedtuple_row)
        try:
            cursor.execute(";\n".join(script).encode())  # no parameters: sent as it is, no placeholders looked for
        except psycopg.Error as exc:
            self._fail(exc, what, parameters)
        while cursor.nextset():
            pass
        return cursor

    def _fail(self, exc: psycopg.Error, sql: str, parameters: Any) -> NoReturn:
        error = _as_sqlalchemy_error(self.engine, self._driver, exc, sql, parameters)
        if error.connection_invalidated:
            self.connection.invalidate(exc)
        raise error from exc

    def __enter__(self) -> WriteSession:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def execute_hot(target: Any, statement: Any, parameters: Any) -> Any:
    """Run `statement` on a ReadSession, a WriteSession, or a SQLAlchemy Connection / Session. A HotStatement
    takes the fast path on the first two and runs as its Core statement on the others."""
    if isinstance(statement, HotStatement) and not isinstance(target, ReadSession | WriteSession):
        statement = statement.statement
    return target.execute(statement, parameters)


def queue_write(target: Any, statement: HotStatement, parameters: Any) -> None:
    """A write whose result nobody reads: queued on a WriteSession (see there), run now anywhere else."""
    if isinstance(target, WriteSession):
        target.queue(statement, parameters)
    else:
        execute_hot(target, statement, parameters)


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
