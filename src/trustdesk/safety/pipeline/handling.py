"""Handling a batch of events, exactly once in effect.

One transaction per batch: the events already handled (their ids are in `pipeline_events`)
are skipped; for the rest the counters are bumped, the rules evaluated, live effects
applied, and one row per event plus one per hit written. The row is the idempotency
record: it commits with the effects or not at all, so a worker that dies mid-batch leaves
nothing behind, and the redelivered events are handled as if for the first time. Two
workers racing on one event collide on its primary key; the loser's batch rolls back and is
retried, and then finds the event handled."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from trustdesk.core.audit.service import AuditBatch
from trustdesk.core.clock import Clock
from trustdesk.core.database import Database, insert_many, table_of
from trustdesk.platform.port import Platform
from trustdesk.safety.automation.service import PromotionGate, model_deciders, record_shadow, rule_decider
from trustdesk.safety.classifiers import ClassifierRegistry, default_registry
from trustdesk.safety.pipeline.context import EventContext, Signals, entity_of
from trustdesk.safety.pipeline.engine import Verdict, evaluate
from trustdesk.safety.pipeline.events import Event, subject_of
from trustdesk.safety.pipeline.hashes import HashMatcher, NoHashMatcher, SessionHashMatcher
from trustdesk.safety.pipeline.metrics import add_totals
from trustdesk.safety.pipeline.models import HandledEvent, RuleHit
from trustdesk.safety.pipeline.state import Counters, Labels, counter_key, window_start
from trustdesk.safety.rules.book import RuleBook
from trustdesk.safety.rules.effects import EffectContext, apply_effects
from trustdesk.safety.rules.ruleset import RuleSet

log = logging.getLogger(__name__)
_INSERT_EVENTS = insert(table_of(HandledEvent))
_INSERT_HITS = insert(table_of(RuleHit))


@dataclass(frozen=True)
class Received:
    """An event as it came off the bus: parsed, with the exact bytes kept for the record."""

    event: Event
    raw: str


@dataclass
class BatchResult:
    handled: list[Verdict] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


@dataclass
class Handler:
    db: Database
    clock: Clock
    book: RuleBook
    platform: Platform | None = None
    hashes: HashMatcher | SessionHashMatcher = field(default_factory=NoHashMatcher)
    pager: Any = None  # alerts to the on-call role page through it (core.paging)
    classifiers: ClassifierRegistry = field(default_factory=default_registry)
    worker: str = "embedded"
    gate: PromotionGate | None = None  # set: a rule hit acts only when its rule and model versions are promoted

    def handle(self, batch: Sequence[Received]) -> BatchResult:
        ruleset = self.book.current()
        with self.db.transaction() as session:
            return self._handle(session, ruleset, batch)

    def _handle(self, session: Session, ruleset: RuleSet, batch: Sequence[Received]) -> BatchResult:
        result = BatchResult()
        fresh = _fresh(session, batch, result)
        if not fresh:
            return result
        now = self.clock.now()
        signals = self._signals(session, ruleset, fresh, now)
        events, hits, audit = [], [], AuditBatch(session, clock=self.clock)
        if self.gate is not None:
            self.gate.begin()
        for item in fresh:
            bump_counters(signals, item.event)
            context = EventContext(item.event, signals, now=now)
            verdict = evaluate(context)
            if verdict.hits:
                hits += self._hits(session, signals, ruleset, context, verdict, now, audit)
            events.append(_event_row(item, verdict, now, self.worker))
            result.handled.append(verdict)
        # Core inserts on the tables: one executemany each, without the ORM's per-row bookkeeping.
        # The event and hit rows are new rows of this batch alone, so they go first; then the
        # rows other workers share, in one order (the audit head, then the counters, sorted),
        # so that concurrent workers wait for each other only for those and the commit.
        insert_many(session, _INSERT_EVENTS, events)
        insert_many(session, _INSERT_HITS, hits)
        signals.labels.flush(session)
        audit.flush()
        signals.counters.flush(session)
        add_totals(session, worker=self.worker, events=len(events), hits=Counter((h["rule"], h["shadow"]) for h in hits))
        return result

    def _signals(self, session: Session, ruleset: RuleSet, fresh: list[Received], now: datetime) -> Signals:
        counters, labels = Counters(), Labels()
        if ruleset.counters:
            keys = [
                counter_key(s.kind, s.field, v) for s in ruleset.counters for r in fresh if (v := getattr(r.event, s.field, None))
            ]
            counters.load(session, keys, since=window_start(min(r.event.occurred_at for r in fresh)))
        if ruleset.uses_labels:
            entities = [entity_of(r.event, f) for f in ruleset.label_fields for r in fresh]
            labels.load(session, [(k, v) for k, v in entities if v is not None], now=now)
        media = [(r.event.platform, m) for r in fresh for m in getattr(r.event, "media", ())]
        hashes = self.hashes
        if isinstance(hashes, SessionHashMatcher):  # the banks: confirmed in this transaction, hashes remembered
            hashes = hashes.bound(session, clock=self.clock, media=media)
        signals = Signals(ruleset, self.classifiers, hashes, counters, labels)
        signals.prefetch_pdq([m.pdq for _, m in media if m.pdq])
        return signals

    def _hits(
        self,
        session: Session,
        signals: Signals,
        ruleset: RuleSet,
        context: EventContext,
        verdict: Verdict,
        now: datetime,
        audit: AuditBatch,
    ) -> list[dict]:
        rows = []
        event = context.event
        for rule in verdict.hits:
            deciders = (
                rule_decider(rule.ruleset, rule.name, rule.version),
                *model_deciders(context.models_used(), rule.classifiers),
            )
            pending = self.gate.pending(session, deciders, at=now) if self.gate is not None else []
            shadow = rule.shadow or bool(pending)
            if shadow:
                effects = [dict(e.describe(), would=True) for e in rule.effects]
                if pending:
                    waiting = [f"{v.kind}:{v.name}@{v.version}" for v in pending]
                    effects = [dict(e, awaiting_promotion=waiting) for e in effects]
                    record_shadow(
                        session,
                        pending,
                        event_id=event.id,
                        rule_ref=rule.ref,
                        subject=tuple(map(str, subject_of(event))),  # type: ignore[arg-type]
                        effects=effects,
                        at=now,
                    )
            else:
                effect_context = EffectContext(
                    session,
                    self.clock,
                    self.platform,
                    signals.labels,
                    rule,
                    event,
                    ruleset.version,
                    self.pager,
                    audit,
                    deciders=deciders,
                )
                effects = apply_effects(effect_context)
            rows.append(
                {
                    "event_id": event.id,
                    "ruleset": rule.ruleset,
                    "ruleset_version": _file_version(ruleset, rule.ruleset),
                    "rule": rule.name,
                    "rule_version": rule.version,
                    "shadow": shadow,
                    "effects": effects,
                    "at": now,
                }
            )
        return rows


def _fresh(session: Session, batch: Sequence[Received], result: BatchResult) -> list[Received]:
    ids = list(dict.fromkeys(r.event.id for r in batch))
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        known |= set(session.scalars(select(HandledEvent.event_id).where(HandledEvent.event_id.in_(ids[start : start + 500]))))
    fresh, seen = [], set()
    for item in batch:
        if item.event.id in known or item.event.id in seen:
            result.duplicates.append(item.event.id)
            continue
        seen.add(item.event.id)
        fresh.append(item)
    return fresh


def bump_counters(signals: Signals, event: Event) -> None:
    for spec in signals.ruleset.counters:
        if spec.kind == event.kind and (value := getattr(event, spec.field, None)):
            signals.counters.add(counter_key(spec.kind, spec.field, value), event.occurred_at)


def _event_row(item: Received, verdict: Verdict, now: datetime, worker: str) -> dict:
    event = item.event
    return {
        "event_id": event.id,
        "kind": str(event.kind),
        "platform": event.platform,
        "actor": event.actor,
        "occurred_at": event.occurred_at,
        "handled_at": now,
        "payload": item.raw,
        "verdicts": verdict.names,
        "hits": len(verdict.hits),
        "worker": worker,
    }


def _file_version(ruleset: RuleSet, name: str) -> int:
    return next((f.version for f in ruleset.files if f.ruleset == name), 0)
