"""Work that crosses domains: Synapse's user reports become notices in review, and uploads
and the messages that post them are remembered by the hash banks (for retroaction).

Synapse has no module callback for reports, so they are pulled from its admin API
(`reports.py`: by the server on a timer, or `trustdesk matrix import-reports`). Each report
is stored once, by Synapse's report id, and opens (or joins) a review case about the
reported message."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.cpu import CpuPool
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.paging import Pager
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.matrix.models import MatrixReport
from trustdesk.platform.matrix.reading import from_ts
from trustdesk.platform.port import Platform, PlatformError
from trustdesk.safety.banks.lookup import check_upload, link_message, stored_media
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.enforcement.actions import Source, SubjectKind
from trustdesk.safety.review import service as review
from trustdesk.safety.review.routing import route

REPORT_PRIORITY = 20  # a user report without a category: above spam, below named harms


def report_checkpoint(session: Session) -> datetime | None:
    """When Synapse received the newest report imported: the next import reads back to it."""
    return session.scalar(select(func.max(MatrixReport.reported_at)))


def import_reports(session: Session, *, reports: Iterable[dict[str, Any]], actor: Actor, clock: Clock) -> list[MatrixReport]:
    """Store each of Synapse's reports not stored yet, oldest first, each opening (or joining)
    a review case; returns the new ones. A report already imported is skipped: importing the
    same reports again never makes a second case."""
    pending = sorted(reports, key=lambda r: r["id"])
    stored = select(MatrixReport.synapse_report_id).where(MatrixReport.synapse_report_id.in_([r["id"] for r in pending]))
    known = set(session.scalars(stored))
    imported = []
    for report in pending:
        if report["id"] not in known:
            known.add(report["id"])
            imported.append(_import(session, report=report, actor=actor, clock=clock))
    return imported


def _import(session: Session, *, report: dict, actor: Actor, clock: Clock) -> MatrixReport:
    reason = (report.get("reason") or "").strip() or None
    case = review.open_case(
        session,
        actor=actor,
        clock=clock,
        subject_kind=SubjectKind.MESSAGE,
        subject_id=report["event_id"],
        queue=route(policy=None, source=Source.NOTICE),
        priority=REPORT_PRIORITY,
        source=Source.NOTICE,
        reason=f"Matrix report by {report['user_id']}" + (f": {reason}" if reason else ""),
    )
    row = MatrixReport(
        synapse_report_id=report["id"],
        event_id=report["event_id"],
        room_id=report["room_id"],
        reporter=report["user_id"],
        sender=report.get("sender"),
        reason=reason,
        reported_at=from_ts(report["received_ts"]),
        imported_at=clock.now(),
        case_ref=str(case.id),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="matrix.report_import",
        object_type="matrix_report",
        object_id=row.id,
        details={"case_id": case.id, "synapse_report_id": report["id"]},
    )
    return row


# -- media for the hash banks ------------------------------------------------------------------

POSTING_TYPES = frozenset({"m.room.message", "m.sticker"})


def remember_upload(
    session: Session,
    *,
    matcher: MatchService,
    media: dict[str, Any],
    actor: Actor,
    clock: Clock,
    pager: Pager | None = None,
    cpu: CpuPool | None = None,
) -> None:
    """Hash an upload Synapse is about to store (the media check let it through), so that
    bank entries added later find it (retroaction). Never fails the check: a file that is
    no readable image is skipped."""
    if not media.get("data_b64"):
        return  # too large to travel inline: hashed from the admin API when its message arrives
    media_id = f"{media['server_name']}/{media['media_id']}"
    try:
        with session.begin_nested():
            check_upload(
                session,
                matcher=matcher,
                actor=actor,
                clock=clock,
                platform_name=MatrixPlatform.name,
                media_id=media_id,
                data=base64.b64decode(media["data_b64"]),
                pager=pager,
                cpu=cpu,
            )
    except TrustdeskError:
        return


def remember_posted_media(
    session: Session,
    *,
    matcher: MatchService,
    events: list[dict[str, Any]],
    platform: Platform | None,
    actor: Actor,
    clock: Clock,
    pager: Pager | None = None,
    cpu: CpuPool | None = None,
) -> int:
    """Link each posted file to the message (event) that carries it; a file not seen at upload
    (too large to send inline, or Trustdesk was down) is fetched and hashed now. Returns how
    many files were linked."""
    linked = 0
    for event in events:
        media_id = _posted_media(event)
        if media_id is None:
            continue
        stored = stored_media(session, platform_name=MatrixPlatform.name, media_id=media_id)
        if stored is not None:
            link_message(stored, message_id=event["event_id"])
            linked += 1
        elif platform is not None:
            linked += _fetch_and_remember(
                session,
                matcher=matcher,
                platform=platform,
                media_id=media_id,
                event_id=event["event_id"],
                actor=actor,
                clock=clock,
                pager=pager,
                cpu=cpu,
            )
    session.flush()
    return linked


def _posted_media(event: dict[str, Any]) -> str | None:
    """`server/media_id` of an unencrypted file a message posts (encrypted files are opaque)."""
    url = (event.get("content") or {}).get("url")
    if event.get("type") not in POSTING_TYPES or not isinstance(url, str) or not url.startswith("mxc://"):
        return None
    return url.removeprefix("mxc://")


def _fetch_and_remember(
    session: Session,
    *,
    matcher: MatchService,
    platform: Platform,
    media_id: str,
    event_id: str,
    actor: Actor,
    clock: Clock,
    pager: Pager | None,
    cpu: CpuPool | None,
) -> int:
    try:
        item, data = platform.get_media(media_id)
        with session.begin_nested():
            check_upload(
                session,
                matcher=matcher,
                actor=actor,
                clock=clock,
                platform_name=MatrixPlatform.name,
                media_id=media_id,
                data=data,
                content_type=item.content_type,
                pager=pager,
                message_id=event_id,
                cpu=cpu,
            )
    except (LookupError, PlatformError, TrustdeskError):
        return 0
    return 1
