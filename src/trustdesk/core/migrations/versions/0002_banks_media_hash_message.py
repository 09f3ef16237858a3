"""banks: the message that carries a remembered upload (for automatic retroactive removal)

Revision ID: 0002_banks
Revises: 0001_banks
Create Date: 2026-11-25 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_banks"
down_revision = "0001_banks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("safety_media_hashes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("safety_media_hashes", schema=None) as batch_op:
        batch_op.drop_column("message_id")
