"""Engines and the two tables every service with a database carries: the outbox and the inbox."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
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
from sqlalchemy.exc import DisconnectionError

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
