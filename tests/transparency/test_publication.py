"""Drafting and publishing: a deliberate, audited step; a published report never changes; a
correction is a new version that says what it corrects; the public page serves the frozen
files without sign-in, and only them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.transparency.conftest import ACTOR, principal
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Role
from trustdesk.transparency.reports import service
from trustdesk.transparency.reports.models import PublishedReportChanged, ReportFile, TransparencyReport

PUBLISHER = principal(Role.LEGAL_OFFICER)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.transaction() as session:
        yield session


def _publish(
    session: Session, clock: FrozenClock, kind: str = "government", period: str = "2025", note: str | None = None
) -> TransparencyReport:
    draft = service.create_draft(session, actor=ACTOR, clock=clock, principal=PUBLISHER, kind=kind, period=period)
    return service.publish(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=draft.id, correction_note=note)


def test_publishing_freezes_the_draft_as_version_one_with_an_audit_entry(session: Session, clock: FrozenClock) -> None:
    draft = service.create_draft(session, actor=ACTOR, clock=clock, principal=PUBLISHER, kind="dsa", period="2025")
    assert draft.state == "draft" and draft.version is None
    names = sorted(f.name for f in draft.files)
    assert len(names) == 13 and names[-2:] == ["dsa-transparency-2025.html", "dsa-transparency-2025.xlsx"]
    assert "dsa-transparency-2025-4_notices.csv" in names and "dsa-transparency-2025-8_automated_means.csv" in names
    assert all(hashlib.sha256(f.content).hexdigest() == f.sha256 and f.size == len(f.content) for f in draft.files)
    published = service.publish(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=draft.id)
    assert (published.state, published.version, published.published_at) == ("published", 1, clock.now())
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "transparency_report").order_by(AuditEntry.seq)
    ).all()
    assert [e.action for e in entries] == ["transparency.draft", "transparency.publish"]
    assert entries[1].details["files"] == {f.name: f.sha256 for f in draft.files} and entries[1].details["version"] == 1


def test_a_correction_is_a_new_version_that_says_what_it_corrects(session: Session, clock: FrozenClock) -> None:
    first = _publish(session, clock)
    second_draft = service.create_draft(session, actor=ACTOR, clock=clock, principal=PUBLISHER, kind="government", period="2025")
    with pytest.raises(InvalidInput, match="say what this version corrects"):
        service.publish(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=second_draft.id)
    assert second_draft.state == "draft"
    second = service.publish(
        session,
        actor=ACTOR,
        clock=clock,
        principal=PUBLISHER,
        report_id=second_draft.id,
        correction_note="Counted a withdrawn order twice.",
    )
    assert (first.version, second.version, second.correction_note) == (1, 2, "Counted a withdrawn order twice.")
    assert service.get_published(session, slug="government-2025", version=1).id == first.id


def test_a_first_version_has_nothing_to_correct(session: Session, clock: FrozenClock) -> None:
    draft = service.create_draft(session, actor=ACTOR, clock=clock, principal=PUBLISHER, kind="dsa", period="2025")
    with pytest.raises(InvalidInput):
        service.publish(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=draft.id, correction_note="nothing")


def test_a_published_report_and_its_files_cannot_be_changed(session: Session, clock: FrozenClock) -> None:
    published = _publish(session, clock)
    with pytest.raises(Conflict):
        service.publish(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=published.id)
    with pytest.raises(Conflict):
        service.discard(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=published.id, reason="oops")
    with pytest.raises(PublishedReportChanged), session.begin_nested():
        published.correction_note = "rewritten"
        session.flush()
    session.expire_all()
    file = session.scalars(select(ReportFile).where(ReportFile.report_id == published.id)).first()
    with pytest.raises(PublishedReportChanged), session.begin_nested():
        file.content = b"forged"
        session.flush()
    with pytest.raises(PublishedReportChanged), session.begin_nested():
        session.delete(session.get(TransparencyReport, published.id))
        session.flush()


def test_a_file_that_no_longer_matches_its_hash_is_not_served(session: Session, clock: FrozenClock) -> None:
    published = _publish(session, clock)
    file = published.files[0]
    session.expunge(file)  # change the bytes behind the ORM's back, as a tampered database would
    session.execute(ReportFile.__table__.update().where(ReportFile.id == file.id).values(content=b"forged"))
    session.expire_all()
    with pytest.raises(Conflict, match="SHA-256"):
        service.get_file(service.get_published(session, slug="government-2025", version=1), name=file.name)


def test_a_period_must_end_before_its_report_is_published(session: Session, clock: FrozenClock) -> None:
    draft = service.create_draft(
        session, actor=ACTOR, clock=clock, principal=PUBLISHER, kind="dsa", period="2026"
    )  # the clock is in March 2026
    with pytest.raises(Conflict, match="before the period ended"):
        service.publish(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=draft.id)
    with pytest.raises(InvalidInput, match="not started"):
        service.create_draft(session, actor=ACTOR, clock=clock, principal=PUBLISHER, kind="dsa", period="2027")


def test_bad_input_and_missing_permission_change_nothing(session: Session, clock: FrozenClock) -> None:
    with pytest.raises(InvalidInput, match="dsa or government"):
        service.create_draft(session, actor=ACTOR, clock=clock, principal=PUBLISHER, kind="annual", period="2025")
    with pytest.raises(InvalidInput, match="half-year"):
        service.create_draft(session, actor=ACTOR, clock=clock, principal=PUBLISHER, kind="dsa", period="2025-Q1")
    with pytest.raises(Forbidden):
        service.create_draft(session, actor=ACTOR, clock=clock, principal=principal(Role.REVIEWER), kind="dsa", period="2025")
    with pytest.raises(NotFound):
        service.publish(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=999)
    assert session.scalars(select(TransparencyReport)).all() == []


def test_a_discarded_draft_stays_on_record(session: Session, clock: FrozenClock) -> None:
    draft = service.create_draft(session, actor=ACTOR, clock=clock, principal=PUBLISHER, kind="dsa", period="2025-H2")
    with pytest.raises(InvalidInput):
        service.discard(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=draft.id, reason=" ")
    service.discard(session, actor=ACTOR, clock=clock, principal=PUBLISHER, report_id=draft.id, reason="made too early")
    assert session.get(TransparencyReport, draft.id).state == "discarded"
    assert service.latest_version(session, kind="dsa", period="2025-H2") == 0
