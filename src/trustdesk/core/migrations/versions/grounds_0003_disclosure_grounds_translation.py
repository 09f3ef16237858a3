"""grounds: every ground a decision weighed; the translation an order's core elements came in

Revision ID: grounds_0003_disclosure
Revises: 0002_disclosure
Create Date: 2026-12-08 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "grounds_0003_disclosure"
down_revision = "0002_disclosure"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("legal_policy_decisions") as batch:
        batch.add_column(sa.Column("grounds", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("legal_requests") as batch:
        batch.add_column(sa.Column("translated_to", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("legal_requests") as batch:
        batch.drop_column("translated_to")
    with op.batch_alter_table("legal_policy_decisions") as batch:
        batch.drop_column("grounds")
