"""Legal holds per target, and the per-target limit of each preservation family.

A preservation limit (e-Evidence EPOC-PR: 60 days, once +30, Reg. 2023/1543 Art. 11(1);
US 18 U.S.C. 2703(f)(2): 90 days, once +90) belongs to the target, not to the letter: a
fresh letter from the same issuing country for an account that is still preserved under
the same family joins that account's chain, and the chain never outlasts the first hold's
start plus the family's longest period. Only a production order keeps data longer: it is
linked to the hold automatically, and the hold then stays until the production is answered
(Art. 11(1): "unless ... a subsequent request for production").

Used by intake (preservation at receipt, linking at receipt) and by preservation.py (staff
freezing, extending); imports nothing that imports intake."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.audit.service import digest
from trustdesk.core.clock import Clock, as_utc
from trustdesk.core.errors import Conflict
from trustdesk.legal.disclosure import retrieval
from trustdesk.legal.disclosure.models import HoldState, LegalHold
from trustdesk.legal.instruments import ClockKind, ClockRule, load_catalogue
from trustdesk.legal.models import Agency, LawfulRequest, RequestTarget
from trustdesk.platform.port import DataCategory, Platform


def family_of(instrument_code: str) -> str | None:
    return load_catalogue().get(instrument_code).clock.family


def longest_days(rule: ClockRule) -> int:
    """The longest a target can stay preserved under the rule: its period and every extension."""
    assert rule.preserve_days is not None
    return rule.preserve_days + rule.max_extensions * (rule.extension_days or 0)


def _country(session: Session, request: LawfulRequest) -> str:
    agency = session.get(Agency, request.agency_id)
    assert agency is not None
    return agency.country


def chain_holds(session: Session, *, account_id: str, family: str, country: str) -> list[LegalHold]:
    """The active holds of one account under one family for one issuing country: one chain."""
    query = (
        select(LegalHold)
        .join(LawfulRequest, LawfulRequest.id == LegalHold.request_id)
        .join(Agency, Agency.id == LawfulRequest.agency_id)
        .where(
            LegalHold.account_id == account_id,
            LegalHold.family == family,
            Agency.country == country,
            LegalHold.state == HoldState.ACTIVE.value,
        )
        .order_by(LegalHold.id)
    )
    return list(session.scalars(query))


def chain_start(session: Session, *, request: LawfulRequest, account_id: str, family: str | None) -> datetime:
    """When this target's continuous preservation under `family` began: the earliest active
    hold of its chain, or this order's receipt where there is none."""
    if family is None:
        return request.received_at
    holds = chain_holds(session, account_id=account_id, family=family, country=_country(session, request))
    starts = [as_utc(h.chain_started_at or h.frozen_at) for h in holds]
    return min([*starts, as_utc(request.received_at)])


def capped(rule: ClockRule, *, wanted: datetime, chain_started_at: datetime) -> datetime:
    """The expiry a letter asks for, cut at the chain's limit."""
    return min(as_utc(wanted), as_utc(chain_started_at) + timedelta(days=longest_days(rule)))


def new_hold(
    session: Session,
    *,
    request: LawfulRequest,
    target: RequestTarget,
    categories: list[str],
    platform: Platform,
    actor: Actor,
    clock: Clock,
    expires: datetime,
    chain_started_at: datetime,
    family: str | None,
    period: tuple[datetime | None, datetime | None],
    linked_to: int | None = None,
) -> LegalHold:
    """Freeze one target's data (what its scope admits) and record it."""
    assert target.account_id is not None
    scope = retrieval.scope_of(
        account_id=target.account_id,
        message_id=target.message_id,
        chat_id=target.chat_id,
        window=(target.period_start, target.period_end),
        period=period,
        platform=platform,
    )
    snapshot = retrieval.snapshot_of(
        platform,
        account_id=target.account_id,
        categories=[DataCategory(c) for c in categories],
        since=scope.since,
        until=scope.until,
        scope=scope,
    )
    hold = LegalHold(
        request_id=request.id,
        account_id=target.account_id,
        categories=categories,
        period_start=scope.since,
        period_end=scope.until,
        snapshot=snapshot,
        snapshot_sha256=digest(snapshot),
        state=(HoldState.CONVERTED if linked_to is not None else HoldState.ACTIVE).value,
        frozen_by=str(actor),
        frozen_at=clock.now(),
        expires_at=expires,
        extensions=0,
        converted_to_request_id=linked_to,
        target_id=target.id,
        scope=scope.as_json(),
        family=family,
        chain_started_at=chain_started_at,
    )
    session.add(hold)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="hold.freeze",
        object_type="legal_hold",
        object_id=hold.id,
        clock=clock,
        details={
            "request_id": request.id,
            "target_id": target.id,
            "categories": hold.categories,
            "snapshot_sha256": hold.snapshot_sha256,
            "expires_at": hold.expires_at.isoformat(),
            "family": family,
            "chain_started_at": chain_started_at.isoformat(),
            "linked_to": linked_to,
        },
    )
    return hold


def resolved_targets(session: Session, *, request_id: int) -> list[RequestTarget]:
    query = select(RequestTarget).where(RequestTarget.request_id == request_id, RequestTarget.account_id.is_not(None))
    return list(session.scalars(query.order_by(RequestTarget.id)))


def preserve_at_receipt(
    session: Session, *, actor: Actor, clock: Clock, platform: Platform, request: LawfulRequest, until: datetime
) -> list[LegalHold]:
    """Art. 10(2) of Reg. 2023/1543: while the notified enforcing State may object, the
    provider preserves the data asked for. Each target's hold is linked to the order itself,
    so it stays until the order is answered (then the release job lets it go)."""
    return [
        new_hold(
            session,
            request=request,
            target=target,
            categories=list(request.categories),
            platform=platform,
            actor=actor,
            clock=clock,
            expires=until,
            chain_started_at=request.received_at,
            family=family_of(request.instrument),
            period=(request.period_start, request.period_end),
            linked_to=request.id,
        )
        for target in resolved_targets(session, request_id=request.id)
    ]


def link_production(session: Session, *, actor: Actor, clock: Clock, request: LawfulRequest) -> list[LegalHold]:
    """A production order for a preserved target takes over the target's active holds of the
    same family and issuing country: they stay until the production is answered."""
    rule = load_catalogue().get(request.instrument).clock
    if rule.family is None or rule.kind is ClockKind.PRESERVE:
        return []
    country, linked = _country(session, request), []
    for account_id in dict.fromkeys(t.account_id for t in resolved_targets(session, request_id=request.id)):
        assert account_id is not None
        for hold in chain_holds(session, account_id=account_id, family=rule.family, country=country):
            hold.state, hold.converted_to_request_id = HoldState.CONVERTED.value, request.id
            linked.append(hold)
            audit.record(
                session,
                actor=actor,
                action="hold.link",
                object_type="legal_hold",
                object_id=hold.id,
                clock=clock,
                details={"production_request_id": request.id, "reference": request.reference, "automatic": True},
            )
    return linked


def check_room(rule: ClockRule, *, chain_started_at: datetime, now: datetime) -> None:
    """A fresh letter for a target whose chain has used its whole limit preserves nothing more."""
    end = as_utc(chain_started_at) + timedelta(days=longest_days(rule))
    if end <= as_utc(now):
        raise Conflict(
            f"This target has been preserved under this family since {as_utc(chain_started_at).date().isoformat()}: "
            f"the {longest_days(rule)}-day limit is used up; only a production order keeps the data longer."
        )
