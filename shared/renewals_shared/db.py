"""Engines and the two tables every service with a database carries: the outbox and the inbox."""

from __future__ import annotations

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
    func,
)
from sqlalchemy.dialects.postgresql import JSONB


def make_engine(url: str, **options: Any) -> Engine:
    """An engine on psycopg 3 whatever the URL's driver says; pool options may be overridden."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if "poolclass" not in options:
        options = {"pool_size": 5, "max_overflow": 5, **options}
    return create_engine(url, pool_pre_ping=True, **options)


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
