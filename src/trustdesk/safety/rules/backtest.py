"""Backtest: run rules over stored events to see their hits before they go live.

Nothing is changed on the platform, no label is set, no case opened: every rule is
evaluated as if in shadow, with counters rebuilt from the replayed events themselves
(so `count(...)` sees the traffic of the period as it arrived) and labels as they stand
now. The result is stored, with an audit entry, so the console can show it next to the rule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import InvalidInput
from trustdesk.safety.classifiers import ClassifierRegistry, default_registry
from trustdesk.safety.pipeline.context import EventContext, Signals
from trustdesk.safety.pipeline.engine import evaluate
from trustdesk.safety.pipeline.events import Event, parse_event
from trustdesk.safety.pipeline.handling import bump_counters
from trustdesk.safety.pipeline.hashes import HashMatcher, NoHashMatcher, SessionHashMatcher
from trustdesk.safety.pipeline.models import Backtest, HandledEvent
from trustdesk.safety.pipeline.retention import PURGED
from trustdesk.safety.pipeline.state import Counters, Labels
from trustdesk.safety.rules.model import RuleFile
from trustdesk.safety.rules.ruleset import build_ruleset

SAMPLES = 10
MAX_EVENTS = 1_000_000


@dataclass
class RuleTally:
    version: int
    mode: str
    hits: int = 0
    samples: list[str] = field(default_factory=list)


def stored_events(session: Session, *, since: datetime | None, until: datetime | None, chunk: int = 2000) -> Iterator[Event]:
    """Stored events in the order they happened, read a chunk at a time."""
    last: tuple[datetime, str] | None = None
    while True:
        query = (
            select(HandledEvent.occurred_at, HandledEvent.event_id, HandledEvent.payload)
            .order_by(HandledEvent.occurred_at, HandledEvent.event_id)
            .limit(chunk)
        )
        query = query.where(HandledEvent.payload != PURGED)  # past retention: nothing left to run rules on
        if since:
            query = query.where(HandledEvent.occurred_at >= since)
        if until:
            query = query.where(HandledEvent.occurred_at < until)
        if last:
            query = query.where(
                (HandledEvent.occurred_at > last[0]) | ((HandledEvent.occurred_at == last[0]) & (HandledEvent.event_id > last[1]))
            )
        rows = session.execute(query).all()
        if not rows:
            return
        for _, _, payload in rows:
            yield parse_event(payload)
        last = (rows[-1][0], rows[-1][1])


def run_backtest(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    rule_file: RuleFile,
    since: datetime | None = None,
    until: datetime | None = None,
    hashes: HashMatcher | SessionHashMatcher | None = None,
    classifiers: ClassifierRegistry | None = None,
    progress: Callable[[int], object] | None = None,
) -> Backtest:
    if since and until and since >= until:
        raise InvalidInput("The backtest period must end after it starts.")
    ruleset = build_ruleset([rule_file])
    now = clock.now()
    if isinstance(hashes, SessionHashMatcher):  # the banks' matcher, as the handler uses it: bound to this
        hashes = hashes.bound(session, clock=clock, media=())  # transaction, with no media to remember
    signals = Signals(ruleset, classifiers or default_registry(), hashes or NoHashMatcher(), Counters(), Labels())
    tallies = {r.name: RuleTally(r.version, str(r.mode)) for r in ruleset.rules}
    scanned = 0
    for event in stored_events(session, since=since, until=until):
        scanned += 1
        bump_counters(signals, event)
        for rule in evaluate(EventContext(event, signals, now=now)).hits:
            tally = tallies[rule.name]
            tally.hits += 1
            if len(tally.samples) < SAMPLES:
                tally.samples.append(event.id)
        if progress is not None:
            progress(1)
        if scanned >= MAX_EVENTS:
            break
    return _store(
        session, actor=actor, clock=clock, rule_file=rule_file, since=since, until=until, scanned=scanned, tallies=tallies
    )


def _store(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    rule_file: RuleFile,
    since: datetime | None,
    until: datetime | None,
    scanned: int,
    tallies: dict[str, RuleTally],
) -> Backtest:
    results = {name: {"version": t.version, "mode": t.mode, "hits": t.hits, "samples": t.samples} for name, t in tallies.items()}
    row = Backtest(
        ruleset=rule_file.ruleset,
        ruleset_version=rule_file.version,
        digest=rule_file.digest,
        since=since,
        until=until,
        events=scanned,
        results=results,
        run_at=clock.now(),
        run_by=str(actor),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="pipeline.backtest.run",
        object_type="pipeline_backtest",
        object_id=row.id,
        policy_version=f"{rule_file.ruleset}@{rule_file.version}",
        details={
            "ruleset": rule_file.ruleset,
            "digest": rule_file.digest,
            "events": scanned,
            "hits": {n: t.hits for n, t in tallies.items()},
        },
    )
    return row


def latest_backtests(session: Session, *, limit: int = 10) -> list[Backtest]:
    return list(session.scalars(select(Backtest).order_by(Backtest.id.desc()).limit(limit)))
