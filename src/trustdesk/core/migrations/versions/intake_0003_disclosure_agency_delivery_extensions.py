"""disclosure: packages delivered to an agency's system, preservation extensions asked by the authority (issue #16, item 12)

Revision ID: intake_0003_disclosure
Revises: 0002_disclosure
Create Date: 2026-12-08 01:48:07.999385
"""

import sqlalchemy as sa
from alembic import op

import trustdesk.core.database

revision = "intake_0003_disclosure"
down_revision = "grounds_0003_disclosure"  # chained at merge: one head per branch
branch_labels = None
depends_on = "intake_0002_legal"


def upgrade() -> None:
    op.create_table(
        "legal_preservation_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("asked_by", sa.String(length=200), nullable=False),
        sa.Column("asked_at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_before", trustdesk.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_after", trustdesk.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["legal_requests.id"], name=op.f("fk_legal_preservation_extensions_request_id_legal_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_preservation_extensions")),
    )
    with op.batch_alter_table("legal_preservation_extensions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_preservation_extensions_request_id"), ["request_id"], unique=False)

    with op.batch_alter_table("legal_disclosure_packages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agency_id", sa.Integer(), nullable=True))
        batch_op.alter_column("officer_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_legal_disclosure_packages_agency_id"), ["agency_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_legal_disclosure_packages_agency_id_legal_agencies"), "legal_agencies", ["agency_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("legal_disclosure_packages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_legal_disclosure_packages_agency_id_legal_agencies"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_legal_disclosure_packages_agency_id"))
        batch_op.alter_column("officer_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("agency_id")

    with op.batch_alter_table("legal_preservation_extensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_preservation_extensions_request_id"))

    op.drop_table("legal_preservation_extensions")
