"""core: scheduled jobs (one lease row per job) and the access log (issue #21)

Revision ID: 0001_core_jobs
Revises:
Create Date: 2026-12-07 23:10:00
"""

import sqlalchemy as sa
from alembic import op

import trustdesk.core.database

revision = "0001_core_jobs"
down_revision = None
branch_labels = ("core_jobs",)
depends_on = ("0001_core",)


def upgrade() -> None:
    utc = trustdesk.core.database.UTCDateTime(timezone=True)
    op.create_table(
        "core_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("tick", sa.Integer(), nullable=False),
        sa.Column("next_run_at", utc, nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("lease_until", utc, nullable=True),
        sa.Column("every_s", sa.Float(), nullable=False),
        sa.Column("last_started_at", utc, nullable=True),
        sa.Column("last_finished_at", utc, nullable=True),
        sa.Column("last_duration_ms", sa.Integer(), nullable=True),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.Column("last_summary", sa.String(length=300), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("last_holder", sa.String(length=200), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_core_jobs")),
    )
    op.create_table(
        "core_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject_kind", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("what", sa.String(length=64), nullable=False),
        sa.Column("object_ref", sa.String(length=100), nullable=True),
        sa.Column("purpose_kind", sa.String(length=16), nullable=False),
        sa.Column("purpose_ref", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_access_log")),
    )
    op.create_index(op.f("ix_core_access_log_at"), "core_access_log", ["at"], unique=False)
    op.create_index(op.f("ix_core_access_log_actor"), "core_access_log", ["actor"], unique=False)
    op.create_index("ix_core_access_log_subject", "core_access_log", ["subject_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_core_access_log_subject", table_name="core_access_log")
    op.drop_index(op.f("ix_core_access_log_actor"), table_name="core_access_log")
    op.drop_index(op.f("ix_core_access_log_at"), table_name="core_access_log")
    op.drop_table("core_access_log")
    op.drop_table("core_jobs")
