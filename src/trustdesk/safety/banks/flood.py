"""The flood guard: a bad list entry (say, a PDQ hash of a blank frame or a popular meme
added by mistake) must not take down thousands of innocent uploads.

Each match of an entry by an upload is counted per clock hour. When the current hour's count
reaches `min_hits` and is more than `factor` times the entry's average hourly count over the
previous week, the entry is paused: it still matches and is still reported, but with
`action_paused`, so nothing acts on it automatically; a person is paged (or, with nobody on
call, the alert waits in the console) and decides to resume it or disable it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.database import rows_matched
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.paging import Pager, PageUrgency, page_on_call
from trustdesk.safety.banks.models import BankEntry, EntryHits, FloodAlert


@dataclass(frozen=True)
class FloodPolicy:
    min_hits: int = 50
    factor: float = 10.0
    baseline_hours: int = 168


DEFAULT_POLICY = FloodPolicy()


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _increment(session: Session, *, entry_id: int, hour: datetime) -> int:
    """Add one hit, safe against a concurrent first insert of the same (entry, hour)."""
    bump = update(EntryHits).where(EntryHits.entry_id == entry_id, EntryHits.hour == hour).values(hits=EntryHits.hits + 1)
    if rows_matched(session.execute(bump)) == 0:
        try:
            with session.begin_nested():
                session.add(EntryHits(entry_id=entry_id, hour=hour, hits=1))
        except IntegrityError:
            session.execute(bump)
    return session.scalar(select(EntryHits.hits).where(EntryHits.entry_id == entry_id, EntryHits.hour == hour)) or 0


def baseline(session: Session, *, entry_id: int, hour: datetime, hours: int) -> float:
    """Average hits per hour over the `hours` before `hour` (empty hours count as zero)."""
    since = hour - timedelta(hours=hours)
    total = (
        session.scalar(
            select(func.coalesce(func.sum(EntryHits.hits), 0)).where(
                EntryHits.entry_id == entry_id, EntryHits.hour >= since, EntryHits.hour < hour
            )
        )
        or 0
    )
    return total / hours


def count_hits(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    entry_ids: list[int],
    pager: Pager | None = None,
    policy: FloodPolicy = DEFAULT_POLICY,
    base_url: str = "",
) -> list[FloodAlert]:
    """Count one upload's matches; pause and alert on entries that flood. Returns new alerts."""
    hour = _hour(clock.now())
    alerts = []
    for entry_id in sorted(set(entry_ids)):
        hits = _increment(session, entry_id=entry_id, hour=hour)
        if hits < policy.min_hits:
            continue
        usual = baseline(session, entry_id=entry_id, hour=hour, hours=policy.baseline_hours)
        if hits > policy.factor * usual:
            alert = _pause(
                session, actor=actor, clock=clock, entry_id=entry_id, hits=hits, usual=usual, pager=pager, base_url=base_url
            )
            alerts.extend([alert] if alert else [])
    return alerts


def _pause(
    session: Session, *, actor: Actor, clock: Clock, entry_id: int, hits: int, usual: float, pager: Pager | None, base_url: str
) -> FloodAlert | None:
    entry = session.get(BankEntry, entry_id, with_for_update=True)
    if entry is None or entry.flood_paused_at is not None:
        return None
    entry.flood_paused_at = clock.now()
    alert = FloodAlert(entry_id=entry.id, bank_id=entry.bank_id, raised_at=clock.now(), hits=hits, baseline=round(usual, 3))
    session.add(alert)
    session.flush()
    reason = f"entry {entry.id} of bank '{entry.bank.name}' matched {hits} uploads this hour (usually {usual:.1f})"
    record(
        session,
        actor=actor,
        clock=clock,
        action="bank.entry.flood_pause",
        object_type="bank_entry",
        object_id=entry.id,
        reason=reason,
        details={"hits": hits, "baseline": round(usual, 3), "alert_id": alert.id},
    )
    alert.paging_note = _page(session, actor=actor, clock=clock, alert=alert, reason=reason, pager=pager, base_url=base_url)
    return alert


def _page(
    session: Session, *, actor: Actor, clock: Clock, alert: FloodAlert, reason: str, pager: Pager | None, base_url: str
) -> str:
    if pager is None:
        return "no pager configured: shown in the console only"
    try:
        page = page_on_call(
            session,
            pager=pager,
            actor=actor,
            urgency=PageUrgency.EMERGENCY,
            subject=f"Hash flood: {reason}"[:200],
            body=f"Automatic actions for the entry are paused. Review at {base_url}/console/safety/banks",
            object_type="flood_alert",
            object_id=alert.id,
            base_url=base_url,
            clock=clock,
        )
    except Conflict as exc:
        return f"not paged: {exc.detail}"
    alert.page_id = page.id
    return f"paged (page {page.id})"


def resolve(session: Session, *, actor: Actor, clock: Clock, alert_id: int, resume: bool, reason: str) -> FloodAlert:
    """A person's answer: resume automatic actions for the entry, or keep it paused (and
    usually disable it, which is a separate, audited bank operation)."""
    if not reason.strip():
        raise InvalidInput("Say why: a reason is required to resolve a flood alert.", field="reason")
    alert = session.get(FloodAlert, alert_id)
    if alert is None:
        raise NotFound(f"No flood alert {alert_id}.")
    if alert.resolved_at is not None:
        raise Conflict(f"Flood alert {alert_id} was resolved already by {alert.resolved_by}.")
    alert.resolved_at, alert.resolved_by = clock.now(), str(actor)
    alert.resolution = ("resumed: " if resume else "kept paused: ") + reason.strip()
    if resume:
        session.get_one(BankEntry, alert.entry_id).flood_paused_at = None
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="bank.flood_alert.resolve",
        object_type="flood_alert",
        object_id=alert.id,
        reason=reason,
        details={"resume": resume, "entry_id": alert.entry_id},
    )
    return alert


def open_alerts(session: Session, *, limit: int = 50) -> list[FloodAlert]:
    query = select(FloodAlert).where(FloodAlert.resolved_at.is_(None)).order_by(FloodAlert.raised_at.desc())
    return list(session.scalars(query.limit(limit)))
