"""initial notifier schema: outbox, inbox, license projection, reminder log, email log

Revision ID: 0001
Revises:
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
        "license_projection",
        sa.Column("license_id", sa.String(length=64), nullable=False),
        sa.Column("product_sku", sa.String(length=64), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("licensee_name", sa.String(length=300), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("maintenance_end", sa.Date(), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("end_customer_email", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("license_id"),
    )
    op.create_index("license_projection_maintenance_end", "license_projection", ["maintenance_end"])
    op.create_table(
        "reminder",
        sa.Column("license_id", sa.String(length=64), nullable=False),
        sa.Column("maintenance_end", sa.Date(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("email_id", sa.BigInteger(), nullable=True),
        sa.Column("link_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("license_id", "maintenance_end", "stage", name="reminder_pkey"),
    )
    op.create_table(
        "email",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("context", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index(
        "email_unfinished",
        "email",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )


def downgrade() -> None:
    op.drop_index("email_unfinished", table_name="email")
    op.drop_table("email")
    op.drop_table("reminder")
    op.drop_index("license_projection_maintenance_end", table_name="license_projection")
    op.drop_table("license_projection")
    drop_outbox_and_inbox()
