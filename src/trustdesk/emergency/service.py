"""What the console, the API and the CLI read from the lane: everything open, nearest
deadline first, so that the banner on every console page and the emergencies page agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from trustdesk.core.paging import LIVE_STATES, Page, PageDelivery, PageState
from trustdesk.emergency import removal as removal_rules
from trustdesk.emergency import threat_to_life
from trustdesk.emergency.models import Removal, RemovalState, ThreatCase
from trustdesk.legal.clocks import describe_time_left
from trustdesk.legal.models import Agency, LawfulRequest

NEEDS_A_PERSON = (RemovalState.AWAITING_PERSON, RemovalState.FAILED, RemovalState.AUTO_REMOVED)


@dataclass(frozen=True)
class RemovalRow:
    removal: Removal
    reference: str
    time_left: str
    overdue: bool
    request: LawfulRequest | None = None
    agency: Agency | None = None
    waiting_for: tuple[str, ...] = ()  # missing elements: the hour starts when the last arrives

    @property
    def held(self) -> bool:
        """Waiting for the call-back: a person cannot remove it yet (their own permissions
        move the request, and a held request does not move)."""
        return self.request is not None and self.request.held


@dataclass(frozen=True)
class PageRow:
    page: Page
    last: PageDelivery | None  # who was paged last, on which channel, and whether it went out


@dataclass(frozen=True)
class LaneFailure:
    """A TCO order the lane failed on and retries on every sweep."""

    request_id: int
    reference: str
    error: str
    attempts: int
    last_at: datetime


@dataclass(frozen=True)
class Overview:
    removals: list[RemovalRow]  # waiting for a person: to remove, or to confirm
    threats: list[ThreatCase]  # drafts to confirm and send
    pages: list[Page]  # not acknowledged
    failures: list[LaneFailure] = field(default_factory=list)  # the lane failed; retried on every sweep

    @property
    def open_count(self) -> int:
        return len(self.removals) + len(self.threats) + len(self.pages) + len(self.failures)

    @property
    def most_urgent(self) -> RemovalRow | None:
        """The order whose hour runs out first, for the banner; removed ones come after."""
        return self.removals[0] if self.removals else None


def _row(session: Session, removal: Removal, now: datetime) -> RemovalRow:
    request = session.get(LawfulRequest, removal.request_id)
    assert request is not None
    done = removal.removed_at is not None
    left = None if done or request.due_at is None else request.due_at - now
    missing = () if done else tuple(removal_rules.waiting_for(request))
    if done:
        shown = "removed"
    elif missing:
        shown = f"waiting for {', '.join(k.replace('_', ' ') for k in missing)}; the hour starts when it arrives"
    else:
        shown = describe_time_left(left)
    return RemovalRow(
        removal,
        request.reference,
        shown,
        bool(left and left.total_seconds() < 0),
        request,
        session.get(Agency, request.agency_id),
        missing,
    )


def overview(session: Session, *, now: datetime) -> Overview:
    query = select(Removal).where(Removal.state.in_([s.value for s in NEEDS_A_PERSON])).order_by(Removal.due_at)
    rows = [_row(session, r, now) for r in session.scalars(query)]
    rows.sort(key=lambda r: (r.removal.removed_at is not None, r.removal.due_at or now))
    # Unanswered pages stay: a page that went round the whole rota needs a person most of all.
    pages = list(session.scalars(select(Page).where(Page.state.in_(LIVE_STATES)).order_by(Page.created_at)))
    return Overview(rows, threat_to_life.open_cases(session), pages, lane_failures(session))


def lane_failures(session: Session) -> list[LaneFailure]:
    return [
        LaneFailure(
            request_id, str(e.details.get("request", request_id)), e.reason or "", int(e.details.get("attempts", 1)), e.at
        )
        for request_id, e in sorted(removal_rules.lane_failures(session).items())
    ]


def recent_removals(session: Session, *, now: datetime, limit: int = 50) -> list[RemovalRow]:
    return [_row(session, r, now) for r in session.scalars(select(Removal).order_by(Removal.id.desc()).limit(limit))]


def _last_delivery(session: Session, page: Page) -> PageDelivery | None:
    query = select(PageDelivery).where(PageDelivery.page_id == page.id).order_by(PageDelivery.id.desc()).limit(1)
    return session.scalar(query)


def page_rows(session: Session, pages: list[Page]) -> list[PageRow]:
    return [PageRow(page, _last_delivery(session, page)) for page in pages]


def escalations(session: Session, *, limit: int = 20) -> list[PageRow]:
    """Pages that went past the first person (or round the whole rota unanswered), latest
    first: the trail a lead reads to see who was called when nobody answered."""
    query = (
        select(Page)
        .where(or_(Page.level > 0, Page.state == PageState.UNANSWERED))
        .order_by(Page.last_paged_at.desc(), Page.id.desc())
        .limit(limit)
    )
    return page_rows(session, list(session.scalars(query)))
