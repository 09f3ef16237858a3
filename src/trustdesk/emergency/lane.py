"""Running the lane: take every TCO order in as soon as the transaction that received it (or
that completed it) commits, and sweep on a schedule (the `emergency.sweep` job, emergency/jobs.py) for anything a crash
or another process left.

The trigger is a session event on this process's database: after a commit in which a TCO
request was added or changed, the lane runs in a transaction of its own. The legal domain
stays unaware of the lane; the order is already safely stored (and its receipt signed) before
the lane touches it, and a failure of the lane never undoes the intake: the sweep
(`trustdesk emergency run`, or the scheduled job) retries it."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

from trustdesk.core.database import Database
from trustdesk.core.paging import escalate_due
from trustdesk.core.urls import Audience, base
from trustdesk.emergency import flows, removal
from trustdesk.emergency.models import Removal
from trustdesk.legal.models import LawfulRequest
from trustdesk.legal.workflow import FINAL

if TYPE_CHECKING:
    from trustdesk.http.container import Container

log = logging.getLogger(__name__)
PENDING_KEY = "emergency_tco_pending"
LANE_SESSION = "emergency_lane"
_INSTALLED: weakref.WeakSet[object] = weakref.WeakSet()
FINAL_STATES = frozenset(str(s) for s in FINAL)  # a refused or closed order is not the lane's


def process_pending(session: Session, *, lane: removal.Lane) -> list[Removal]:
    """Take in every order waiting for the lane; each is idempotent, and each in a savepoint
    of its own: one order that fails never stops the others (a failure is recorded, paged and
    retried on the next sweep, `take_in_guarded`)."""
    taken = []
    for request_id in removal.pending_orders(session):
        done = take_in_guarded(session, lane=lane, request_id=request_id)
        if done is not None:
            taken.append(done)
    return taken


def take_in_guarded(session: Session, *, lane: removal.Lane, request_id: int) -> Removal | None:
    """Take one order in; on any failure, undo what it had done (a savepoint), then record the
    failure, page on-call once and leave it for the sweep's retry. A later success is
    recorded as the recovery. Returns None when it failed."""
    try:
        with session.begin_nested():
            done = flows.take_in(session, lane=lane, request_id=request_id)
    except Exception as exc:  # noqa: BLE001 - any failure of the lane is recorded and paged, never swallowed
        log.exception("emergency lane: taking in TCO order %s failed; recorded, paged, retried by the sweep", request_id)
        removal.lane_failed(session, lane=lane, request_id=request_id, error=f"{type(exc).__name__}: {exc}")
        return None
    removal.lane_recovered(session, lane=lane, request_id=request_id)
    return done


def tick(db: Database, *, lane: removal.Lane) -> int:
    """One round of the worker: new orders, deadline pages, page escalation. Returns how many
    orders were taken in."""
    with db.transaction() as session:
        session.info[LANE_SESSION] = True
        taken = process_pending(session, lane=lane)
        removal.scan_deadlines(session, lane=lane)
        if lane.pager is not None:
            escalate_due(session, pager=lane.pager, actor=removal.LANE_ACTOR, clock=lane.clock, base_url=lane.base_url)
    return len(taken)


def _collect(session: Session, _context: object) -> None:
    if session.info.get(LANE_SESSION):
        return
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, LawfulRequest) and obj.instrument == removal.TCO and obj.state not in FINAL_STATES:
            session.info.setdefault(PENDING_KEY, set()).add(obj.id)


def install(db: Database, lane: Callable[[], removal.Lane | None]) -> None:
    """Run the lane right after any commit that received or changed a TCO order. `lane`
    builds the lane when needed (None: the platform is not ready, the sweep will do it)."""
    factory = db.session_factory  # the sessions of this database only, not every Session in the process
    if factory in _INSTALLED:
        return
    _INSTALLED.add(factory)

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint was released, not the transaction: the order is not stored yet
        pending = session.info.pop(PENDING_KEY, None)
        current = lane() if pending else None
        if current is None:
            return
        try:
            with db.transaction() as own:
                own.info[LANE_SESSION] = True
                for request_id in sorted(pending):
                    take_in_guarded(own, lane=current, request_id=request_id)
        except Exception:  # the order is stored; the sweep retries. Never fail the intake.
            log.exception("emergency lane: taking in TCO orders %s failed; the sweep will retry", sorted(pending))

    def after_rollback(session: Session) -> None:
        session.info.pop(PENDING_KEY, None)

    event.listen(factory, "after_flush", _collect)
    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", lambda session, _previous: after_rollback(session))


def lane_of(container: Container) -> removal.Lane | None:
    """The lane of a running Trustdesk: its platform, clock and pager (None until the
    platform adapter is set)."""
    if container.platform is None:
        return None
    return removal.Lane(
        platform=container.platform,
        clock=container.clock,
        pager=container.pager,
        base_url=base(container.settings, Audience.CONSOLE),
    )


def install_for(container: Container) -> None:
    """What `create_app` calls: the lane follows this container's database."""
    install(container.db, lambda: lane_of(container))
