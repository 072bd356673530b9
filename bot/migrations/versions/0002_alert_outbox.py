"""The alert outbox (bot/outbox.py): practice alerts kept until their webhook has taken them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(64), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="ck_alert_outbox_status"),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name="fk_alert_outbox_client_id_client", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_outbox"),
    )
    op.create_index("ix_alert_outbox_status_next_attempt_at", "alert_outbox", ["status", "next_attempt_at"])
    op.create_index(
        "ix_alert_outbox_client_id_kind_created_at", "alert_outbox", ["client_id", "kind", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_alert_outbox_client_id_kind_created_at", table_name="alert_outbox")
    op.drop_index("ix_alert_outbox_status_next_attempt_at", table_name="alert_outbox")
    op.drop_table("alert_outbox")
