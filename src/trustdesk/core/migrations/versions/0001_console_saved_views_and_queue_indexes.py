"""console: saved views of the queues, and an index for every queue filter and sort order

Revision ID: 0001_console
Revises:
Create Date: 2026-12-08 01:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import trustdesk.core.database

revision = "0001_console"
down_revision = None
branch_labels = ("console",)
depends_on = ("0001_review", "0001_legal")

INDEXES = [
    ("ix_review_cases_queue_order", "review_cases", ["queue", "state", "priority", "opened_at", "id"]),
    ("ix_review_cases_queue_due", "review_cases", ["queue", "state", "due_at", "id"]),
    ("ix_review_cases_queue_opened", "review_cases", ["queue", "state", "opened_at", "id"]),
    ("ix_review_cases_policy_hint", "review_cases", ["policy_hint"]),
    ("ix_review_cases_claimed_by", "review_cases", ["claimed_by"]),
    ("ix_legal_requests_instrument", "legal_requests", ["instrument"]),
    ("ix_legal_requests_emergency", "legal_requests", ["emergency"]),
    ("ix_legal_requests_received_at", "legal_requests", ["received_at"]),
    ("ix_legal_agencies_country", "legal_agencies", ["country"]),
]


def upgrade() -> None:
    op.create_table(
        "console_saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("page", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_saved_views")),
        sa.UniqueConstraint("username", "page", "name", name=op.f("uq_console_saved_views_username")),
    )
    op.create_index(op.f("ix_console_saved_views_username"), "console_saved_views", ["username"], unique=False)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index(op.f("ix_console_saved_views_username"), table_name="console_saved_views")
    op.drop_table("console_saved_views")
