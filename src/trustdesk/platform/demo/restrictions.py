"""Visibility and geographic restrictions of messages on the demo platform: what the
platform does for `restrict_message` and `lift_message_restriction`, and what its users
then see (`visible_to`).

A restricted message stays in its chat for its author and for Trustdesk; other viewers in
the restriction's territories (or everywhere) no longer see it, nor find it in search or
forwards. One restriction is in force at a time: new terms replace the old ones, so that
what the platform shows is always the last decision, with every earlier one kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.platform.demo.actions import record_action, require_future, require_reason
from trustdesk.platform.demo.models import DemoAccount, DemoAction, DemoMessage, DemoMessageRestriction
from trustdesk.platform.port import ActionResult, MessageState, territories_of


def restrict_message(
    *,
    session: Session,
    message: DemoMessage,
    reason: str,
    territories: frozenset[str] | None,
    until: datetime | None,
    now: datetime,
) -> ActionResult:
    require_reason(reason)
    require_future(until, now=now)
    scope = territories_of(territories)
    where = "everywhere" if scope is None else f"in {', '.join(sorted(scope))}"
    term = "until lifted" if until is None else f"until {until:%Y-%m-%d %H:%M} UTC"
    if message.state == MessageState.REMOVED:
        return ActionResult(ok=False, detail=f"message {message.id} is removed; restore it before restricting it")
    current = _in_force(session=session, message_id=message.id, now=now)
    if current is not None and _same_terms(current, scope=scope, until=until):
        earlier = session.get(DemoAction, current.action_id)
        return ActionResult(
            ok=True,
            detail=f"message {message.id} was already hidden {where} {term}",
            platform_ref=earlier.ref if earlier else None,
        )
    action = record_action(
        session=session, kind="message", target_id=message.id, action="restrict", reason=reason, now=now, until=until
    )
    if current is not None:  # the term or the territories changed: the new decision replaces it
        current.ended_at, current.end_action_id = now, action.id
    session.add(
        DemoMessageRestriction(
            message_id=message.id, territories=sorted(scope) if scope else None, until=until, reason=reason, action_id=action.id
        )
    )
    return ActionResult(ok=True, detail=f"message {message.id} hidden from others {where} {term}", platform_ref=action.ref)


def lift_message_restriction(*, session: Session, message: DemoMessage, reason: str, now: datetime) -> ActionResult:
    require_reason(reason)
    current = _in_force(session=session, message_id=message.id, now=now)
    if current is not None:
        action = record_action(
            session=session, kind="message", target_id=message.id, action="lift_restriction", reason=reason, now=now
        )
        current.ended_at, current.end_action_id = now, action.id
        return ActionResult(ok=True, detail=f"restriction on message {message.id} lifted", platform_ref=action.ref)
    last = _last(session=session, message_id=message.id)
    if last is None:
        return ActionResult(ok=False, detail=f"message {message.id} was never restricted; nothing to lift")
    if last.ended_at is not None:
        ended = session.get(DemoAction, last.end_action_id) if last.end_action_id else None
        return ActionResult(
            ok=True, detail=f"restriction on message {message.id} was already lifted", platform_ref=ended.ref if ended else None
        )
    started = session.get(DemoAction, last.action_id)
    return ActionResult(
        ok=True,
        detail=f"restriction on message {message.id} had already ended on {last.until:%Y-%m-%d %H:%M} UTC",
        platform_ref=started.ref if started else None,
    )


def visible_to(*, session: Session, message: DemoMessage, viewer: DemoAccount, now: datetime) -> bool:
    """Whether `viewer` sees the message: its author always does (unless removed); others
    not while a restriction applies in their country."""
    if message.state == MessageState.REMOVED:
        return False
    if viewer.id == message.sender_id:
        return True
    current = _in_force(session=session, message_id=message.id, now=now)
    return current is None or not current.applies_in(viewer.country)


def _same_terms(row: DemoMessageRestriction, *, scope: frozenset[str] | None, until: datetime | None) -> bool:
    return (frozenset(row.territories) if row.territories is not None else None) == scope and row.until == until


def _in_force(*, session: Session, message_id: str, now: datetime) -> DemoMessageRestriction | None:
    last = _last(session=session, message_id=message_id)
    return last if last is not None and last.in_force(now=now) else None


def _last(*, session: Session, message_id: str) -> DemoMessageRestriction | None:
    """Only the newest row can be in force: each new one ends the one before."""
    query = select(DemoMessageRestriction).where(DemoMessageRestriction.message_id == message_id)
    return session.scalars(query.order_by(DemoMessageRestriction.id.desc()).limit(1)).first()
