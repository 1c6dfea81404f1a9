"""initial order-service schema

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from renewals_shared.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", postgresql.JSONB(astext_type=Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_table(
        "link_audit",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("link_id", sa.String(length=64), nullable=False),
        sa.Column("license_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index(op.f("ix_link_audit_license_id"), "link_audit", ["license_id"], unique=False)
    op.create_table(
        "order_number_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "products",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("edition", sa.String(length=100), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("sku"),
    )
    op.create_table(
        "licenses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("license_key", sa.String(length=100), nullable=False),
        sa.Column("product_sku", sa.String(length=64), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("licensee_name", sa.String(length=300), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=False),
        sa.Column("maintenance_end", sa.Date(), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("end_customer", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("previous_order_number", sa.String(length=32), nullable=True),
        sa.Column("reseller_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("seats > 0", name="ck_licenses_seats_positive"),
        sa.ForeignKeyConstraint(
            ["product_sku"],
            ["products.sku"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("license_key"),
    )
    op.create_index("ix_licenses_licensee_name", "licenses", ["licensee_name"], unique=False)
    op.create_index("ix_licenses_previous_order_number", "licenses", ["previous_order_number"], unique=False)
    op.create_table(
        "price_lists",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("product_sku", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_per_seat_year", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("price_per_seat_year >= 0", name="ck_price_lists_price_nonnegative"),
        sa.ForeignKeyConstraint(
            ["product_sku"],
            ["products.sku"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("product_sku", "currency", "valid_from", name="uq_price_lists_product_currency_from"),
    )
    op.create_table(
        "license_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("license_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("change", sa.String(length=50), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("order_number", sa.String(length=32), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_license_history_license_id"), "license_history", ["license_id"], unique=False)
    op.create_table(
        "orders",
        sa.Column("order_number", sa.String(length=32), nullable=False),
        sa.Column("license_id", sa.String(length=36), nullable=False),
        sa.Column("link_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("licensee_name", sa.String(length=300), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("license_key_masked", sa.String(length=100), nullable=False),
        sa.Column("billing", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("end_customer", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("reseller_id", sa.String(length=64), nullable=True),
        sa.Column("term_years", sa.Integer(), nullable=False),
        sa.Column("years_charged", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_per_year", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("effective_discount_bp", sa.Integer(), nullable=False),
        sa.Column("customer_discount_bp", sa.Integer(), nullable=False),
        sa.Column("reseller_discount_bp", sa.Integer(), nullable=False),
        sa.Column("previous_maintenance_end", sa.Date(), nullable=False),
        sa.Column("new_maintenance_end", sa.Date(), nullable=False),
        sa.Column("payment_methods", postgresql.JSONB(astext_type=Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_method", sa.String(length=20), nullable=True),
        sa.Column("card_brand", sa.String(length=20), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.CheckConstraint("total >= 0 AND price_per_year >= 0", name="ck_orders_money_nonnegative"),
        sa.ForeignKeyConstraint(
            ["license_id"],
            ["licenses.id"],
        ),
        sa.PrimaryKeyConstraint("order_number"),
    )
    op.create_index(op.f("ix_orders_license_id"), "orders", ["license_id"], unique=False)
    op.create_index(op.f("ix_orders_link_id"), "orders", ["link_id"], unique=False)
    op.create_index(op.f("ix_orders_reseller_id"), "orders", ["reseller_id"], unique=False)
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("order_number", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("card_brand", sa.String(length=20), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("provider_reference", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_number"],
            ["orders.order_number"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_payments_order_number"), "payments", ["order_number"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_order_number"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_orders_reseller_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_link_id"), table_name="orders")
    op.drop_index(op.f("ix_orders_license_id"), table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_license_history_license_id"), table_name="license_history")
    op.drop_table("license_history")
    op.drop_table("price_lists")
    op.drop_index("ix_licenses_previous_order_number", table_name="licenses")
    op.drop_index("ix_licenses_licensee_name", table_name="licenses")
    op.drop_table("licenses")
    op.drop_table("products")
    op.drop_table("order_number_counters")
    op.drop_index(op.f("ix_link_audit_license_id"), table_name="link_audit")
    op.drop_table("link_audit")
    op.drop_table("idempotency_keys")
    drop_outbox_and_inbox()
