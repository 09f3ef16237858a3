"""console: the requests queue's own order (time left first) served by an index on PostgreSQL

The queue sorts by `coalesce(due_at, NO_DEADLINE), received_at, id` (legal/service.py
QUEUE_ORDER, so that requests without a deadline come last and the keyset cursor never meets
a NULL); without an index on that expression every page sorted the whole table
(tests/web/test_query_plans.py). PostgreSQL matches the expression with the bound value of
NO_DEADLINE; SQLite matches an expression index only to a literal, so the embedded default
keeps its plain indexes.

Revision ID: 0002_console_requests_due_order
Revises: 0001_console
Create Date: 2026-12-08 03:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_console_requests_due_order"
down_revision = "0001_console"
branch_labels = None
depends_on = None

NAME = "ix_legal_requests_queue_due_order"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    due = sa.text("coalesce(due_at, '9999-12-31 00:00:00+00'::timestamptz)")  # legal.service.NO_DEADLINE
    op.create_index(NAME, "legal_requests", [due, "received_at", "id"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(NAME, table_name="legal_requests")
