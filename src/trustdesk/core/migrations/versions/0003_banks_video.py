"""banks: vPDQ video signals (an entry's whole signal, an upload's vPDQ)

Revision ID: 0003_banks_video
Revises: 0002_banks
Create Date: 2026-12-07 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_banks_video"
down_revision = "0002_banks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("safety_bank_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signal_data", sa.Text(), nullable=True))
    with op.batch_alter_table("safety_media_hashes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vpdq", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("safety_media_hashes", schema=None) as batch_op:
        batch_op.drop_column("vpdq")
    with op.batch_alter_table("safety_bank_entries", schema=None) as batch_op:
        batch_op.drop_column("signal_data")
