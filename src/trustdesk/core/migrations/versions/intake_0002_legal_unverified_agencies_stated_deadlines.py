"""legal: unverified agencies (issue #16, item 9), stated deadlines on the clock (item 10)

Revision ID: intake_0002_legal
Revises: 0001_legal
Create Date: 2026-12-08 01:48:07.999385
"""

import sqlalchemy as sa
from alembic import op

import trustdesk.core.database

revision = "intake_0002_legal"
down_revision = "0001_legal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("legal_agencies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("verified_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("verified_at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("legal_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline_source", sa.String(length=16), server_default="statutory", nullable=False))
        batch_op.add_column(sa.Column("statutory_due_at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=True))
    # Requests received before: an internal target where the deadline was not statutory, none
    # where there is no deadline; the law's own deadline is the one they carry.
    op.execute("UPDATE legal_requests SET deadline_source = 'target' WHERE deadline_statutory = false AND due_at IS NOT NULL")
    op.execute("UPDATE legal_requests SET deadline_source = 'none' WHERE due_at IS NULL")
    op.execute("UPDATE legal_requests SET statutory_due_at = due_at WHERE deadline_source = 'statutory'")


def downgrade() -> None:
    with op.batch_alter_table("legal_requests", schema=None) as batch_op:
        batch_op.drop_column("statutory_due_at")
        batch_op.drop_column("deadline_source")

    with op.batch_alter_table("legal_agencies", schema=None) as batch_op:
        batch_op.drop_column("verified_at")
        batch_op.drop_column("verified_by")
        batch_op.drop_column("verified")
