"""Work that crosses domains: Synapse's user reports become notices in review.

Synapse has no module callback for reports, so they are pulled from its admin API with a
resumable cursor (the highest report id already imported), by a worker or the CLI. Each
report is stored once and opens (or joins) a review case about the reported message."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.matrix.models import MatrixReport
from trustdesk.platform.matrix.reading import from_ts
from trustdesk.safety.enforcement.actions import Source, SubjectKind
from trustdesk.safety.review import service as review
from trustdesk.safety.review.routing import route

REPORT_PRIORITY = 20  # a user report without a category: above spam, below named harms


def import_reports(session: Session, *, platform: MatrixPlatform, actor: Actor, clock: Clock) -> list[MatrixReport]:
    """Import every report newer than the last one imported; returns the new ones."""
    after = session.scalar(select(func.max(MatrixReport.synapse_report_id))) or 0
    imported = []
    for report in platform.admin.event_reports(after=after):
        imported.append(_import(session, report=report, actor=actor, clock=clock))
    return imported


def _import(session: Session, *, report: dict, actor: Actor, clock: Clock) -> MatrixReport:
    reason = (report.get("reason") or "").strip() or None
    case = review.open_case(
        session, actor=actor, clock=clock, subject_kind=SubjectKind.MESSAGE, subject_id=report["event_id"],
        queue=route(policy=None, source=Source.NOTICE), priority=REPORT_PRIORITY, source=Source.NOTICE,
        reason=f"Matrix report by {report['user_id']}" + (f": {reason}" if reason else ""),
    )
    row = MatrixReport(
        synapse_report_id=report["id"], event_id=report["event_id"], room_id=report["room_id"],
        reporter=report["user_id"], sender=report.get("sender"), reason=reason,
        reported_at=from_ts(report["received_ts"]), imported_at=clock.now(), case_ref=str(case.id),
    )
    session.add(row)
    session.flush()
    record(session, actor=actor, clock=clock, action="matrix.report_import", object_type="matrix_report",
           object_id=row.id, details={"case_id": case.id, "synapse_report_id": report["id"]})
    return row
