"""banks: match in all eight orientations (a bank setting), and the orientation a match had

Revision ID: 0004_banks_orientations
Revises: 0003_banks_video
Create Date: 2026-12-07 23:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_banks_orientations"
down_revision = "0003_banks_video"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("safety_banks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("all_orientations", sa.Boolean(), nullable=False, server_default=sa.true()))
    # Negative banks hold a platform's own cleared content, hashed upright: they stay upright-only.
    op.execute(sa.text("UPDATE safety_banks SET all_orientations = :off WHERE kind = 'negative'").bindparams(off=False))
    with op.batch_alter_table("safety_hash_matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("orientation", sa.String(length=16), nullable=False, server_default="original"))


def downgrade() -> None:
    with op.batch_alter_table("safety_hash_matches", schema=None) as batch_op:
        batch_op.drop_column("orientation")
    with op.batch_alter_table("safety_banks", schema=None) as batch_op:
        batch_op.drop_column("all_orientations")
