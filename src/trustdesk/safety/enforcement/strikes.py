"""Strikes: each upheld breach weighs on the account for a while (per-policy weight and
lifetime, from `policies.json`); crossing a threshold leads to a restriction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.safety.enforcement.models import EnforcementAction, Strike
from trustdesk.safety.enforcement.policies import Policy, StrikeThreshold, load_policies

__all__ = ["StrikeThreshold", "active_points", "crossed", "issue", "strikes_for", "void_for"]


def _active(account_id: str, now: datetime):  # type: ignore[no-untyped-def]
    return (Strike.account_id == account_id, Strike.voided_at.is_(None), Strike.expires_at > now)


def active_points(session: Session, *, account_id: str, now: datetime) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(Strike.weight), 0)).where(*_active(account_id, now))) or 0)


def crossed(before: int, after: int) -> StrikeThreshold | None:
    """The highest threshold passed on the way from `before` to `after` points, if any."""
    passed = [t for t in load_policies().thresholds if before < t.points <= after]
    return passed[-1] if passed else None


def issue(session: Session, *, actor: Actor, clock: Clock, action: EnforcementAction, policy: Policy) -> StrikeThreshold | None:
    """Add the strike for `action`; return the threshold it makes the account cross."""
    now = clock.now()
    before = active_points(session, account_id=action.account_id or "", now=now)
    strike = Strike(
        account_id=action.account_id,
        action_id=action.id,
        policy=policy.key,
        weight=policy.strike_weight,
        issued_at=now,
        expires_at=now + timedelta(days=policy.strike_days),
    )
    session.add(strike)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="strike.issue",
        object_type="strike",
        object_id=strike.id,
        details={"account_id": strike.account_id, "weight": strike.weight, "policy": strike.policy, "action_id": action.id},
    )
    return crossed(before, before + policy.strike_weight)


def void_for(session: Session, *, action_id: int, now: datetime, reason: str) -> None:
    for strike in session.scalars(select(Strike).where(Strike.action_id == action_id, Strike.voided_at.is_(None))):
        strike.voided_at, strike.void_reason = now, reason


def strikes_for(session: Session, *, account_id: str) -> list[Strike]:
    return list(
        session.scalars(select(Strike).where(Strike.account_id == account_id).order_by(Strike.issued_at.desc(), Strike.id.desc()))
    )
