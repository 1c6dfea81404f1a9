"""Tables of the notifier's own database (Core tables; the repository maps rows to domain objects)."""

from __future__ import annotations

from renewals_shared.db import add_outbox_and_inbox
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
outbox, inbox = add_outbox_and_inbox(metadata)

# The newest known state of each license, fed by license.registered and license.maintenance_extended.
license_projection = Table(
    "license_projection",
    metadata,
    Column("license_id", String(64), primary_key=True),
    Column("product_sku", String(64), nullable=True),  # null until license.registered arrives (out of order)
    Column("product_name", String(200), nullable=False),
    Column("licensee_name", String(300), nullable=False),
    Column("purchase_date", Date, nullable=True),
    Column("maintenance_end", Date, nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("currency", String(3), nullable=True),
    Column("end_customer_email", String(320), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("license_projection_maintenance_end", "maintenance_end"),
)

# One row per (license, cycle E, stage): the unique key that makes a reminder go out at most once.
reminder = Table(
    "reminder",
    metadata,
    Column("license_id", String(64), nullable=False),
    Column("maintenance_end", Date, nullable=False),
    Column("stage", Integer, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("email_id", BigInteger, nullable=True),
    Column("link_id", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("license_id", "maintenance_end", "stage", name="reminder_pkey"),
)

# Every email the notifier decided to send, recorded before any SMTP traffic.
email = Table(
    "email",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("dedupe_key", String(300), nullable=False, unique=True),
    Column("context", JSONB, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("message_id", String(200), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("lease_expires_at", DateTime(timezone=True), nullable=True),
    Column("data_started_at", DateTime(timezone=True), nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index(
        "email_unfinished",
        "next_attempt_at",
        postgresql_where=text("status IN ('pending', 'sending')"),
    ),
)
