"""What the console, the API and the CLI read from the lane: everything open, nearest
deadline first, so that the banner on every console page and the emergencies page agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.emergency import threat_to_life
from trustdesk.emergency.models import Removal, RemovalState, ThreatCase
from trustdesk.emergency.paging_models import Page, PageState
from trustdesk.legal.clocks import describe_time_left
from trustdesk.legal.models import LawfulRequest

NEEDS_A_PERSON = (RemovalState.AWAITING_PERSON, RemovalState.FAILED, RemovalState.AUTO_REMOVED)


@dataclass(frozen=True)
class RemovalRow:
    removal: Removal
    reference: str
    time_left: str
    overdue: bool


@dataclass(frozen=True)
class Overview:
    removals: list[RemovalRow]  # waiting for a person: to remove, or to confirm
    threats: list[ThreatCase]  # drafts to confirm and send
    pages: list[Page]  # not acknowledged

    @property
    def open_count(self) -> int:
        return len(self.removals) + len(self.threats) + len(self.pages)


def _row(session: Session, removal: Removal, now: datetime) -> RemovalRow:
    request = session.get(LawfulRequest, removal.request_id)
    assert request is not None
    done = removal.removed_at is not None
    left = None if done or request.due_at is None else request.due_at - now
    return RemovalRow(removal, request.reference, "removed" if done else describe_time_left(left), bool(left and left.total_seconds() < 0))


def overview(session: Session, *, now: datetime) -> Overview:
    query = select(Removal).where(Removal.state.in_([s.value for s in NEEDS_A_PERSON])).order_by(Removal.due_at)
    rows = [_row(session, r, now) for r in session.scalars(query)]
    rows.sort(key=lambda r: (r.removal.removed_at is not None, r.removal.due_at or now))
    pages = list(session.scalars(select(Page).where(Page.state == PageState.OPEN).order_by(Page.created_at)))
    return Overview(rows, threat_to_life.open_cases(session), pages)


def recent_removals(session: Session, *, now: datetime, limit: int = 50) -> list[RemovalRow]:
    return [_row(session, r, now) for r in session.scalars(select(Removal).order_by(Removal.id.desc()).limit(limit))]
