"""Tables of the reseller database (SQLAlchemy Core); the repositories map rows to domain objects."""

from __future__ import annotations

from renewals_shared.db import add_outbox_and_inbox
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

resellers = Table(
    "resellers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("company", String(200), nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(40), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_reason", Text, nullable=False, server_default=""),
    Column("discount_bp", Integer, nullable=False),
    Column("invoice_allowed", Boolean, nullable=False),
    Column("billing", JSONB, nullable=False),
    Column("session_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN ('pending', 'approved', 'rejected', 'suspended')", name="status"),
    CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="discount_bp"),
)
# Case-insensitive uniqueness even if a row ever escaped normalisation.
Index("uq_resellers_email_lower", func.lower(resellers.c.email), unique=True)
Index("ix_resellers_status", resellers.c.status)

billing_edits = Table(
    "billing_edits",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "reseller_id",
        String(36),
        ForeignKey("resellers.id"),
        nullable=False,
        index=True,
    ),
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("old", JSONB, nullable=False),
    Column("new", JSONB, nullable=False),
    Column("changed_fields", JSONB, nullable=False),
)

password_resets = Table(
    "password_resets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "reseller_id",
        String(36),
        ForeignKey("resellers.id"),
        nullable=False,
        index=True,
    ),
    Column("nonce", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

change_requests = Table(
    "change_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("reseller_id", String(36), ForeignKey("resellers.id"), nullable=True, index=True),
    Column("reseller_email", String(254), nullable=False),
    Column("previous_order_number", String(64), nullable=False),
    Column("topic", String(20), nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(200), nullable=True),
    CheckConstraint("topic IN ('billing', 'end_customer', 'other')", name="topic"),
    CheckConstraint("status IN ('open', 'closed')", name="status"),
)
Index("ix_change_requests_status", change_requests.c.status)

outbox, inbox = add_outbox_and_inbox(metadata)
