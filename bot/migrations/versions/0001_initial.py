"""The first schema: client, checkin, answer, summary, event.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_client"),
    )
    op.create_table(
        "checkin",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('in_progress', 'completed', 'paused', 'abandoned')",
            name="ck_checkin_status",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name="fk_checkin_client_id_client", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_checkin"),
    )
    op.create_index("ix_checkin_client_id_started_at", "checkin", ["client_id", "started_at"])
    op.create_index("ix_checkin_updated_at", "checkin", ["updated_at"])
    op.create_table(
        "answer",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(32), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("followup", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="ck_answer_score"),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkin.id"], name="fk_answer_checkin_id_checkin", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_answer"),
        sa.UniqueConstraint("checkin_id", "dimension", name="uq_answer_checkin_id_dimension"),
    )
    op.create_table(
        "summary",
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkin.id"], name="fk_summary_checkin_id_checkin", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("checkin_id", name="pk_summary"),
    )
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name="fk_event_client_id_client", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkin.id"], name="fk_event_checkin_id_checkin", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_event"),
    )
    op.create_index("ix_event_client_id", "event", ["client_id"])
    op.create_index("ix_event_checkin_id", "event", ["checkin_id"])


def downgrade() -> None:
    op.drop_table("event")
    op.drop_table("summary")
    op.drop_table("answer")
    op.drop_index("ix_checkin_updated_at", table_name="checkin")
    op.drop_index("ix_checkin_client_id_started_at", table_name="checkin")
    op.drop_table("checkin")
    op.drop_table("client")
