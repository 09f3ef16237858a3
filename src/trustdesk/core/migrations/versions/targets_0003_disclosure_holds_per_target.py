"""disclosure: legal holds per target, with their family and chain start (issue #16 item 8)

Revision ID: targets_0003_disclosure
Revises: 0002_disclosure
Create Date: 2026-12-08 02:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import trustdesk.core.database

revision = "targets_0003_disclosure"
down_revision = "intake_0003_disclosure"  # chained at merge: one head per branch
branch_labels = None
depends_on = "targets_0002_legal"


def upgrade() -> None:
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("scope", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column("family", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("chain_started_at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_legal_holds_target_id_legal_request_targets"), "legal_request_targets", ["target_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_legal_holds_target_id_legal_request_targets"), type_="foreignkey")
        for column in ("chain_started_at", "family", "scope", "target_id"):
            batch_op.drop_column(column)
