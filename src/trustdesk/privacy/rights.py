"""The rights of the people in the data (GDPR Art. 15, 17, 18), for a platform user named by
their account id: an access request yields a readable export of what Trustdesk holds about
them; erasure empties their rows where the data map allows; restriction keeps their data
stored only. Where a legal hold, an open lawful request or an undecided appeal forbids, the
request is deferred with the reason recorded (staff see it; `retry` tries again), and where a
non-disclosure order or the instrument's confidentiality runs, the person is told nothing that
would reveal the lawful request: the export leaves it out, and the answer reads the same as
any request still being handled (GDPR Art. 23; 18 U.S.C. 2705(b); e-Evidence Art. 13).

Who may take a request in is PRIVACY_MANAGE (permissions.py); the services ask for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.access import service as access
from trustdesk.core.access.service import Channel, Justification, Purpose, Subject
from trustdesk.core.audit import Actor, record
from trustdesk.core.audit.service import digest
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.platform.port import Platform
from trustdesk.privacy import authors, rows
from trustdesk.privacy import datamap as datamap_
from trustdesk.privacy import export as export_
from trustdesk.privacy.datamap import DataMap, Erasure, TableEntry
from trustdesk.privacy.models import Obstacle, Restriction, RightKind, RightsRequest, RightState

# What the person is told. One sentence for every request that waits, whatever the reason, so
# that the answer never tells a request deferred by a gagged order from any other.
TOLD_WAITING = "Your request has been received and is being handled; we will write again when it is complete."
TOLD_REASON = {
    Obstacle.OPEN_APPEAL: "Your data is kept while your complaint (DSA Art. 20) is decided; erasure follows the decision.",
    Obstacle.LEGAL_HOLD: "Your data must be kept for now under a legal obligation (GDPR Art. 17(3)(b), (e)); erasure follows when it ends.",
    Obstacle.OPEN_ORDER: "Your data must be kept for now under a legal obligation (GDPR Art. 17(3)(b), (e)); erasure follows when it ends.",
}
LAWFUL_REQUESTS = "lawful_requests"  # the data map's purpose whose rows an answer never names under a gag
BLOCKING = (Obstacle.LEGAL_HOLD, Obstacle.OPEN_ORDER, Obstacle.OPEN_APPEAL)


@dataclass(frozen=True)
class Outcome:
    request: RightsRequest
    export: dict[str, Any] | None = None


def _account(account_id: str) -> str:
    value = account_id.strip()
    if not value or len(value) > 128:
        raise InvalidInput("Give the platform account id (1 to 128 characters).", field="account_id")
    if value.startswith(rows.MARK):
        raise InvalidInput("That id is a pseudonym retention left: it leads to no one.", field="account_id")
    return value


def get(session: Session, *, principal: Principal, request_id: int) -> RightsRequest:
    authorize(principal, Permission.PRIVACY_MANAGE)
    found = session.get(RightsRequest, request_id)
    if found is None:
        raise NotFound(f"No rights request {request_id}.")
    return found


def list_requests(session: Session, *, principal: Principal, limit: int = 100) -> list[RightsRequest]:
    authorize(principal, Permission.PRIVACY_MANAGE)
    return list(session.scalars(select(RightsRequest).order_by(RightsRequest.id.desc()).limit(limit)))


def receive(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    kind: RightKind,
    account_id: str,
    note: str = "",
    data_map: DataMap | None = None,
    platform: Platform | None = None,
) -> Outcome:
    """Take a request in and answer it at once as far as the law allows. `platform` says who
    sent the held messages Trustdesk stores no sender for (authors.py); without it those
    stay unresolved, and the reasons say so."""
    authorize(principal, Permission.PRIVACY_MANAGE)
    if kind not in set(RightKind):
        raise InvalidInput(f"A rights request is one of {', '.join(RightKind)}.", field="kind")
    request = RightsRequest(
        kind=RightKind(kind).value,
        account_id=_account(account_id),
        state=RightState.RECEIVED.value,
        received_at=clock.now(),
        requested_by=str(actor),
        note=note.strip()[:2000],
        reasons=[],
        counts={},
        attempts=0,
    )
    session.add(request)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="privacy.request.received",
        object_type="privacy_request",
        object_id=request.id,
        details={"kind": request.kind},
    )
    return _answer(session, request, actor=actor, clock=clock, data_map=data_map or datamap_.load(), platform=platform)


def retry(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, request_id: int, platform: Platform | None = None
) -> Outcome:
    """Answer a deferred (or partly deferred) request again: what waited may now be allowed."""
    request = get(session, principal=principal, request_id=request_id)
    if request.state not in (RightState.DEFERRED.value, RightState.PARTLY_DEFERRED.value):
        raise Conflict(f"Rights request {request_id} is {request.state}: only a deferred one is tried again.")
    return _answer(session, request, actor=actor, clock=clock, data_map=datamap_.load(), platform=platform)


def retry_deferred(
    session: Session, *, actor: Actor, clock: Clock, limit: int = 100, platform: Platform | None = None
) -> list[RightsRequest]:
    """Answer again every deferred request (oldest first, up to `limit`): what a scheduled job
    runs after holds are released, so that an erasure follows as soon as the law allows.
    Returns those now answered (completed or partly deferred); the rest wait again, each try
    audited with its reason."""
    waiting = session.scalars(
        select(RightsRequest)
        .where(RightsRequest.state.in_([RightState.DEFERRED.value, RightState.PARTLY_DEFERRED.value]))
        .order_by(RightsRequest.id)
        .limit(limit)
    ).all()
    data_map = datamap_.load()
    answered = []
    authorship = authors.resolve(session, platform) if waiting else None
    for request in waiting:
        before = request.state
        _answer(session, request, actor=actor, clock=clock, data_map=data_map, authorship=authorship)
        if request.state != before or request.state == RightState.COMPLETED.value:
            answered.append(request)
    return answered


def _answer(
    session: Session,
    request: RightsRequest,
    *,
    actor: Actor,
    clock: Clock,
    data_map: DataMap,
    platform: Platform | None = None,
    authorship: authors.Authorship | None = None,
) -> Outcome:
    request.attempts += 1
    gagged = rows.gagged_requests(session, request.account_id)
    if request.kind != RightKind.RESTRICTION.value and authorship is None:
        authorship = authors.resolve(session, platform)
    if request.kind == RightKind.ACCESS.value:
        outcome = _access(session, request, gagged=gagged, data_map=data_map, authorship=authorship)
    elif request.kind == RightKind.ERASURE.value:
        outcome = _erasure(session, request, gagged=gagged, clock=clock, data_map=data_map, authorship=authorship)
    else:
        outcome = _restriction(session, request, clock=clock)
    if authorship is not None and authorship.unresolved:
        request.reasons = [*request.reasons, _unresolved(authorship)]
    if request.state in (RightState.COMPLETED.value, RightState.PARTLY_DEFERRED.value, RightState.REFUSED.value):
        request.completed_at = clock.now()
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action=f"privacy.{request.kind}.{request.state}",
        object_type="privacy_request",
        object_id=request.id,
        reason="; ".join(sorted({r["obstacle"] for r in request.reasons})) or None,
        details={"counts": request.counts, "attempt": request.attempts},
    )
    return outcome


def _reason(obstacle: Obstacle, detail: str, scope: str) -> dict[str, str]:
    return {"obstacle": obstacle.value, "detail": detail, "scope": scope}


UNRESOLVED_SHOWN = 20  # message ids named in the reason; the count says how many in all


def _unresolved(authorship: authors.Authorship) -> dict[str, str]:
    """Staff-only: held messages whose sender neither Trustdesk nor the platform could say
    (deleted, unknown). They are not counted as the person's, and not as anyone else's."""
    ids = sorted(authorship.unresolved)
    shown = ", ".join(ids[:UNRESOLVED_SHOWN]) + (
        f" and {len(ids) - UNRESOLVED_SHOWN} more" if len(ids) > UNRESOLVED_SHOWN else ""
    )
    detail = (
        f"{len(ids)} message(s) that notices or cases are about have no known sender (the platform could not say: "
        f"deleted or unknown), so their records were not searched as this person's: {shown}"
    )
    return _reason(Obstacle.UNRESOLVED_SENDER, detail, "messages")


def _access(
    session: Session, request: RightsRequest, *, gagged: list[Any], data_map: DataMap, authorship: authors.Authorship | None
) -> Outcome:
    withheld = {r.id for r, _ in gagged}
    document = export_.build(
        session, account_id=request.account_id, withheld_requests=withheld, data_map=data_map, authorship=authorship
    )
    request.reasons = [
        _reason(obstacle, f"lawful request {r.reference} left out of the export", "lawful_requests") for r, obstacle in gagged
    ]
    request.counts = {name: len(items) for name, items in document["sections"].items()}
    request.export_sha256 = digest(document)
    request.state = (RightState.PARTLY_DEFERRED if gagged else RightState.COMPLETED).value
    request.told = "Your copy of the data Trustdesk holds about you is attached."  # the same with or without a part held back
    return Outcome(request, document)


def _erasure(
    session: Session,
    request: RightsRequest,
    *,
    gagged: list[Any],
    clock: Clock,
    data_map: DataMap,
    authorship: authors.Authorship | None,
) -> Outcome:
    ids = rows.identifiers_of(session, [request.account_id], authorship)
    kept_by = rows.protection(session, authorship)
    obstacles = [o for o in BLOCKING if ids & kept_by.by.get(o, frozenset())]
    if obstacles:
        request.reasons = [_reason(o, _why(session, o, request.account_id), "all") for o in obstacles]
        request.state = RightState.DEFERRED.value
        gag = bool(gagged) and any(o is not Obstacle.OPEN_APPEAL for o in obstacles)
        request.told = TOLD_WAITING if gag else TOLD_REASON[obstacles[0]]
        return Outcome(request)
    pseudonyms, counts, kept = rows.Pseudonyms(), {}, []
    for entry in data_map.tables.values():
        if not entry.linked:
            continue
        if entry.erasure is Erasure.KEEP:
            kept.append(entry)
            continue
        query = rows.selection(entry, where=rows.rows_of(entry, ids))
        erased = 0
        for batch in rows.batches(session, query, rows.primary_key(rows.table(entry.table))):
            erased += rows.empty_rows(
                session, entry, batch, pseudonyms=pseudonyms, at=clock.now(), cause="erasure", request_id=request.id
            )
        if erased:
            counts[entry.table] = erased
    kept = [e for e in kept if _holds_rows(session, e, ids)]
    request.counts = counts
    request.reasons = [_reason(Obstacle.LEGAL_OBLIGATION, e.erasure_basis, e.table) for e in kept]
    request.state = RightState.COMPLETED.value
    # While a lawful request about the person may not be told of, the answer names none of its rows.
    shown = [e for e in kept if not (gagged and e.purpose == LAWFUL_REQUESTS)]
    request.told = "Your data has been erased, except what the law requires us to keep: " + (
        "; ".join(f"{e.table.replace('_', ' ')} ({e.erasure_basis})" for e in shown) or "nothing"
    )
    return Outcome(request)


def _holds_rows(session: Session, entry: TableEntry, ids: frozenset[str]) -> bool:
    t = rows.table(entry.table)
    return bool(session.scalar(select(func.count()).select_from(t).where(rows.rows_of(entry, ids))))


def _why(session: Session, obstacle: Obstacle, account_id: str) -> str:
    """Staff-facing words for what keeps the data, naming the lawful requests by reference."""
    if obstacle is Obstacle.LEGAL_HOLD:
        refs = rows.hold_references(session, account_id)
        return f"a legal hold (preservation order) on the account: {', '.join(refs) or 'by its account'}"
    if obstacle is Obstacle.OPEN_ORDER:
        refs = rows.order_references(session, account_id)
        return f"an open lawful request names the account: {', '.join(refs) or 'by a message'}"
    return "an internal complaint about an action on the account is undecided"


def _restriction(session: Session, request: RightsRequest, *, clock: Clock) -> Outcome:
    active = session.scalar(
        select(Restriction).where(Restriction.account_id == request.account_id, Restriction.lifted_at.is_(None))
    )
    if active is None:
        session.add(Restriction(account_id=request.account_id, request_id=request.id, since=clock.now()))
    request.state = RightState.COMPLETED.value
    request.counts = {"restrictions": 1}
    request.told = "Your data is restricted: Trustdesk stores it and does not empty it by retention until the restriction is lifted (GDPR Art. 18)."
    return Outcome(request)


def lift_restriction(session: Session, *, actor: Actor, clock: Clock, principal: Principal, account_id: str) -> Restriction:
    authorize(principal, Permission.PRIVACY_MANAGE)
    active = session.scalar(select(Restriction).where(Restriction.account_id == account_id, Restriction.lifted_at.is_(None)))
    if active is None:
        raise NotFound("This account has no restriction in force.")
    active.lifted_at, active.lifted_by = clock.now(), str(actor)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="privacy.restriction.lifted",
        object_type="privacy_restriction",
        object_id=active.id,
    )
    return active


def export_of(
    session: Session,
    *,
    principal: Principal,
    request_id: int,
    clock: Clock,
    channel: Channel = Channel.EXPORT,
    platform: Platform | None = None,
) -> dict[str, Any]:
    """The readable export of an access request, as it stands now (never a gagged request).
    Who produced it is in the access log (`core/access`), justified by the request itself."""
    request = get(session, principal=principal, request_id=request_id)
    if request.kind != RightKind.ACCESS.value:
        raise Conflict(f"Rights request {request_id} is a {request.kind} request: only an access request has an export.")
    withheld = {r.id for r, _ in rows.gagged_requests(session, request.account_id)}
    document = export_.build(
        session,
        account_id=request.account_id,
        withheld_requests=withheld,
        data_map=datamap_.load(),
        authorship=authors.resolve(session, platform),
    )
    access.record_views(
        session,
        principal=principal,
        clock=clock,
        subjects=[Subject("account", request.account_id)],
        what="subject_export",
        justification=Justification(Purpose.SUBJECT_REQUEST, str(request.id)),
        channel=channel,
        object_ref=f"rights_request:{request.id}",
    )
    return document
