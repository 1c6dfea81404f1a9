"""extension links, discount policy, outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op
from renewals_shared.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "extension_links",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("license_id", sa.String(100), nullable=False),
        sa.Column("product_sku", sa.String(100), nullable=False),
        sa.Column("cycle_end", sa.Date(), nullable=False),
        sa.Column("licensee_name", sa.String(300), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("customer_discount_bp", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("secret_id", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("redeemed_order_number", sa.String(64), nullable=True),
        sa.Column("revoked_reason", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("license_id", "cycle_end", name="uq_extension_links_license_cycle"),
        sa.UniqueConstraint("token_hash", name="uq_extension_links_token_hash"),
        sa.CheckConstraint("state IN ('active', 'redeemed', 'revoked')", name="ck_extension_links_state"),
        sa.CheckConstraint("customer_discount_bp BETWEEN 0 AND 10000", name="ck_extension_links_discount"),
    )
    op.create_index(
        "ix_extension_links_license_active",
        "extension_links",
        ["license_id"],
        postgresql_where=sa.text("state = 'active'"),
    )
    op.create_table(
        "product_discounts",
        sa.Column("product_sku", sa.String(100), primary_key=True),
        sa.Column("customer_discount_bp", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("customer_discount_bp BETWEEN 0 AND 10000", name="ck_product_discounts_bp"),
    )
    op.create_table(
        "license_discounts",
        sa.Column("license_id", sa.String(100), primary_key=True),
        sa.Column("customer_discount_bp", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("customer_discount_bp BETWEEN 0 AND 10000", name="ck_license_discounts_bp"),
    )


def downgrade() -> None:
    op.drop_table("license_discounts")
    op.drop_table("product_discounts")
    op.drop_index("ix_extension_links_license_active", table_name="extension_links")
    op.drop_table("extension_links")
    drop_outbox_and_inbox()
