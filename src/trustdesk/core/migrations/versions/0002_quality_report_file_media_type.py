"""quality: a transparency report file's media type up to 128 characters (the XLSX
workbook's is 65, issue #22)

Revision ID: 0002_quality_report_media_type
Revises: 0001_quality
Create Date: 2026-12-08 01:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_quality_report_media_type"
down_revision = "0001_quality"
branch_labels = None
depends_on = "0001_transparency"


def upgrade() -> None:
    with op.batch_alter_table("transparency_report_files", schema=None) as batch_op:
        batch_op.alter_column(
            "media_type", existing_type=sa.String(length=64), type_=sa.String(length=128), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transparency_report_files", schema=None) as batch_op:
        batch_op.alter_column(
            "media_type", existing_type=sa.String(length=128), type_=sa.String(length=64), existing_nullable=False
        )
