"""Running Rapport in a practice: staff accounts and the audit log, enrolled clients and the
conversations bound to them, invitations, schedules, therapy sessions, scheduled check-ins, and
crisis triage on events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.CheckConstraint("role IN ('admin', 'clinician')", name="ck_staff_role"),
        sa.PrimaryKeyConstraint("id", name="pk_staff"),
        sa.UniqueConstraint("username", name="uq_staff_username"),
    )
    with op.batch_alter_table("client") as batch:
        batch.add_column(sa.Column("clinician_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("external_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("preferred_channel", sa.String(64), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=True))
        batch.add_column(sa.Column("enrolled_at", _TZ, nullable=True))
        batch.add_column(sa.Column("stopped_at", _TZ, nullable=True))
        batch.create_foreign_key(
            "fk_client_clinician_id_staff", "staff", ["clinician_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_client_clinician_id", ["clinician_id"])
    op.create_table(
        "binding",
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("bound_at", _TZ, nullable=False),
        sa.Column("stopped_at", _TZ, nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name="fk_binding_client_id_client", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_binding"),
    )
    op.create_index("ix_binding_client_id", "binding", ["client_id"])
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("used_at", _TZ, nullable=True),
        sa.Column("used_by", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name="fk_invitation_client_id_client", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name="fk_invitation_created_by_staff", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_invitation"),
        sa.UniqueConstraint("code_hash", name="uq_invitation_code_hash"),
    )
    op.create_table(
        "schedule",
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=True),
        sa.Column("send_time", sa.String(5), nullable=False),
        sa.Column("quiet_start", sa.String(5), nullable=True),
        sa.Column("quiet_end", sa.String(5), nullable=True),
        sa.Column("remind_after_hours", sa.Integer(), nullable=False),
        sa.Column("max_reminders", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.CheckConstraint("kind IN ('after_session', 'weekly')", name="ck_schedule_kind"),
        sa.CheckConstraint("weekday IS NULL OR (weekday >= 0 AND weekday <= 6)", name="ck_schedule_weekday"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name="fk_schedule_client_id_client", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", name="pk_schedule"),
    )
    op.create_table(
        "therapy_session",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("starts_at", _TZ, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("uid", sa.String(255), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name="fk_therapy_session_client_id_client", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_therapy_session"),
        sa.UniqueConstraint("client_id", "starts_at", name="uq_therapy_session_client_id_starts_at"),
    )
    op.create_index("ix_therapy_session_starts_at", "therapy_session", ["starts_at"])
    op.create_table(
        "scheduled_checkin",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("due_at", _TZ, nullable=False),
        sa.Column("closes_at", _TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sent_at", _TZ, nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("next_reminder_at", _TZ, nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", _TZ, nullable=True),
        sa.Column("checkin_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", _TZ, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'completed', 'expired', 'cancelled')", name="ck_scheduled_checkin_status"
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name="fk_scheduled_checkin_client_id_client", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkin.id"], name="fk_scheduled_checkin_checkin_id_checkin", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scheduled_checkin"),
        sa.UniqueConstraint("client_id", "due_at", name="uq_scheduled_checkin_client_id_due_at"),
    )
    op.create_index("ix_scheduled_checkin_status_due_at", "scheduled_checkin", ["status", "due_at"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(128), nullable=True),
        sa.Column("detail", sa.String(256), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_client_id", "audit_log", ["client_id"])
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("acknowledged_at", _TZ, nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("ack_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("escalated_at", _TZ, nullable=True))
    _append_only("audit_log")


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on `table` in the database itself."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("event") as batch:
        for column in ("escalated_at", "ack_note", "acknowledged_by", "acknowledged_at"):
            batch.drop_column(column)
    op.drop_index("ix_audit_log_client_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_scheduled_checkin_status_due_at", table_name="scheduled_checkin")
    op.drop_table("scheduled_checkin")
    op.drop_index("ix_therapy_session_starts_at", table_name="therapy_session")
    op.drop_table("therapy_session")
    op.drop_table("schedule")
    op.drop_table("invitation")
    op.drop_index("ix_binding_client_id", table_name="binding")
    op.drop_table("binding")
    with op.batch_alter_table("client") as batch:
        batch.drop_index("ix_client_clinician_id")
        batch.drop_constraint("fk_client_clinician_id_staff", type_="foreignkey")
        for column in ("stopped_at", "enrolled_at", "timezone", "preferred_channel", "external_id", "clinician_id"):
            batch.drop_column(column)
    op.drop_table("staff")
