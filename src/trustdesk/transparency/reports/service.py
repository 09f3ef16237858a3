"""Generating, drafting and publishing transparency reports.

Publishing is deliberate: a staff member with TRANSPARENCY_PUBLISH first makes a draft (the
files are generated and frozen with their SHA-256), looks at it, and publishes exactly that
draft. Publication gives it the next version of its report and period; a published report
never changes, and a correction is a new version with a note of what it corrects."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.safety.quality.indicators import accuracy_indicators
from trustdesk.transparency.reports import annex, dsa, dsa_accuracy, dsa_facts, dsa_files, government, government_files
from trustdesk.transparency.reports.documents import RenderedFile
from trustdesk.transparency.reports.models import ReportFile, ReportState, TransparencyReport
from trustdesk.transparency.reports.periods import Period, parse_period

MAX_NOTE = 2000


class ReportKind(StrEnum):
    DSA = "dsa"
    GOVERNMENT = "government"


TITLES = {ReportKind.DSA: "DSA transparency report", ReportKind.GOVERNMENT: "Government requests for user data"}


def parse_kind(value: str) -> ReportKind:
    try:
        return ReportKind(value.strip().lower())
    except ValueError:
        raise InvalidInput(f"'{value}' is not a report; choose {' or '.join(ReportKind)}.", field="kind") from None


def dsa_report(session: Session, *, period: Period, now: datetime) -> dsa.DsaReport:
    report = dsa.build_report(dsa_facts.gather(session, period=period), period=period, now=now)
    # -- issue #22: accuracy and error rates measured from the quality labels and appeals
    # (safety/quality), with sample sizes and 95 % intervals; the one call into that room.
    indicators = accuracy_indicators(session, start=period.start, end=period.end)
    return dsa_accuracy.with_accuracy(report, indicators)


def government_report(session: Session, *, period: Period, now: datetime) -> government.GovernmentReport:
    return government.build(session, period=period, now=now)


DEFAULT_PROVIDER = annex.Provider(name="Demo Messenger Ltd")


def previous_publication(session: Session, *, kind: ReportKind, before: Period) -> datetime | None:
    """When the latest report of this kind for an earlier period was first published."""
    rows = session.scalars(
        select(TransparencyReport).where(
            TransparencyReport.kind == kind.value, TransparencyReport.state == ReportState.PUBLISHED.value
        )
    )
    earlier = [r.published_at for r in rows if r.published_at is not None and parse_period(r.period).end <= before.start]
    return max(earlier, default=None)


def dsa_annex(
    session: Session,
    *,
    period: Period,
    now: datetime,
    provider: annex.Provider | None = None,
    accuracy: annex.AccuracyByScope | None = None,
) -> annex.AnnexReport:
    """The Annex I templates filled in. `accuracy`: Part 8's accuracy figures by scope; the
    quality labels' `accuracy_indicators` (issue #22 item 2) give them, else the fallback."""
    facts = dsa_facts.gather(session, period=period)
    previous = previous_publication(session, kind=ReportKind.DSA, before=period)
    if accuracy is None:  # issue #22: the quality labels' figures, the one call into that room for Part 8
        indicators = accuracy_indicators(session, start=period.start, end=period.end)
        accuracy = dsa_accuracy.annex_accuracy(indicators, annex.fallback_accuracy(facts))
    return annex.build(
        facts,
        period=period,
        provider=provider or DEFAULT_PROVIDER,
        published=now.date(),
        previous=previous.date() if previous else None,
        accuracy=accuracy,
    )


def render(
    session: Session, *, kind: ReportKind, period: Period, now: datetime, provider: annex.Provider | None = None
) -> list[RenderedFile]:
    """Every file of one report for one period, from the records as they are now."""
    if kind is ReportKind.DSA:
        return dsa_files.files(
            dsa_report(session, period=period, now=now), dsa_annex(session, period=period, now=now, provider=provider)
        )
    return government_files.files(government_report(session, period=period, now=now))


def dsa_trace(session: Session, *, period: Period, now: datetime, provider: annex.Provider | None = None) -> bytes:
    """For staff, never published: each figure of the Annex I files and the records it counts."""
    return annex.render_trace(dsa_annex(session, period=period, now=now, provider=provider))


def create_draft(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    kind: str,
    period: str,
    provider: annex.Provider | None = None,
) -> TransparencyReport:
    """Generate the report's files now and keep them, unpublished, for review."""
    authorize(principal, Permission.TRANSPARENCY_PUBLISH)
    report_kind, report_period = parse_kind(kind), parse_period(period)
    now = clock.now()
    if report_period.start >= now:
        raise InvalidInput(f"The period {report_period.label} has not started yet.", field="period")
    row = TransparencyReport(
        kind=report_kind.value,
        period=report_period.label,
        state=ReportState.DRAFT.value,
        generated_at=now,
        generated_by=str(actor),
    )
    session.add(row)
    session.flush()
    for rendered in render(session, kind=report_kind, period=report_period, now=now, provider=provider):
        session.add(
            ReportFile(
                report_id=row.id,
                name=rendered.name,
                media_type=rendered.media_type,
                size=len(rendered.content),
                sha256=rendered.sha256,
                content=rendered.content,
            )
        )
    session.flush()
    session.refresh(row)
    record(
        session,
        actor=actor,
        clock=clock,
        action="transparency.draft",
        object_type="transparency_report",
        object_id=row.id,
        details={"report": row.slug, "files": {f.name: f.sha256 for f in row.files}},
    )
    return row


def _draft(session: Session, report_id: int) -> TransparencyReport:
    row = session.get(TransparencyReport, report_id)
    if row is None:
        raise NotFound(f"No transparency report draft {report_id}.")
    if row.state != ReportState.DRAFT:
        raise Conflict(f"Report {row.slug} (draft {row.id}) is {row.state}; only a draft can be published or discarded.")
    return row


def latest_version(session: Session, *, kind: str, period: str) -> int:
    query = select(func.max(TransparencyReport.version)).where(
        TransparencyReport.kind == kind, TransparencyReport.period == period
    )
    return session.scalar(query) or 0


def publish(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, report_id: int, correction_note: str | None = None
) -> TransparencyReport:
    """Publish a draft as the next version. A second or later version corrects the one
    before and must say what it corrects; the first has nothing to correct."""
    authorize(principal, Permission.TRANSPARENCY_PUBLISH)
    row = _draft(session, report_id)
    if parse_period(row.period).end > row.generated_at:
        raise Conflict(
            f"The draft of {row.slug} was made before the period ended; a published report covers a whole period. Make a new draft after it ends."
        )
    note = (correction_note or "").strip() or None
    version = latest_version(session, kind=row.kind, period=row.period) + 1
    if version > 1 and note is None:
        raise InvalidInput(
            f"{row.slug} was already published as version {version - 1}; say what this version corrects.", field="correction_note"
        )
    if note is not None and (version == 1 or len(note) > MAX_NOTE):
        raise InvalidInput(
            f"A correction note belongs to a second or later version, in up to {MAX_NOTE} characters.", field="correction_note"
        )
    _check_integrity(row)
    row.state, row.version, row.published_at, row.published_by, row.correction_note = (
        ReportState.PUBLISHED.value,
        version,
        clock.now(),
        str(actor),
        note,
    )
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="transparency.publish",
        object_type="transparency_report",
        object_id=row.id,
        reason=note,
        details={"report": row.slug, "version": version, "files": {f.name: f.sha256 for f in row.files}},
    )
    return row


def discard(
    session: Session, *, actor: Actor, clock: Clock, principal: Principal, report_id: int, reason: str
) -> TransparencyReport:
    authorize(principal, Permission.TRANSPARENCY_PUBLISH)
    row = _draft(session, report_id)
    if not reason.strip():
        raise InvalidInput("Say why the draft is discarded.", field="reason")
    row.state, row.discarded_at, row.discarded_by = ReportState.DISCARDED.value, clock.now(), str(actor)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="transparency.discard",
        object_type="transparency_report",
        object_id=row.id,
        reason=reason.strip(),
        details={"report": row.slug},
    )
    return row


def _check_integrity(row: TransparencyReport) -> None:
    for file in row.files:
        if hashlib.sha256(file.content).hexdigest() != file.sha256:
            raise Conflict(f"File {file.name} of {row.slug} does not match its SHA-256; it will not be served or published.")


def list_reports(session: Session, *, state: ReportState) -> list[TransparencyReport]:
    query = select(TransparencyReport).where(TransparencyReport.state == state.value)
    return list(
        session.scalars(
            query.order_by(
                TransparencyReport.period.desc(),
                TransparencyReport.kind,
                TransparencyReport.version.desc(),
                TransparencyReport.id.desc(),
            )
        )
    )


def get_draft(session: Session, *, principal: Principal, report_id: int) -> TransparencyReport:
    authorize(principal, Permission.TRANSPARENCY_PUBLISH)
    row = session.get(TransparencyReport, report_id)
    if row is None or row.state == ReportState.PUBLISHED:
        raise NotFound(f"No draft {report_id}.")
    return row


def get_published(session: Session, *, slug: str, version: int) -> TransparencyReport:
    kind, _, period = slug.partition("-")
    query = select(TransparencyReport).where(
        TransparencyReport.kind == kind,
        TransparencyReport.period == period,
        TransparencyReport.version == version,
        TransparencyReport.state == ReportState.PUBLISHED.value,
    )
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(f"No published report {slug} version {version}.")
    return row


def get_file(row: TransparencyReport, *, name: str) -> ReportFile:
    """One file of a report, served only while it still matches its recorded SHA-256."""
    file = next((f for f in row.files if f.name == name), None)
    if file is None:
        raise NotFound(f"{row.slug} has no file {name}.")
    _check_integrity(row)
    return file


def html_file(row: TransparencyReport) -> ReportFile:
    return next(f for f in row.files if f.name.endswith(".html"))
