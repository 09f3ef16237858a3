"""Synapse's user reports reach review: pulled from its admin API (Synapse has no module
callback for them), once by `trustdesk matrix import-reports`, or on a timer inside the
server (`matrix_reports_every_s`) when the platform is Matrix. Each report is stored once, by
Synapse's report id, and opens (or joins) a review case about the reported message.

Resumable and idempotent. The checkpoint is in the database: the newest report already
imported (`matrix_reports`). An import reads Synapse's reports from the newest back to a
little before it, then stores the new ones in batches, each committed with the review cases
it opened. Interrupted, the next import starts again from what was committed; a report
already stored is skipped, so one read twice (the lookback, a repeated run, the server and
the CLI at once) never makes a second case."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.database import Database
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.matrix.models import MatrixReport
from trustdesk.platform.matrix.reading import from_ts
from trustdesk.platform.port import PlatformError
from trustdesk.safety.enforcement.actions import Source, SubjectKind
from trustdesk.safety.review import service as review
from trustdesk.safety.review.routing import route

logger = logging.getLogger(__name__)

ACTOR = Actor("system", "matrix-reports")
BATCH = 100  # reports per transaction
# Read again behind the checkpoint: Synapse numbers and times a report before it commits
# it, so two reports made at once can appear out of order.
LOOKBACK = timedelta(minutes=1)
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


@dataclass(frozen=True)
class Imported:
    synapse_report_id: int
    event_id: str
    case_id: int


@dataclass
class ImportRun:
    read: int = 0  # reports read from Synapse, back to the checkpoint
    imported: list[Imported] = field(default_factory=list)

    @property
    def already(self) -> int:
        return self.read - len(self.imported)


def unimported(platform: MatrixPlatform, *, since: datetime | None, page_size: int = 100) -> list[dict[str, Any]]:
    """Synapse's reports received since `since` less the lookback (every one when None),
    oldest first, each once."""
    floor = None if since is None else (since - LOOKBACK).timestamp() * 1000
    found: dict[int, dict[str, Any]] = {}
    for page in platform.admin.event_reports_newest_first(page_size=page_size):
        found.update((report["id"], report) for report in page)
        if floor is not None and page[-1]["received_ts"] < floor:
            break
    return sorted(found.values(), key=lambda r: r["id"])


def import_new(
    db: Database,
    *,
    platform: MatrixPlatform,
    clock: Clock,
    actor: Actor = ACTOR,
    batch: int = BATCH,
    page_size: int = 100,
    progress: Callable[[int, int], None] | None = None,
) -> ImportRun:
    """Import every report Synapse holds that Trustdesk has not; `progress(done, total)`
    after each batch. Raises PlatformError when Synapse cannot be read (nothing is stored)."""
    with db.transaction() as session:
        since = report_checkpoint(session)
    pending = unimported(platform, since=since, page_size=page_size)
    run = ImportRun(read=len(pending))
    for start in range(0, len(pending), batch):
        run.imported += _import_batch(db, pending[start : start + batch], actor=actor, clock=clock)
        if progress is not None:
            progress(min(start + batch, len(pending)), len(pending))
    return run


def _import_batch(db: Database, reports: list[dict[str, Any]], *, actor: Actor, clock: Clock) -> list[Imported]:
    """One transaction. When another import stored one of these reports first, the unique
    report id fails this one whole (its cases too); tried again, it skips what the other stored."""
    for attempt in range(2):
        try:
            with db.transaction() as session:
                rows = import_reports(session, reports=reports, actor=actor, clock=clock)
                return [Imported(row.synapse_report_id, row.event_id, int(row.case_ref or 0)) for row in rows]
        except IntegrityError:
            if attempt:
                raise
            logger.info("Matrix reports imported meanwhile by another import; skipping those")
    return []


class ReportSchedule:
    """The import on a timer, in a thread: what the server runs every `matrix_reports_every_s`
    seconds when its platform is Matrix (None when 0, as in the tests, or on another
    platform). The first import comes one period after start; a failure (Synapse
    unreachable) is logged and tried again the next period."""

    def __init__(self, db: Database, platform: MatrixPlatform, *, clock: Clock, every_s: float) -> None:
        self.db, self.platform, self.clock, self.every_s = db, platform, clock, every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def start_for(cls, container: Any, *, every_s: float) -> ReportSchedule | None:
        if every_s <= 0 or not isinstance(container.platform, MatrixPlatform):
            return None
        schedule = cls(container.db, container.platform, clock=container.clock, every_s=every_s)
        schedule._thread = threading.Thread(target=schedule.run, name="matrix-reports", daemon=True)
        schedule._thread.start()
        return schedule

    def run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.run_once()

    def run_once(self) -> None:
        try:
            run = import_new(self.db, platform=self.platform, clock=self.clock)
        except PlatformError as exc:
            logger.warning("Matrix report import failed (%s); trying again in %s s", exc, self.every_s)
        except Exception:
            logger.exception("Matrix report import failed; trying again in %s s", self.every_s)
        else:
            if run.imported:
                logger.info("imported %d Matrix reports into review", len(run.imported))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


@asynccontextmanager
async def server_lifespan(app: Any) -> AsyncIterator[None]:
    """The Matrix connector router's lifespan: the schedule runs while the server does."""
    container = app.state.container
    schedule = ReportSchedule.start_for(container, every_s=container.settings.matrix_reports_every_s)
    try:
        yield
    finally:
        if schedule is not None:
            schedule.stop()
