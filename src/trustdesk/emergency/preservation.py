"""Keeping what a TCO order removed (Regulation (EU) 2021/784, Art. 6): the content and the
related data, for six months, in Trustdesk's own store, so that the removal on the platform
does not destroy the evidence an investigation or a redress procedure may need.

The copy is taken before the removal (after it, a platform may no longer hand the content
out) and hashed, so that what is produced later can be shown to be what was removed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.audit.service import digest
from trustdesk.core.clock import Clock
from trustdesk.emergency.models import Removal, RemovedContent
from trustdesk.legal.disclosure.retrieval import snapshot_of
from trustdesk.legal.models import RequestTarget
from trustdesk.platform.port import DataCategory, Platform
from trustdesk.safety.enforcement.models import EnforcementAction

# Related data: who posted it and from where (TCO recital 20: to investigate and to restore
# the content after a successful complaint).
RELATED = [DataCategory.SUBSCRIBER, DataCategory.IDENTIFICATION]


def snapshot(platform: Platform, *, message_id: str, account_id: str | None) -> dict[str, Any]:
    """The message, its place in the chat, and the poster's related data, as the platform
    answers now. A lookup that fails is recorded in the copy, never raised: the order must
    still be carried out within the hour."""
    copy: dict[str, Any] = {"message_id": message_id}
    try:
        copy["message"] = platform.get_message(message_id)
        copy["context"] = platform.chat_context(message_id, before=3, after=3)
    except (LookupError, Exception) as exc:  # noqa: BLE001 - any adapter failure is recorded, not fatal
        copy["message_error"] = f"{type(exc).__name__}: {exc}"[:300]
    if account_id:
        try:
            copy["related"] = snapshot_of(platform, account_id=account_id, categories=RELATED, since=None, until=None)
        except Exception as exc:  # noqa: BLE001
            copy["related_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return json.loads(json.dumps(copy, default=_plain))


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    return str(value)


def keep(
    session: Session,
    *,
    lane_clock: Clock,
    removal: Removal,
    target: RequestTarget,
    action: EnforcementAction,
    snapshot: dict[str, Any],
    days: int,
    actor: Actor,
) -> RemovedContent:
    now = lane_clock.now()
    row = RemovedContent(
        removal_id=removal.id,
        message_id=target.message_id or "",
        account_id=target.account_id,
        action_id=action.id,
        platform_ok=action.platform_ok,
        platform_detail=action.platform_detail or "",
        snapshot=snapshot,
        snapshot_sha256=digest(snapshot),
        preserved_at=now,
        preserve_until=now + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="removal.preserve",
        object_type="emergency_removed_content",
        object_id=row.id,
        clock=lane_clock,
        details={
            "removal_id": removal.id,
            "snapshot_sha256": row.snapshot_sha256,
            "preserve_until": row.preserve_until.isoformat(),
        },
    )
    return row


def contents_of(session: Session, *, removal_id: int) -> list[RemovedContent]:
    query = select(RemovedContent).where(RemovedContent.removal_id == removal_id).order_by(RemovedContent.id)
    return list(session.scalars(query))
