"""Preparing, approving and packaging a disclosure.

A disclosure carries exactly what the adopted policy decision allowed (categories, accounts,
period). Two different legal officers must sign it off: the preparer, then an approver who
is not the preparer (`authorize_disclosure_approval` in the permissions module decides who
may). An emergency disclosure starts at the minimal set; only a second legal officer may
widen it, and only to what the decision held back as widenable. The package is built only
once the request is released: call-back confirmed, enforcing-state wait over, and every extra
review the decision requires (a weaker rule-of-law tier, an offence no one could classify)
given, each by a legal officer who neither prepared nor approved it nor reviewed it before."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.blobs import BlobStore
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import (
    Permission,
    Principal,
    authorize,
    authorize_disclosure_approval,
    authorize_disclosure_preparation,
)
from trustdesk.legal import objections
from trustdesk.legal import service as legal_requests
from trustdesk.legal.disclosure import packages, retrieval
from trustdesk.legal.disclosure.models import Disclosure, DisclosureApproval, DisclosurePackage, DisclosureState, LegalHold
from trustdesk.legal.intake import Channel
from trustdesk.legal.models import Agency, LawfulRequest, RequestState, RequestTarget
from trustdesk.legal.policy import service as policy_service
from trustdesk.legal.policy.engine import Outcome
from trustdesk.legal.policy.models import PolicyDecision
from trustdesk.legal.policy.rules import Policy, load_policy
from trustdesk.legal.signing import ProviderKey
from trustdesk.platform.port import DataCategory, Platform

PRODUCING = frozenset({Outcome.PRODUCE.value, Outcome.PRODUCE_IN_PART.value})


class ApprovalKind(StrEnum):
    PREPARE = "prepare"
    APPROVE = "approve"
    WIDEN = "widen"
    REVIEW = "review"  # an extra review the decision requires (policy.toml [[tiers]], OF-1)


def get_disclosure(session: Session, *, principal: Principal, disclosure_id: int) -> Disclosure:
    authorize(principal, Permission.REQUESTS_READ)
    disclosure = session.get(Disclosure, disclosure_id)
    if disclosure is None:
        raise NotFound(f"No disclosure {disclosure_id}.")
    return disclosure


def disclosures_for(session: Session, *, principal: Principal, request_id: int) -> list[Disclosure]:
    legal_requests.get_request(session, principal=principal, request_id=request_id)
    return list(session.scalars(select(Disclosure).where(Disclosure.request_id == request_id).order_by(Disclosure.id)))


def approvals(session: Session, *, disclosure_id: int) -> list[DisclosureApproval]:
    query = select(DisclosureApproval).where(DisclosureApproval.disclosure_id == disclosure_id).order_by(DisclosureApproval.id)
    return list(session.scalars(query))


def prepare(session: Session, *, actor: Actor, clock: Clock, principal: Principal, request_id: int, note: str = "") -> Disclosure:
    """Start a disclosure from the request's adopted decision (the newest one)."""
    authorize_disclosure_preparation(principal)
    request = legal_requests.get_request(session, principal=principal, request_id=request_id)
    decision = policy_service.current_decision(session, principal=principal, request_id=request_id)
    if decision.outcome not in PRODUCING:
        raise Conflict(f"The policy decision is '{decision.outcome}': there is nothing to disclose.")
    if request.state != RequestState.UNDER_REVIEW:
        raise Conflict(f"The request is {request.state}; adopt the policy decision first so that it is under review.")
    if any(d.state != DisclosureState.PACKAGED for d in disclosures_for(session, principal=principal, request_id=request_id)):
        raise Conflict("A disclosure for this request is already in preparation.")
    disclosure = Disclosure(
        request_id=request.id,
        decision_id=decision.id,
        state=DisclosureState.PREPARED.value,
        emergency=request.emergency,
        categories=decision.categories,
        accounts=decision.accounts,
        period_start=decision.period_start,
        period_end=decision.period_end,
        not_before=decision.not_before,
        prepared_by_id=principal.id,
        prepared_by=principal.name,
        prepared_at=clock.now(),
    )
    session.add(disclosure)
    session.flush()
    _act(session, disclosure=disclosure, kind=ApprovalKind.PREPARE, principal=principal, clock=clock, note=note)
    audit.record(
        session,
        actor=actor,
        action="disclosure.prepare",
        object_type="disclosure",
        object_id=disclosure.id,
        reason=note or None,
        policy_version=decision.policy_version,
        clock=clock,
        details={
            "request_id": request.id,
            "decision_id": decision.id,
            "categories": disclosure.categories,
            "accounts": len(disclosure.accounts),
        },
    )
    return disclosure


def _act(
    session: Session,
    *,
    disclosure: Disclosure,
    kind: ApprovalKind,
    principal: Principal,
    clock: Clock,
    note: str,
    categories: list[str] | None = None,
) -> DisclosureApproval:
    row = DisclosureApproval(
        disclosure_id=disclosure.id,
        kind=kind.value,
        staff_id=principal.id,
        staff_name=principal.name,
        categories=categories or [],
        note=note.strip(),
        at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def _approver_ids(session: Session, disclosure: Disclosure) -> frozenset[int]:
    return frozenset(a.staff_id for a in approvals(session, disclosure_id=disclosure.id) if a.kind == ApprovalKind.APPROVE)


def _reviewer_ids(session: Session, disclosure: Disclosure) -> frozenset[int]:
    return frozenset(a.staff_id for a in approvals(session, disclosure_id=disclosure.id) if a.kind == ApprovalKind.REVIEW)


def reviews_required(session: Session, disclosure: Disclosure) -> int:
    """The extra reviews the disclosure's decision requires (its tier's, plus one where the
    offence could not be classified)."""
    decision = session.get(PolicyDecision, disclosure.decision_id)
    assert decision is not None
    return decision.extra_reviews


def reviews_missing(session: Session, disclosure: Disclosure) -> int:
    return max(0, reviews_required(session, disclosure) - len(_reviewer_ids(session, disclosure)))


def review(session: Session, *, actor: Actor, clock: Clock, principal: Principal, disclosure_id: int, note: str) -> Disclosure:
    """One extra review of necessity and proportionality (and of the offence's class where the
    engine could not tell it). By a legal officer who is not the preparer, not an approver and
    not an earlier reviewer: each review is another person's. The note says what was weighed."""
    disclosure = get_disclosure(session, principal=principal, disclosure_id=disclosure_id)
    if disclosure.state == DisclosureState.PACKAGED:
        raise Conflict("This disclosure is already packaged; a review must come before the package.")
    required = reviews_required(session, disclosure)
    reviewers = _reviewer_ids(session, disclosure)
    if len(reviewers) >= required:
        raise Conflict(f"The decision requires {required} extra review(s) and they have all been given.")
    others = _approver_ids(session, disclosure) | reviewers
    authorize_disclosure_approval(principal, preparer_id=disclosure.prepared_by_id, earlier_approver_ids=others)
    if len(note.strip()) < 3:
        raise InvalidInput("Say what the review weighed (necessity, proportionality, the offence); it goes into the record.")
    _act(session, disclosure=disclosure, kind=ApprovalKind.REVIEW, principal=principal, clock=clock, note=note)
    audit.record(
        session,
        actor=actor,
        action="disclosure.review",
        object_type="disclosure",
        object_id=disclosure.id,
        reason=note.strip(),
        details={"reviews": len(reviewers) + 1, "required": required},
        clock=clock,
    )
    return disclosure


def widen(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, disclosure_id: int, categories: list[str], note: str
) -> Disclosure:
    """A second legal officer widens an emergency disclosure past the minimal set."""
    disclosure = get_disclosure(session, principal=principal, disclosure_id=disclosure_id)
    if not disclosure.emergency or disclosure.state != DisclosureState.PREPARED:
        raise Conflict("Only an emergency disclosure still in preparation can be widened.")
    authorize_disclosure_approval(principal, preparer_id=disclosure.prepared_by_id, earlier_approver_ids=frozenset())
    decision = session.get(PolicyDecision, disclosure.decision_id)
    assert decision is not None
    wanted = _categories(categories)
    allowed = set(decision.categories) | set(decision.widenable)
    if not wanted or not wanted <= allowed:
        raise InvalidInput(
            f"An emergency disclosure can be widened only to what the decision allows: {', '.join(sorted(allowed))}."
        )
    if not note.strip():
        raise InvalidInput("Say why the emergency needs more than the minimal set; it goes into the record.")
    before, disclosure.categories = disclosure.categories, sorted(set(disclosure.categories) | wanted)
    _act(
        session,
        disclosure=disclosure,
        kind=ApprovalKind.WIDEN,
        principal=principal,
        clock=clock,
        note=note,
        categories=sorted(wanted),
    )
    audit.record(
        session,
        actor=actor,
        action="disclosure.widen",
        object_type="disclosure",
        object_id=disclosure.id,
        reason=note.strip(),
        change={"categories": [before, disclosure.categories]},
        details={"categories": disclosure.categories},
        clock=clock,
    )
    return disclosure


def _categories(values: list[str]) -> set[str]:
    try:
        return {DataCategory(v.strip()).value for v in values if v.strip()}
    except ValueError:
        raise InvalidInput(f"Unknown data category in {values}; known: {', '.join(DataCategory)}.") from None


def approve(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    disclosure_id: int,
    note: str = "",
    policy: Policy | None = None,
) -> Disclosure:
    """One approval; with the preparer's, two different legal officers approve it and the
    request moves to 'approved'."""
    disclosure = get_disclosure(session, principal=principal, disclosure_id=disclosure_id)
    if disclosure.state != DisclosureState.PREPARED:
        raise Conflict(f"This disclosure is already {disclosure.state}.")
    earlier = _approver_ids(session, disclosure)
    others = earlier | _reviewer_ids(session, disclosure)  # a reviewer's eyes are not an approver's too
    authorize_disclosure_approval(principal, preparer_id=disclosure.prepared_by_id, earlier_approver_ids=others)
    _act(session, disclosure=disclosure, kind=ApprovalKind.APPROVE, principal=principal, clock=clock, note=note)
    people = 1 + len(earlier) + 1  # the preparer, earlier approvers, this approver
    audit.record(
        session,
        actor=actor,
        action="disclosure.approve",
        object_type="disclosure",
        object_id=disclosure.id,
        reason=note or None,
        details={"approvals": people, "categories": disclosure.categories},
        clock=clock,
    )
    if people >= (policy or load_policy()).approvals:
        disclosure.state, disclosure.approved_at = DisclosureState.APPROVED.value, clock.now()
        legal_requests.transition(
            session,
            actor=actor,
            clock=clock,
            principal=principal,
            request_id=disclosure.request_id,
            to_state=RequestState.APPROVED,
            reason=f"disclosure {disclosure.id} approved by {people} legal officers",
        )
    return disclosure


def _released(request: LawfulRequest, disclosure: Disclosure, clock: Clock) -> frozenset[str]:
    """Raise unless the package may be built now; returns the categories the enforcing
    State refused (partial grounds), which the package leaves out (Reg. 2023/1543 Art. 12)."""
    if request.held:
        raise Conflict(
            "The request is held until a call-back to the agency's registered number confirms it; nothing goes out before."
        )
    window = [t for t in (disclosure.not_before, request.not_before) if t is not None]
    after = not window or clock.now() >= max(window)
    if request.enforcing_state is not None:
        free, refused = objections.release_check(request, now_is_after_window=after)
        if not free and request.enforcing_state_answer is not None:
            raise Conflict(f"The enforcing State ({request.enforcing_state}) raised grounds for refusal: nothing goes out.")
    else:
        free, refused = after, frozenset()
    if not free:
        raise Conflict(f"The enforcing state may object until {max(window).isoformat()}; the package can be built after that.")
    return refused


def _header(
    session: Session, *, request: LawfulRequest, disclosure: Disclosure, decision: PolicyDecision, clock: Clock
) -> dict[str, object]:
    agency = session.get(Agency, request.agency_id)
    assert agency is not None
    return {
        "request": {
            "reference": request.reference,
            "instrument": request.instrument,
            "received_at": request.received_at,
            "agency": agency.name,
            "country": agency.country,
            "officer_id": request.officer_id,
        },
        "disclosure": {
            "id": disclosure.id,
            "categories": disclosure.categories,
            "accounts": disclosure.accounts,
            "period": [disclosure.period_start, disclosure.period_end],
            "approved_at": disclosure.approved_at,
        },
        "decision": {
            "id": decision.id,
            "outcome": decision.outcome,
            "policy_version": decision.policy_version,
            "jurisdictions_version": decision.jurisdictions_version,
            # The reasons meant for the issuer only: never the tier or other deliberation.
            "rules": list(dict.fromkeys(r["rule_id"] for r in decision.reasons if r.get("for_issuer"))),
            "reasons": list(dict.fromkeys(r["for_issuer"] for r in decision.reasons if r.get("for_issuer"))),
        },
        "created_at": clock.now(),
    }


def _snapshots(session: Session, request_id: int) -> dict[str, dict[str, dict[str, object]]]:
    """Frozen data of legal holds converted into (or kept for) this production, by account:
    several holds of one account (one per target) are merged, each record once."""
    holds = session.scalars(select(LegalHold).where(LegalHold.converted_to_request_id == request_id).order_by(LegalHold.id))
    out: dict[str, dict[str, dict[str, object]]] = {}
    for hold in holds:
        mine = out.setdefault(hold.account_id, {})
        for category, raw in hold.snapshot.items():
            merged = mine.setdefault(category, {"held": raw["held"], "records": [], "note": raw.get("note", "")})
            records = merged["records"]
            assert isinstance(records, list)
            records.extend(r for r in raw["records"] if r not in records)
            merged["held"] = bool(merged["held"]) or bool(raw["held"])
    return out


def scopes_for(session: Session, *, request: LawfulRequest, disclosure: Disclosure, platform: Platform) -> list[retrieval.Scope]:
    """One scope per resolved target of the request that the disclosure carries: the target
    as named (message, chat, its own window) inside the disclosure's period (issue #16)."""
    rows = session.scalars(
        select(RequestTarget).where(RequestTarget.request_id == request.id, RequestTarget.account_id.is_not(None))
    )
    return [
        retrieval.scope_of(
            account_id=str(t.account_id),
            message_id=t.message_id,
            chat_id=t.chat_id,
            window=(t.period_start, t.period_end),
            period=(disclosure.period_start, disclosure.period_end),
            platform=platform,
        )
        for t in rows.all()
        if t.account_id in disclosure.accounts
    ]


def package(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    platform: Platform,
    key: ProviderKey,
    blobs: BlobStore,
    disclosure_id: int,
    policy: Policy | None = None,
) -> tuple[DisclosurePackage, str]:
    """Retrieve, build, sign and store the package; returns it with the one-time link secret
    for the requesting officer (only its hash is kept)."""
    authorize(principal, Permission.REQUESTS_HANDLE)
    disclosure = get_disclosure(session, principal=principal, disclosure_id=disclosure_id)
    if disclosure.state != DisclosureState.APPROVED:
        raise Conflict(f"A disclosure is packaged once two legal officers approved it; this one is {disclosure.state}.")
    request = legal_requests.get_request(session, principal=principal, request_id=disclosure.request_id)
    if request.officer_id is None and request.channel != Channel.API:
        raise Conflict("This request was entered by staff and has no requesting officer to deliver to in the portal.")
    refused = _released(request, disclosure, clock)
    missing = reviews_missing(session, disclosure)
    if missing:
        raise Conflict(
            f"The decision requires {reviews_required(session, disclosure)} extra review(s) by distinct legal officers; "
            f"{missing} still to be given before the package can be built."
        )
    decision = session.get(PolicyDecision, disclosure.decision_id)
    assert decision is not None
    got = retrieval.collect(
        platform,
        accounts=disclosure.accounts,
        categories=[DataCategory(c) for c in disclosure.categories if c not in refused],
        since=disclosure.period_start,
        until=disclosure.period_end,
        snapshots=_snapshots(session, request.id),
        scopes=scopes_for(session, request=request, disclosure=disclosure, platform=platform),
    )
    not_held = [*got.not_held, *({"account_id": a, "category": c, "note": "not held"} for a, c in decision.not_held)]
    not_held += [
        {"account_id": a, "category": c, "note": "the enforcing State raised grounds for refusal (Reg. 2023/1543 Art. 12)"}
        for a in disclosure.accounts
        for c in sorted(refused & set(disclosure.categories))
    ]
    data = packages.build(
        header=_header(session, request=request, disclosure=disclosure, decision=decision, clock=clock),
        files=got.files,
        not_held=not_held,
        key=key,
    )
    row, secret = _store(
        session,
        data=data,
        disclosure=disclosure,
        request=request,
        key=key,
        blobs=blobs,
        actor=actor,
        clock=clock,
        hours=(policy or load_policy()).link_hours,
    )
    disclosure.state = DisclosureState.PACKAGED.value
    _answer(session, actor=actor, clock=clock, principal=principal, request=request, decision=decision, row=row)
    return row, secret


def _store(
    session: Session,
    *,
    data: bytes,
    disclosure: Disclosure,
    request: LawfulRequest,
    key: ProviderKey,
    blobs: BlobStore,
    actor: Actor,
    clock: Clock,
    hours: int,
) -> tuple[DisclosurePackage, str]:
    digest = blobs.put(data)  # before the row: a rollback leaves an unreferenced blob, never a row without one
    secret = secrets.token_urlsafe(32)
    manifest = packages.verify(data).manifest
    row = DisclosurePackage(
        disclosure_id=disclosure.id,
        request_id=request.id,
        officer_id=request.officer_id,
        agency_id=request.agency_id if request.officer_id is None else None,  # filed by the agency's system: answered to it
        sha256=digest,
        size=len(data),
        manifest=manifest,
        key_id=key.key_id,
        link_hash=hashlib.sha256(secret.encode()).hexdigest(),
        link_expires_at=clock.now() + timedelta(hours=hours),
        created_by=str(actor),
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="disclosure.package",
        object_type="disclosure",
        object_id=disclosure.id,
        clock=clock,
        details={
            "package_id": row.id,
            "sha256": digest,
            "files": len(manifest["files"]),
            "not_held": len(manifest["not_held"]),
            "link_expires_at": row.link_expires_at.isoformat(),
        },
    )
    return row, secret


def _answer(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    request: LawfulRequest,
    decision: PolicyDecision,
    row: DisclosurePackage,
) -> None:
    partly = decision.outcome != Outcome.PRODUCE or bool(row.manifest["not_held"])
    state = RequestState.PARTLY_ANSWERED if partly else RequestState.ANSWERED
    legal_requests.transition(
        session,
        actor=actor,
        clock=clock,
        principal=principal,
        request_id=request.id,
        to_state=state,
        reason=f"package {row.id} ({row.sha256[:12]}) delivered to the requesting "
        + ("officer in the portal" if row.officer_id is not None else "agency's system through the API"),
    )
