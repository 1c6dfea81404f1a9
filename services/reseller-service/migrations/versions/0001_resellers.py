"""reseller accounts, billing edits, password resets, change requests, outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

import sqlalchemy as sa
from alembic import op
from renewals_shared.migrations import create_outbox_and_inbox, drop_outbox_and_inbox
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_and_inbox()
    op.create_table(
        "resellers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("company", sa.String(200), nullable=False),
        sa.Column("contact_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text(), server_default="", nullable=False),
        sa.Column("discount_bp", sa.Integer(), nullable=False),
        sa.Column("invoice_allowed", sa.Boolean(), nullable=False),
        sa.Column("billing", postgresql.JSONB(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_resellers"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'suspended')",
            name="ck_resellers_status",
        ),
        sa.CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="ck_resellers_discount_bp"),
    )
    op.create_index("uq_resellers_email_lower", "resellers", [sa.text("lower(email)")], unique=True)
    op.create_index("ix_resellers_status", "resellers", ["status"])

    op.create_table(
        "billing_edits",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("reseller_id", sa.String(36), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old", postgresql.JSONB(), nullable=False),
        sa.Column("new", postgresql.JSONB(), nullable=False),
        sa.Column("changed_fields", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_billing_edits"),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name="fk_billing_edits_reseller_id_resellers",
        ),
    )
    op.create_index("ix_billing_edits_reseller_id", "billing_edits", ["reseller_id"])

    op.create_table(
        "password_resets",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("reseller_id", sa.String(36), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_password_resets"),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name="fk_password_resets_reseller_id_resellers",
        ),
        sa.UniqueConstraint("token_hash", name="uq_password_resets_token_hash"),
    )
    op.create_index("ix_password_resets_reseller_id", "password_resets", ["reseller_id"])

    op.create_table(
        "change_requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("reseller_id", sa.String(36), nullable=True),
        sa.Column("reseller_email", sa.String(254), nullable=False),
        sa.Column("previous_order_number", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_change_requests"),
        sa.ForeignKeyConstraint(
            ["reseller_id"],
            ["resellers.id"],
            name="fk_change_requests_reseller_id_resellers",
        ),
        sa.CheckConstraint(
            "topic IN ('billing', 'end_customer', 'other')",
            name="ck_change_requests_topic",
        ),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_change_requests_status"),
    )
    op.create_index("ix_change_requests_reseller_id", "change_requests", ["reseller_id"])
    op.create_index("ix_change_requests_status", "change_requests", ["status"])


def downgrade() -> None:
    op.drop_table("change_requests")
    op.drop_table("password_resets")
    op.drop_table("billing_edits")
    op.drop_table("resellers")
    drop_outbox_and_inbox()
