"""pipeline: running totals per worker for /metrics and the pipeline page (issue #19)

Revision ID: 0002_pipeline
Revises: 0001_pipeline
Create Date: 2026-12-07 23:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_pipeline"
down_revision = "0001_pipeline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_totals",
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("figure", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("worker", "figure", "rule", "shadow", name=op.f("pk_pipeline_totals")),
    )
    # What was counted at each scrape before: the events and rule hits stored now (the
    # workers that handled the hits are not recorded on them: they count under "migrated").
    op.execute(
        "INSERT INTO pipeline_totals (worker, figure, rule, shadow, value) "
        "SELECT worker, 'events', '', false, count(*) FROM pipeline_events GROUP BY worker"
    )
    op.execute(
        "INSERT INTO pipeline_totals (worker, figure, rule, shadow, value) "
        "SELECT 'migrated', 'hits', rule, shadow, count(*) FROM pipeline_rule_hits GROUP BY rule, shadow"
    )


def downgrade() -> None:
    op.drop_table("pipeline_totals")
