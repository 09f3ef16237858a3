"""automation: rule and model versions, shadow verdicts, who decided each automated action

Revision ID: 0001_automation
Revises:
Create Date: 2026-12-07 23:05:00
"""

import sqlalchemy as sa
from alembic import op

import trustdesk.core.database

revision = "0001_automation"
down_revision = None
branch_labels = ("automation",)
depends_on = "0001_review"


def upgrade() -> None:
    op.create_table(
        "automation_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("registered_at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("promoted_at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("promoted_by", sa.String(length=200), nullable=True),
        sa.Column("retired_at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("precision", sa.Float(), nullable=True),
        sa.Column("labelled", sa.Integer(), nullable=True),
        sa.Column("true_positives", sa.Integer(), nullable=True),
        sa.Column("label_source", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_versions")),
        sa.UniqueConstraint("kind", "name", "version", name="uq_automation_versions_version"),
    )
    with op.batch_alter_table("automation_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_automation_versions_name"), ["name"], unique=False)

    op.create_table(
        "automation_shadow_verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("rule_ref", sa.String(length=200), nullable=False),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=128), nullable=False),
        sa.Column("effects", sa.JSON(), nullable=False),
        sa.Column("at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"], ["automation_versions.id"], name=op.f("fk_automation_shadow_verdicts_version_id_automation_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_shadow_verdicts")),
    )
    with op.batch_alter_table("automation_shadow_verdicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_automation_shadow_verdicts_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_automation_shadow_verdicts_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_automation_shadow_verdicts_version_id"), ["version_id"], unique=False)

    op.create_table(
        "automation_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("deciders", sa.JSON(), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("ruleset_version", sa.String(length=400), nullable=True),
        sa.Column("at", trustdesk.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["enforcement_actions.id"], name=op.f("fk_automation_decisions_action_id_enforcement_actions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_decisions")),
        sa.UniqueConstraint("action_id", name=op.f("uq_automation_decisions_action_id")),
    )


def downgrade() -> None:
    op.drop_table("automation_decisions")
    with op.batch_alter_table("automation_shadow_verdicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_automation_shadow_verdicts_version_id"))
        batch_op.drop_index(batch_op.f("ix_automation_shadow_verdicts_subject_id"))
        batch_op.drop_index(batch_op.f("ix_automation_shadow_verdicts_at"))
    op.drop_table("automation_shadow_verdicts")
    with op.batch_alter_table("automation_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_automation_versions_name"))
    op.drop_table("automation_versions")
