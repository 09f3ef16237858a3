"""Automation tables: the known versions of rules and models (shadow, active, retired), what a
version in shadow would have done, and who decided each automated action.

A version is never deleted: promoting one retires the one before, with the time, and the
measured precision it was promoted on stays on its row (and in the audit chain)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class DeciderKind(StrEnum):
    RULE = "rule"  # a pipeline rule (ruleset/name), or a fixed rule of Trustdesk (a strike threshold)
    MODEL = "model"  # a classifier of the registry
    BANK = "bank"  # a verified hash bank


class VersionState(StrEnum):
    SHADOW = "shadow"  # verdicts recorded, no effects
    ACTIVE = "active"  # may act
    RETIRED = "retired"  # a later version was promoted


class AutomationVersion(Base):
    __tablename__ = "automation_versions"
    __table_args__ = (UniqueConstraint("kind", "name", "version", name="uq_automation_versions_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[str] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))  # a model's id (the registry name is `name`)
    state: Mapped[str] = mapped_column(String(12))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(200))
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promoted_by: Mapped[str | None] = mapped_column(String(200))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    precision: Mapped[float | None] = mapped_column(Float)  # measured at promotion
    labelled: Mapped[int | None] = mapped_column(Integer)  # shadow verdicts with a label, at promotion
    true_positives: Mapped[int | None] = mapped_column(Integer)
    label_source: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class ShadowVerdict(Base):
    """What a version in shadow would have done to one subject, for one event."""

    __tablename__ = "automation_shadow_verdicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("automation_versions.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(128))
    rule_ref: Mapped[str] = mapped_column(String(200))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(128), index=True)
    effects: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AutomatedDecision(Base):
    """Who decided one automated action: the rule, model or bank versions, and the policy
    version it applied."""

    __tablename__ = "automation_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("enforcement_actions.id"), unique=True)
    deciders: Mapped[list[dict[str, str]]] = mapped_column(JSON)  # [{kind, name, version, model?}]
    policy: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str] = mapped_column(String(32))
    ruleset_version: Mapped[str | None] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
