"""Tables and the imperative mapping of the domain classes (the domain never imports SQLAlchemy)."""

from __future__ import annotations

from typing import Any

from renewals_shared.db import add_outbox_and_inbox
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    event,
    func,
)
from sqlalchemy.orm import registry

from token_service.domain.model import ExtensionLink

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

extension_links = Table(
    "extension_links",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("license_id", String(100), nullable=False),
    Column("product_sku", String(100), nullable=False),
    Column("cycle_end", Date, nullable=False),
    Column("licensee_name", String(300), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("customer_discount_bp", Integer, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("nonce", String(32), nullable=False),  # 128 random bits, hex; useless without the secret
    Column("secret_id", String(16), nullable=False),  # which configured secret derived the token
    Column("token_hash", LargeBinary(32), nullable=False),  # sha256(token): the lookup key, never the token
    Column("state", String(16), nullable=False),
    Column("redeemed_order_number", String(64), nullable=True),
    Column("revoked_reason", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()),
    UniqueConstraint("license_id", "cycle_end", name="uq_extension_links_license_cycle"),
    UniqueConstraint("token_hash", name="uq_extension_links_token_hash"),
    CheckConstraint("state IN ('active', 'redeemed', 'revoked')", name="ck_extension_links_state"),
    CheckConstraint("customer_discount_bp BETWEEN 0 AND 10000", name="ck_extension_links_discount"),
)
Index("ix_extension_links_license_active", extension_links.c.license_id, postgresql_where="state = 'active'")

product_discounts = Table(
    "product_discounts",
    metadata,
    Column("product_sku", String(100), primary_key=True),
    Column("customer_discount_bp", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()),
    CheckConstraint("customer_discount_bp BETWEEN 0 AND 10000", name="ck_product_discounts_bp"),
)

license_discounts = Table(
    "license_discounts",
    metadata,
    Column("license_id", String(100), primary_key=True),
    Column("customer_discount_bp", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()),
    CheckConstraint("customer_discount_bp BETWEEN 0 AND 10000", name="ck_license_discounts_bp"),
)

outbox, inbox = add_outbox_and_inbox(metadata)

_started = False


def start_mappers() -> None:
    global _started
    if _started:
        return
    _started = True
    mapper_registry.map_imperatively(
        ExtensionLink,
        extension_links,
        exclude_properties={"created_at", "updated_at"},
    )


@event.listens_for(ExtensionLink, "load")
def _receive_load(link: ExtensionLink, _: Any) -> None:
    link.events = []
