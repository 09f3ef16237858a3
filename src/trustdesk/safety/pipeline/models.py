"""The pipeline's tables. `pipeline_events` is the idempotency record (one row per handled
event id, written in the same transaction as the event's effects) and the store that
backtests replay; rule hits, labels, counters, alerts, dead letters and backtests hang
around it. Rows are appended; labels and dead letters are closed by setting a time, never
deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trustdesk.core.database import Base, UTCDateTime


class HandledEvent(Base):
    __tablename__ = "pipeline_events"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)  # the event as received, for backtests and replays
    verdicts: Mapped[list[str]] = mapped_column(JSON, default=list)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(128))

    __table_args__ = (Index("ix_pipeline_events_handled", "handled_at"), Index("ix_pipeline_events_occurred", "occurred_at"))


class RuleHit(Base):
    __tablename__ = "pipeline_rule_hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("pipeline_events.event_id"), index=True)
    ruleset: Mapped[str] = mapped_column(String(128))
    ruleset_version: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(128), index=True)
    rule_version: Mapped[int] = mapped_column(Integer)
    shadow: Mapped[bool] = mapped_column(Boolean)
    effects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # done, or would have been done
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class EntityLabel(Base):
    __tablename__ = "pipeline_labels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(128))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    set_by: Mapped[str] = mapped_column(String(256))  # rule ref or staff actor
    removed_by: Mapped[str | None] = mapped_column(String(256), nullable=True)

    __table_args__ = (Index("ix_pipeline_labels_entity", "entity_kind", "entity_id"),)


class CounterBucket(Base):
    """Events per key per minute; a window sums the buckets it covers."""

    __tablename__ = "pipeline_counters"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    minute: Mapped[int] = mapped_column(Integer, primary_key=True)  # minutes since the epoch, UTC
    count: Mapped[int] = mapped_column(Integer)


class PipelineTotal(Base):
    """Running totals for `/metrics` and the pipeline page, one row per worker and figure:
    each worker adds its batch's counts to its own rows in the batch's transaction (no row is
    shared between workers), and a scrape sums a few rows instead of counting every event and
    rule hit ever stored (issue #19). Totals only grow: retention deletes events, not counts."""

    __tablename__ = "pipeline_totals"

    worker: Mapped[str] = mapped_column(String(128), primary_key=True)
    figure: Mapped[str] = mapped_column(String(16), primary_key=True)  # "events" or "hits"
    rule: Mapped[str] = mapped_column(String(128), primary_key=True, default="")  # "" for events
    shadow: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class RuleAlert(Base):
    __tablename__ = "pipeline_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    role: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    rule_ref: Mapped[str] = mapped_column(String(256))
    event_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(256), nullable=True)


class DeadLetterRecord(Base):
    __tablename__ = "pipeline_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    subject: Mapped[str] = mapped_column(String(256))
    data: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replayed_by: Mapped[str | None] = mapped_column(String(256), nullable=True)


class Backtest(Base):
    __tablename__ = "pipeline_backtests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ruleset: Mapped[str] = mapped_column(String(128))
    ruleset_version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    events: Mapped[int] = mapped_column(Integer)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)  # rule -> {hits, version, samples}
    run_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    run_by: Mapped[str] = mapped_column(String(256))
