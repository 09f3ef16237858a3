"""Requests after intake: lookup (always scoped to the caller's agency), the workflow,
messages with the authority, elements supplied later, call-backs and receipts.

Issue 4 (policy, disclosure) and the emergency lane call `get_request`, `list_requests` and
`transition`; they never query the tables themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import (
    Permission,
    Principal,
    acts_for_authority,
    authorize,
    authorize_request_handling,
    scope_requests_to_agency,
)
from trustdesk.http.pagination import Keyset, SortKey
from trustdesk.legal import clocks
from trustdesk.legal.checks import RequestParts, overall, run_checks
from trustdesk.legal.discovery import accepted_languages
from trustdesk.legal.instruments import IssuerKind, RefusalReason, load_catalogue
from trustdesk.legal.intake import Flag, language_code
from trustdesk.legal.models import (
    Agency,
    Callback,
    LawfulRequest,
    Officer,
    RequestAttachment,
    RequestMessage,
    RequestState,
    RequestTarget,
    RequestTransition,
)
from trustdesk.legal.signing import ProviderKey
from trustdesk.legal.targets import Resolution, Target, TargetKind
from trustdesk.legal.workflow import ALLOWED, FINAL, check_transition
from trustdesk.platform.port import DataCategory

MAX_MESSAGE = 10_000


def _scoped(principal: Principal) -> Select[LawfulRequest]:
    query = select(LawfulRequest)
    agency_id = scope_requests_to_agency(principal)
    return query if agency_id is None else query.where(LawfulRequest.agency_id == agency_id)


def scoped_requests(principal: Principal) -> Select[LawfulRequest]:
    """Every request `principal` may see, to filter further (`legal.finder`)."""
    return _scoped(principal)


def get_request(
    session: Session, *, principal: Principal, request_id: int | None = None, reference: str | None = None
) -> LawfulRequest:
    """One request the caller may see; another agency's request is 'not found'."""
    query = _scoped(principal)
    query = (
        query.where(LawfulRequest.id == request_id)
        if request_id is not None
        else query.where(LawfulRequest.reference == reference)
    )
    request = session.scalar(query)
    if request is None:
        raise NotFound(f"No request {reference or request_id} that you may see.")
    return request


NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)  # sorts requests without a deadline last
QUEUE_ORDER = Keyset(
    (
        SortKey(func.coalesce(LawfulRequest.due_at, NO_DEADLINE), "due", instant=True, read=lambda r: r.due_at or NO_DEADLINE),
        SortKey(LawfulRequest.received_at, "received_at", instant=True),
        SortKey(LawfulRequest.id, "id"),
    )
)


def list_requests(
    session: Session,
    *,
    principal: Principal,
    open_only: bool = False,
    state: RequestState | None = None,
    limit: int = 200,
    cursor: str | None = None,
) -> list[LawfulRequest]:
    """Sorted by time left: the nearest deadline first, requests without one last."""
    return page_requests(session, principal=principal, open_only=open_only, state=state, limit=limit, cursor=cursor)[0]


def page_requests(
    session: Session,
    *,
    principal: Principal,
    open_only: bool = False,
    state: RequestState | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[LawfulRequest], str | None]:
    """A page of the queue in `list_requests`' order and the cursor of the next one (None at
    the end): keyset pagination, so nothing lies hidden past a cap (issue #19)."""
    query = _scoped(principal)
    if open_only:
        query = query.where(LawfulRequest.state.not_in([str(s) for s in FINAL]))
    if state is not None:
        query = query.where(LawfulRequest.state == str(state))
    return QUEUE_ORDER.page(session, query, cursor=cursor, limit=limit)


def transition(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    request_id: int,
    to_state: RequestState,
    reason: str,
    refusal_reason: RefusalReason | None = None,
) -> LawfulRequest:
    """Move a request along the state machine, with its reason, as a row and an audit entry."""
    authorize_request_handling(principal)
    request = get_request(session, principal=principal, request_id=request_id)
    current = RequestState(request.state)
    check_transition(current, to_state, by_authority=acts_for_authority(principal))
    if not reason.strip():
        raise InvalidInput("Every change of state needs a reason; it is kept in the record.")
    if to_state is RequestState.REFUSED and refusal_reason is None:
        raise InvalidInput(
            "A refusal needs its reason from Annex III (incomplete, manifest error, not held, immunities, third-country conflict, other)."
        )
    if request.held and to_state not in (RequestState.REFUSED, RequestState.WITHDRAWN, RequestState.CLARIFICATION_REQUESTED):
        raise Conflict("This request is held until a call-back to the agency's registered number confirms it.")
    _move(session, request=request, to_state=to_state, actor=actor, clock=clock, reason=reason, refusal_reason=refusal_reason)
    return request


def _move(
    session: Session,
    *,
    request: LawfulRequest,
    to_state: RequestState,
    actor: Actor,
    clock: Clock,
    reason: str,
    refusal_reason: RefusalReason | None = None,
) -> None:
    before, request.state = request.state, str(to_state)
    session.add(
        RequestTransition(
            request_id=request.id,
            from_state=before,
            to_state=request.state,
            actor=str(actor),
            reason=reason.strip(),
            refusal_reason=refusal_reason and str(refusal_reason),
            at=clock.now(),
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="request.transition",
        object_type="lawful_request",
        object_id=request.id,
        reason=reason.strip(),
        details={"reference": request.reference, "refusal_reason": refusal_reason and str(refusal_reason)},
        change={"state": [before, request.state]},
        clock=clock,
    )


def withdraw(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, request_id: int, reason: str
) -> LawfulRequest:
    return transition(
        session,
        actor=actor,
        clock=clock,
        principal=principal,
        request_id=request_id,
        to_state=RequestState.WITHDRAWN,
        reason=reason,
    )


def post_message(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, request_id: int, body: str
) -> RequestMessage:
    """A message between staff and the authority, kept with the request."""
    authorize_request_handling(principal)
    request = get_request(session, principal=principal, request_id=request_id)
    text = body.strip()
    if not text or len(text) > MAX_MESSAGE:
        raise InvalidInput(f"A message is 1 to {MAX_MESSAGE} characters.")
    message = RequestMessage(
        request_id=request.id, from_authority=acts_for_authority(principal), author=principal.name, body=text, sent_at=clock.now()
    )
    session.add(message)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="request.message",
        object_type="lawful_request",
        object_id=request.id,
        details={"message_id": message.id, "from_authority": message.from_authority},
        clock=clock,
    )
    return message


def supply_elements(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    request_id: int,
    elements: dict[str, str],
    language: str | None = None,
) -> LawfulRequest:
    """Missing elements arrive: the checklist is run again, the TCO hour restarts from now,
    and a request waiting on clarification goes back to 'received'. With `language`, they are
    the translation of the order's core elements into an accepted language (DSA Arts.
    9(2)(c), 10(2)(c)): every required section must be in it, and the order can then be
    decided; the original wording stays in the audit record."""
    authorize_request_handling(principal)
    request = get_request(session, principal=principal, request_id=request_id)
    if RequestState(request.state) in FINAL:
        raise Conflict(f"Request {request.reference} is {request.state}; nothing more can be added.")
    instrument = load_catalogue().get(request.instrument)
    keys = {s.key for s in instrument.sections}
    given = {k: v.strip() for k, v in elements.items() if v and v.strip()}
    if not given or set(given) - keys:
        raise InvalidInput(f"Give one or more of the sections of {instrument.name}: {', '.join(sorted(keys))}.")
    if language is not None:
        request.translated_to = _translation_language(language, instrument.required_elements, given)
    before, request.elements = dict(request.elements), {**request.elements, **given}
    _recheck(session, request=request, clock=clock)
    audit.record(
        session,
        actor=actor,
        action="request.elements",
        object_type="lawful_request",
        object_id=request.id,
        details={"sections": sorted(given), "verdict": request.verdict, "translated_to": request.translated_to},
        change={"elements": [before, request.elements]},
        clock=clock,
    )
    if request.state == RequestState.CLARIFICATION_REQUESTED:
        _move(
            session,
            request=request,
            to_state=RequestState.RECEIVED,
            actor=actor,
            clock=clock,
            reason="the authority supplied what was asked",
        )
    return request


def _translation_language(language: str, required: tuple[str, ...], given: dict[str, str]) -> str:
    code = language_code(language)
    accepted = accepted_languages()
    if code not in accepted:
        raise InvalidInput(f"A translation must be in a language the provider accepts: {', '.join(sorted(accepted))}.")
    missing = [k for k in required if k not in given]
    if missing:
        raise InvalidInput(f"A translation gives every core element of the order; missing: {', '.join(missing)}.")
    return code


def _recheck(session: Session, *, request: LawfulRequest, clock: Clock) -> None:
    instrument = load_catalogue().get(request.instrument)
    rows = list(session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id)))
    resolutions = [
        (Target(TargetKind(r.kind), r.raw, r.normalised), Resolution(r.resolved, r.account_id, r.message_id, r.note))
        for r in rows
    ]
    parts = RequestParts(
        instrument,
        IssuerKind(request.issuer_kind),
        frozenset(DataCategory(c) for c in request.categories),
        request.elements,
        request.emergency,
        request.period_start,
        request.period_end,
        resolutions,
        request.enforcing_state_notified,
        language=request.language,
        accepted_languages=accepted_languages(),
        translated_to=request.translated_to,
    )
    items = run_checks(parts)
    request.checklist, request.verdict = [i.as_dict() for i in items], str(overall(items))
    if request.elements_completed_at is None and all(k in request.elements for k in instrument.required_elements):
        request.elements_completed_at = clock.now()
        clocks.set_deadlines(request)


class CallbackOutcome(StrEnum):
    CONFIRMED = "confirmed"
    DENIED = "denied"
    NO_ANSWER = "no_answer"


def record_callback(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    request_id: int,
    spoke_to: str,
    outcome: str,
    note: str = "",
) -> Callback:
    """Staff called the agency on the registry's number (never one from the request). A
    confirmation releases the hold and confirms a first-time officer; a denial refuses the
    request as forged and flags it."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    request = get_request(session, principal=principal, request_id=request_id)
    if outcome not in set(CallbackOutcome):
        raise InvalidInput(f"The outcome of a call-back is one of {', '.join(CallbackOutcome)}.")
    if outcome != CallbackOutcome.NO_ANSWER and not spoke_to.strip():
        raise InvalidInput("Name the person you spoke to at the agency.")
    agency = session.get(Agency, request.agency_id)
    assert agency is not None
    if not agency.verified:
        raise Conflict(
            f"{agency.name} is not verified yet: it has no call-back number from an official source. "
            "Verify the agency in the registry first; its requests stay held until then."
        )
    row = Callback(
        request_id=request.id,
        number_called=agency.callback_phone,
        spoke_to=spoke_to.strip(),
        outcome=outcome,
        note=note.strip(),
        by=str(actor),
        at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="request.callback",
        object_type="lawful_request",
        object_id=request.id,
        reason=note or None,
        details={"outcome": outcome, "number_called": agency.callback_phone, "spoke_to": row.spoke_to},
        clock=clock,
    )
    _apply_callback(session, request=request, outcome=outcome, actor=actor, clock=clock)
    return row


def _apply_callback(session: Session, *, request: LawfulRequest, outcome: str, actor: Actor, clock: Clock) -> None:
    if outcome == CallbackOutcome.CONFIRMED:
        request.callback_confirmed_at = clock.now()
        officer = session.get(Officer, request.officer_id) if request.officer_id else None
        if officer is not None and officer.confirmed_at is None:
            officer.confirmed_at = clock.now()
    elif outcome == CallbackOutcome.DENIED:
        request.flags = [*request.flags, str(Flag.CALLBACK_DENIED)]
        if RequestState.REFUSED in ALLOWED[RequestState(request.state)]:
            _move(
                session,
                request=request,
                to_state=RequestState.REFUSED,
                actor=actor,
                clock=clock,
                reason="the agency, called on its registered number, denied sending this request",
                refusal_reason=RefusalReason.OTHER,
            )


@dataclass(frozen=True)
class RequestView:
    """A request with everything a page or the API shows about it."""

    request: LawfulRequest
    agency: Agency
    officer: Officer | None
    targets: list[RequestTarget]
    attachments: list[RequestAttachment]
    messages: list[RequestMessage]
    transitions: list[RequestTransition]
    callbacks: list[Callback]


def view(session: Session, *, principal: Principal, request_id: int) -> RequestView:
    request = get_request(session, principal=principal, request_id=request_id)

    def rows(model: Any, order: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.request_id == request.id).order_by(order)))

    agency = session.get(Agency, request.agency_id)
    assert agency is not None
    officer = session.get(Officer, request.officer_id) if request.officer_id else None
    callbacks = rows(Callback, Callback.id) if not acts_for_authority(principal) else []
    return RequestView(
        request,
        agency,
        officer,
        rows(RequestTarget, RequestTarget.id),
        rows(RequestAttachment, RequestAttachment.id),
        rows(RequestMessage, RequestMessage.id),
        rows(RequestTransition, RequestTransition.id),
        callbacks,
    )


def receipt(request: LawfulRequest, *, key: ProviderKey) -> dict[str, Any]:
    """The signed acknowledgement the authority keeps: what we received, when, and by when
    it is due. Signed with the key published in the discovery document."""
    document = {
        "reference": request.reference,
        "received_at": request.received_at.isoformat(),
        "instrument": request.instrument,
        "catalogue_version": request.catalogue_version,
        "emergency": request.emergency,
        "due_at": request.due_at and request.due_at.isoformat(),
        "expires_at": request.expires_at and request.expires_at.isoformat(),
        "submission_sha256": request.submission_sha256,
        "state": request.state,
        "held_for_callback": request.held,
    }
    return key.sign_document(document)
