"""legal: target scopes (chat, window), enforcing-state facts and answers (issue #16 items 5, 6)

Revision ID: targets_0002_legal
Revises: 0001_legal
Create Date: 2026-12-08 02:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import trustdesk.core.database

revision = "targets_0002_legal"
down_revision = "intake_0002_legal"  # chained at merge: one head per branch
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An alert kind longer than 16 characters ("preservation_expiring") failed on PostgreSQL.
    with op.batch_alter_table("legal_deadline_alerts", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=16), type_=sa.String(length=32), existing_nullable=False)
    with op.batch_alter_table("legal_request_targets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("period_start", trustdesk.core.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("period_end", trustdesk.core.database.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("legal_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_country", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("offence_country", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("enforcing_state", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("enforcing_state_answer", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("enforcing_state_refused", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.create_table(
        "legal_enforcing_state_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("answer", sa.String(length=24), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["legal_requests.id"], name=op.f("fk_legal_enforcing_state_answers_request_id_legal_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_enforcing_state_answers")),
    )
    with op.batch_alter_table("legal_enforcing_state_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_enforcing_state_answers_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("legal_deadline_alerts", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=32), type_=sa.String(length=16), existing_nullable=False)
    with op.batch_alter_table("legal_enforcing_state_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_enforcing_state_answers_request_id"))
    op.drop_table("legal_enforcing_state_answers")
    with op.batch_alter_table("legal_requests", schema=None) as batch_op:
        for column in (
            "enforcing_state_refused",
            "enforcing_state_answer",
            "enforcing_state",
            "offence_country",
            "person_country",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("legal_request_targets", schema=None) as batch_op:
        for column in ("period_end", "period_start", "chat_id"):
            batch_op.drop_column(column)
