"""User notice: people are told that an authority asked for their data, once the case is
over, unless a non-disclosure order or the instrument says otherwise.

When a request reaches its end, one notice per targeted account is scheduled: at once
where the instrument says 'notify'; after the policy's delay for emergency disclosures;
as the issuer said where it decides (a date in the order's confidentiality section); and
never before the end date of a non-disclosure order covering the same account. A notice
without any date it may go out on is withheld and stays in the queue for review. The
non-disclosure orders are looked at again when a notice is sent, so an order that arrived
later still holds it back.

A gag holds for its whole period however the order carrying it was decided: a refused,
challenged or closed non-disclosure order, or a national court order with a confidentiality
period (its structured `confidentiality_until`), still holds every notice to the accounts it
names; only its withdrawal by the issuer lifts it. A gag without a readable end date holds
the notice until a person reviews it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.legal import service as legal_requests
from trustdesk.legal.checks import CONFIDENTIALITY
from trustdesk.legal.disclosure.models import NoticeState, UserNotice
from trustdesk.legal.instruments import InstrumentCode, load_catalogue
from trustdesk.legal.instruments import UserNotice as NoticeRule
from trustdesk.legal.models import LawfulRequest, RequestState, RequestTarget
from trustdesk.legal.policy.rules import Policy, load_policy

DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
REFUSING = re.compile(r"\b(no|not|do not|must not|ne pas|nicht)\b", re.IGNORECASE)
ENDED = frozenset({RequestState.ANSWERED, RequestState.PARTLY_ANSWERED, RequestState.REFUSED, RequestState.CLOSED})
# Only the issuer's withdrawal lifts a gag; refusing or challenging the order does not.
LIFTED = frozenset({RequestState.WITHDRAWN.value})
# The end of a gag whose order gives no readable date: it holds until a person reviews it.
NO_END = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Wait:
    not_before: datetime | None
    basis: str


def _date(text: str) -> datetime | None:
    found = DATE.search(text or "")
    if not found:
        return None
    try:
        return datetime.fromisoformat(found.group(1)).replace(tzinfo=UTC)
    except ValueError:
        return None


def gag_end(request: LawfulRequest) -> datetime | None:
    """Until when the order keeps its users uninformed: a 2705(b) order's end date (NO_END
    when it gives none), a court order's confidentiality period; None: it carries no gag."""
    if request.instrument == InstrumentCode.US_2705B_NDO.value:
        return _date(request.elements.get("end_date", "")) or NO_END
    if request.elements.get(CONFIDENTIALITY, "").strip():
        return _date(request.elements[CONFIDENTIALITY]) or NO_END
    return None


def non_disclosure_end(session: Session, *, account_id: str) -> datetime | None:
    """The latest end of the gags naming the account (NO_END for one without an end date),
    whatever was decided on the orders carrying them, unless the issuer withdrew them."""
    query = (
        select(LawfulRequest)
        .join(RequestTarget, RequestTarget.request_id == LawfulRequest.id)
        .where(RequestTarget.account_id == account_id, LawfulRequest.state.not_in(LIFTED))
    )
    ends = [gag_end(r) for r in session.scalars(query)]
    return max((e for e in ends if e is not None), default=None)


def _until(end: datetime) -> str:
    return "an end date is given" if end == NO_END else end.date().isoformat()


def instrument_wait(request: LawfulRequest, *, now: datetime, policy: Policy) -> Wait | None:
    """When the instrument lets the user be told; None where it never applies."""
    rule = load_catalogue().get(request.instrument).user_notice
    if rule is NoticeRule.NOT_APPLICABLE or rule is NoticeRule.SUSPENDED:
        return None
    if rule is NoticeRule.DELAY:
        return Wait(
            now + timedelta(days=policy.emergency_notice_delay_days),
            f"emergency: delayed {policy.emergency_notice_delay_days} days",
        )
    if rule is NoticeRule.ISSUER_DECIDES:
        said = request.elements.get("user_notice", "")
        if _date(said):
            return Wait(_date(said), f"the issuer's confidentiality section: {said.strip()[:200]}")
        if REFUSING.search(said):
            return Wait(None, f"the issuer asked for confidentiality without an end date: {said.strip()[:200]}")
    return Wait(now, "the instrument lets the user be told once the case is over")


def _combined(wait: Wait, ndo_end: datetime | None) -> Wait:
    if ndo_end is None or wait.not_before is None or ndo_end <= wait.not_before:
        return wait
    if ndo_end == NO_END:
        return Wait(None, f"{wait.basis}; a non-disclosure or confidentiality order without an end date holds it")
    return Wait(ndo_end, f"{wait.basis}; a non-disclosure order runs until {_until(ndo_end)}")


def schedule(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, request_id: int, policy: Policy | None = None
) -> list[UserNotice]:
    """Schedule the notices of a request that has ended (answered, refused or closed)."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    request = legal_requests.get_request(session, principal=principal, request_id=request_id)
    if RequestState(request.state) not in ENDED:
        raise Conflict(f"The request is {request.state}; users are told once the case is over.")
    if session.scalar(select(UserNotice.id).where(UserNotice.request_id == request.id)) is not None:
        raise Conflict("The notices of this request are already scheduled.")
    wait = instrument_wait(request, now=clock.now(), policy=policy or load_policy())
    if wait is None:
        return []
    accounts = dict.fromkeys(
        t.account_id for t in session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id)) if t.account_id
    )
    notices = [_notice(session, request=request, account_id=a, wait=wait, clock=clock) for a in accounts]
    session.add_all(notices)
    session.flush()
    for n in notices:
        audit.record(
            session,
            actor=actor,
            action="notice.schedule",
            object_type="user_notice",
            object_id=n.id,
            reason=n.basis,
            clock=clock,
            details={"request_id": request.id, "state": n.state, "not_before": n.not_before and n.not_before.isoformat()},
        )
    return notices


def _notice(session: Session, *, request: LawfulRequest, account_id: str, wait: Wait, clock: Clock) -> UserNotice:
    final = _combined(wait, non_disclosure_end(session, account_id=account_id))
    state = NoticeState.WAITING if final.not_before is not None else NoticeState.WITHHELD
    return UserNotice(
        request_id=request.id,
        account_id=account_id,
        state=state.value,
        not_before=final.not_before,
        basis=final.basis,
        created_at=clock.now(),
    )


@dataclass(frozen=True)
class Queue:
    due: list[UserNotice]
    waiting: list[UserNotice]
    withheld: list[UserNotice]
    sent: list[UserNotice]


def queue(session: Session, *, principal: Principal, clock: Clock, limit: int = 200) -> Queue:
    authorize(principal, Permission.REQUESTS_READ)
    rows = list(
        session.scalars(
            select(UserNotice).order_by(UserNotice.not_before.is_(None), UserNotice.not_before, UserNotice.id).limit(limit * 4)
        )
    )
    now = clock.now()
    waiting = [n for n in rows if n.state == NoticeState.WAITING]
    return Queue(
        due=[n for n in waiting if n.not_before and n.not_before <= now][:limit],
        waiting=[n for n in waiting if n.not_before and n.not_before > now][:limit],
        withheld=[n for n in rows if n.state == NoticeState.WITHHELD][:limit],
        sent=[n for n in rows if n.state == NoticeState.SENT][-limit:],
    )


def mark_sent(session: Session, *, actor: Actor, clock: Clock, principal: Principal, notice_id: int, channel: str) -> UserNotice:
    """Record that the user was told. Refused before the notice is due, or while a
    non-disclosure order covers the account, even one that arrived after scheduling."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    notice = session.get(UserNotice, notice_id)
    if notice is None:
        raise NotFound(f"No user notice {notice_id}.")
    if notice.state != NoticeState.WAITING:
        raise Conflict(f"This notice is {notice.state}.")
    if not channel.strip():
        raise InvalidInput("Say how the user was told (in-app message, e-mail...).")
    ndo_end = non_disclosure_end(session, account_id=notice.account_id)
    if ndo_end is not None and ndo_end > clock.now():
        raise Conflict(f"A non-disclosure order covers this account until {_until(ndo_end)}.")
    if notice.not_before is None or notice.not_before > clock.now():
        raise Conflict(
            f"This notice is not due before {notice.not_before.isoformat() if notice.not_before else 'an end date is known'}."
        )
    notice.state, notice.sent_at, notice.sent_by, notice.channel = (
        NoticeState.SENT.value,
        clock.now(),
        str(actor),
        channel.strip()[:32],
    )
    audit.record(
        session,
        actor=actor,
        action="notice.sent",
        object_type="user_notice",
        object_id=notice.id,
        details={"channel": notice.channel},
        clock=clock,
    )
    return notice
