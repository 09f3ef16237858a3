"""The connector's operations on Trustdesk's side: answer Synapse's pre-send checks, take in
the events it streams (screening those it let through unchecked while Trustdesk was down).
Its users' reports reach review through safety (`safety/reports/matrix.py`). Keyword-only,
session first, flush never commit."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import InvalidInput
from trustdesk.platform.matrix.models import MatrixEvent
from trustdesk.platform.matrix.screen import ContentScreen, Verdict
from trustdesk.platform.port import Platform

TEXT_TYPES = frozenset({"m.room.message", "m.sticker"})


@dataclass(frozen=True)
class IngestResult:
    received: int
    duplicates: int
    removed: list[str]


def message_text(content: dict[str, Any]) -> str:
    """What a person would read: the body, and the formatted body when it differs."""
    parts = [content.get("body"), content.get("formatted_body")]
    return "\n".join(p for p in parts if isinstance(p, str))


def check_event(session: Session, *, screen: ContentScreen, event: dict[str, Any], actor: Actor, clock: Clock) -> Verdict:
    """The pre-send answer for one message. Blocks are audited; allows write nothing, since
    they sit on the send path of every message."""
    verdict = screen.check_text(message_text(event.get("content") or {}))
    if verdict.block:
        record(
            session,
            actor=actor,
            action="matrix.block_message",
            object_type="matrix_event",
            object_id=str(event.get("event_id")),
            reason=verdict.reason,
            clock=clock,
            details={"room_id": str(event.get("room_id")), "sender": str(event.get("sender"))},
        )
    return verdict


def check_media(session: Session, *, screen: ContentScreen, media: dict[str, Any], actor: Actor, clock: Clock) -> Verdict:
    data = _decode(media.get("data_b64"))
    sha256 = hashlib.sha256(data).hexdigest() if data is not None else str(media.get("sha256", ""))
    verdict = screen.check_media(sha256=sha256, data=data)
    if verdict.block:
        record(
            session,
            actor=actor,
            action="matrix.block_media",
            object_type="matrix_media",
            object_id=f"{media.get('server_name')}/{media.get('media_id')}",
            reason=verdict.reason,
            clock=clock,
            details={"sha256": sha256},
        )
    return verdict


def _decode(value: Any) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, TypeError) as exc:
        raise InvalidInput("data_b64 is not valid base64.") from exc


def ingest_events(
    session: Session,
    *,
    events: list[dict[str, Any]],
    screen: ContentScreen,
    platform: Platform | None,
    actor: Actor,
    clock: Clock,
) -> IngestResult:
    """Store each event once (a replay after an outage is a duplicate, not a second copy);
    screen the ones Synapse let through unchecked and remove those that fail."""
    received = duplicates = 0
    removed: list[str] = []
    for body in events:
        existing = session.scalars(select(MatrixEvent).where(MatrixEvent.event_id == body["event_id"])).first()
        if existing is not None:
            duplicates += 1
            if body.get("unchecked"):
                existing.unchecked = True
            continue
        row = _store(session, body=body, clock=clock)
        received += 1
        if (
            row.unchecked
            and row.type in TEXT_TYPES
            and _screen_late(session, row=row, screen=screen, platform=platform, actor=actor, clock=clock)
        ):
            removed.append(row.event_id)
    session.flush()
    return IngestResult(received=received, duplicates=duplicates, removed=removed)


def _store(session: Session, *, body: dict[str, Any], clock: Clock) -> MatrixEvent:
    row = MatrixEvent(
        event_id=body["event_id"],
        room_id=body["room_id"],
        sender=body["sender"],
        type=body["type"],
        sent_at=datetime.fromtimestamp(body["origin_server_ts"] / 1000, UTC),
        content=body.get("content") or {},
        unchecked=bool(body.get("unchecked")),
        received_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def _screen_late(
    session: Session, *, row: MatrixEvent, screen: ContentScreen, platform: Platform | None, actor: Actor, clock: Clock
) -> bool:
    verdict = screen.check_text(message_text(row.content))
    row.verdict = verdict.name
    if not verdict.block or platform is None:
        return False
    result = platform.remove_message(row.event_id, reason=f"late screening: {verdict.reason}")
    record(
        session,
        actor=actor,
        action="matrix.remove_late",
        object_type="matrix_event",
        object_id=row.event_id,
        reason=verdict.reason,
        clock=clock,
        details={"ok": result.ok, "platform_ref": result.platform_ref, "detail": result.detail},
    )
    return result.ok
