"""Tables of order-service (SQLAlchemy Core). Repositories translate rows to domain objects."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from renewals_shared.db import add_outbox_and_inbox

metadata = MetaData()

products = Table(
    "products",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("edition", String(100), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

price_lists = Table(
    "price_lists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("product_sku", String(64), ForeignKey("products.sku"), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("price_per_seat_year", BigInteger, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("product_sku", "currency", "valid_from", name="uq_price_lists_product_currency_from"),
    CheckConstraint("price_per_seat_year >= 0", name="ck_price_lists_price_nonnegative"),
)

licenses = Table(
    "licenses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("license_key", String(100), nullable=False, unique=True),
    Column("product_sku", String(64), ForeignKey("products.sku"), nullable=False),
    Column("seats", Integer, nullable=False),
    Column("licensee_name", String(300), nullable=False),
    Column("purchase_date", Date, nullable=False),
    Column("maintenance_end", Date, nullable=False),
    Column("contact_email", String(320), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("end_customer", JSONB, nullable=False),
    Column("previous_order_number", String(32), nullable=True),
    Column("reseller_id", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("seats > 0", name="ck_licenses_seats_positive"),
    Index("ix_licenses_licensee_name", "licensee_name"),
    Index("ix_licenses_previous_order_number", "previous_order_number"),
)

license_history = Table(
    "license_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("license_id", String(36), ForeignKey("licenses.id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("change", String(50), nullable=False),
    Column("source", String(50), nullable=False),
    Column("order_number", String(32), nullable=True),
    Column("details", JSONB, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_number", String(32), primary_key=True),
    Column("license_id", String(36), ForeignKey("licenses.id"), nullable=False, index=True),
    Column("link_id", String(64), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("licensee_name", String(300), nullable=False),
    Column("product_name", String(200), nullable=False),
    Column("license_key_masked", String(100), nullable=False),
    Column("billing", JSONB, nullable=False),
    Column("end_customer", JSONB, nullable=False),
    Column("reseller_id", String(64), nullable=True, index=True),
    Column("term_years", Integer, nullable=False),
    Column("years_charged", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("price_per_year", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("effective_discount_bp", Integer, nullable=False),
    Column("customer_discount_bp", Integer, nullable=False),
    Column("reseller_discount_bp", Integer, nullable=False),
    Column("previous_maintenance_end", Date, nullable=False),
    Column("new_maintenance_end", Date, nullable=False),
    Column("payment_methods", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=True),
    Column("payment_method", String(20), nullable=True),
    Column("card_brand", String(20), nullable=True),
    Column("card_last4", String(4), nullable=True),
    CheckConstraint("total >= 0 AND price_per_year >= 0", name="ck_orders_money_nonnegative"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("order_number", String(32), ForeignKey("orders.order_number"), nullable=False, index=True),
    Column("method", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(100), nullable=True),
    Column("card_brand", String(20), nullable=True),
    Column("card_last4", String(4), nullable=True),
    Column("provider_reference", String(100), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

order_number_counters = Table(
    "order_number_counters",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_value", Integer, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(100), nullable=False),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("response_body", JSONB, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("scope", "key"),
)

link_audit = Table(
    "link_audit",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("link_id", String(64), nullable=False),
    Column("license_id", String(36), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

outbox, inbox = add_outbox_and_inbox(metadata)
