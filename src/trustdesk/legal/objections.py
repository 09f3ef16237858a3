"""The notified enforcing State's answer on a European Production Order (Reg. 2023/1543
Arts. 8, 10 and 12), however it arrives: staff record it from a letter, the enforcing
authority records it in the portal or the API, the e-Evidence channel records the WISP
`groundsforrefusal` message (FullGroundsForRefusal, PartialGroundsForRefusal,
NoGroundsForRefusal) by calling `record_answer` with its own principal.

- no grounds: the data may go out at once (Art. 10(2): "as soon as possible");
- partial grounds: the categories named are never produced; the rest may go out at once;
- full grounds: nothing is produced (Art. 12);
- a window that ends with no answer is recorded as LAPSED by the job `legal.enforcing_state_lapse`
  (never as cleared): the data go out at the end of the 10 days, the record saying why.

Until then the data are preserved (holds at receipt, intake)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock, as_utc
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, acts_for_authority, authorize
from trustdesk.legal import service as legal_requests
from trustdesk.legal.models import Agency, EnforcingStateAnswer, EnforcingStateAnswerKind, LawfulRequest
from trustdesk.legal.workflow import FINAL
from trustdesk.platform.port import DataCategory

Kind = EnforcingStateAnswerKind
ANSWERABLE = frozenset({Kind.NO_GROUNDS, Kind.PARTIAL_GROUNDS, Kind.FULL_GROUNDS})


class Via(StrEnum):
    STAFF = "staff"
    PORTAL = "portal"
    API = "api"
    EEVIDENCE = "eevidence"  # the WISP channel
    JOB = "job"  # only for LAPSED


def _may_answer(session: Session, principal: Principal, request: LawfulRequest) -> None:
    """Staff who handle requests, the e-Evidence channel, or an authority of the notified
    State itself (never the issuing authority: it cannot clear its own order). To any other
    authority the order does not exist."""
    if not acts_for_authority(principal):  # staff, their tokens, the channel (an officer without agency: refused here)
        authorize(principal, Permission.REQUESTS_HANDLE)
        return
    authorize(principal, Permission.PORTAL_SUBMIT)
    agency = session.get(Agency, principal.agency_id) if principal.agency_id is not None else None
    if agency is None or agency.country != request.enforcing_state or agency.id == request.agency_id:
        raise NotFound(f"No request {request.id} that you may see.")


def _load(session: Session, request_id: int) -> LawfulRequest:
    request = session.get(LawfulRequest, request_id)
    if request is None:
        raise NotFound(f"No request {request_id} that you may see.")
    return request


def _categories(request: LawfulRequest, kind: Kind, values: Iterable[str]) -> list[str]:
    try:
        named = sorted({DataCategory(v).value for v in values})
    except ValueError:
        raise InvalidInput(f"Unknown data category in {list(values)}; known: {', '.join(DataCategory)}.") from None
    if kind is Kind.PARTIAL_GROUNDS:
        if not named or not set(named) <= set(request.categories):
            raise InvalidInput(f"Partial grounds name some of the order's categories: {', '.join(request.categories)}.")
        return named
    if named:
        raise InvalidInput(f"A {kind.value.replace('_', ' ')} answer names no categories.")
    return sorted(request.categories) if kind is Kind.FULL_GROUNDS else []


def record_answer(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    request_id: int,
    answer: EnforcingStateAnswerKind | str,
    via: Via | str,
    categories: Iterable[str] = (),
    note: str = "",
) -> EnforcingStateAnswer:
    """Record the enforcing State's answer; the first answer counts, a second is a conflict."""
    request = _load(session, request_id)
    if request.enforcing_state is None:
        raise Conflict("No enforcing State was notified of this order; there is no answer to record.")
    _may_answer(session, principal, request)
    try:
        kind, channel = Kind(answer), Via(via)
    except ValueError:
        raise InvalidInput(f"Answers are {', '.join(sorted(ANSWERABLE))}; channels {', '.join(Via)}.") from None
    if kind not in ANSWERABLE or channel is Via.JOB:
        raise InvalidInput("A lapse is recorded by the job when the window ends, never by hand.")
    if request.enforcing_state_answer is not None:
        raise Conflict(f"The enforcing State's answer is already recorded: {request.enforcing_state_answer}.")
    if request.state in {str(s) for s in FINAL}:
        raise Conflict(f"The order is {request.state}.")
    return _store(
        session,
        request=request,
        kind=kind,
        categories=_categories(request, kind, categories),
        via=channel,
        actor=actor,
        clock=clock,
        note=note,
    )


def _store(
    session: Session,
    *,
    request: LawfulRequest,
    kind: Kind,
    categories: list[str],
    via: Via,
    actor: Actor,
    clock: Clock,
    note: str,
) -> EnforcingStateAnswer:
    assert request.enforcing_state is not None
    row = EnforcingStateAnswer(
        request_id=request.id,
        state=request.enforcing_state,
        answer=kind.value,
        categories=categories,
        via=via.value,
        recorded_by=str(actor),
        note=note.strip(),
        at=clock.now(),
    )
    session.add(row)
    request.enforcing_state_answer, request.enforcing_state_refused = kind.value, categories
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="request.enforcing_state_answer",
        object_type="lawful_request",
        object_id=request.id,
        reason=note.strip() or None,
        details={"state": request.enforcing_state, "answer": kind.value, "categories": categories, "via": via.value},
        clock=clock,
    )
    return row


def answers_for(session: Session, *, principal: Principal, request_id: int) -> list[EnforcingStateAnswer]:
    legal_requests.get_request(session, principal=principal, request_id=request_id)
    query = select(EnforcingStateAnswer).where(EnforcingStateAnswer.request_id == request_id)
    return list(session.scalars(query.order_by(EnforcingStateAnswer.id)))


def lapse_expired(session: Session, *, actor: Actor, clock: Clock) -> list[EnforcingStateAnswer]:
    """Record LAPSED on every open order whose enforcing-state window ended unanswered."""
    query = (
        select(LawfulRequest)
        .where(
            LawfulRequest.enforcing_state.is_not(None),
            LawfulRequest.enforcing_state_answer.is_(None),
            LawfulRequest.objection_ends_at.is_not(None),
            LawfulRequest.objection_ends_at <= clock.now(),
            LawfulRequest.state.not_in([str(s) for s in FINAL]),
        )
        .order_by(LawfulRequest.id)
    )
    return [
        _store(
            session,
            request=r,
            kind=Kind.LAPSED,
            categories=[],
            via=Via.JOB,
            actor=actor,
            clock=clock,
            note=f"no answer by {as_utc(r.objection_ends_at).isoformat() if r.objection_ends_at else ''}: lapsed, not cleared (Art. 10(2))",
        )
        for r in session.scalars(query).all()
    ]


def release_check(request: LawfulRequest, *, now_is_after_window: bool) -> tuple[bool, frozenset[str]]:
    """Whether the order's data may go out now, and which categories never may: full grounds,
    nothing; partial grounds, all but the named; no grounds, at once; no answer, once the
    window is over (and then the job records LAPSED)."""
    answer = request.enforcing_state_answer
    if request.enforcing_state is None or answer == Kind.NO_GROUNDS or answer == Kind.LAPSED:
        return True, frozenset()
    if answer == Kind.FULL_GROUNDS:
        return False, frozenset(request.categories)
    if answer == Kind.PARTIAL_GROUNDS:
        return True, frozenset(request.enforcing_state_refused or [])
    return now_is_after_window, frozenset()
