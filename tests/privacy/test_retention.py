"""Retention runs by the data map (issue #21): what is past its period is emptied, what a
legal hold, an open order, an open appeal or a restriction keeps stays, every run is audited
with counts and never with data, and a second run changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.privacy.conftest import Person, PrivacyFactory
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.blobs import InMemoryBlobStore
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.identity.models import ConsoleSession
from trustdesk.legal.disclosure.models import DisclosurePackage, LegalHold
from trustdesk.privacy import retention
from trustdesk.privacy.models import PurgedRow, Restriction, RightsRequest
from trustdesk.safety.enforcement.models import StatementOfReasons, Strike
from trustdesk.safety.pipeline.models import HandledEvent
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review.models import Case

YEARS_3 = timedelta(days=3 * 365)
TIME = datetime(2026, 3, 1, tzinfo=UTC)


def _run(db: Database, clock: FrozenClock, **kwargs: object) -> retention.RetentionReport:
    with db.transaction() as session:
        return retention.run_retention(session, clock=clock, **kwargs)  # type: ignore[arg-type]


def _notice(db: Database, person: Person) -> Notice:
    with db.transaction() as session:
        notice = session.get(Notice, person.notice_id)
        assert notice is not None
        session.expunge(notice)
        return notice


def test_a_decided_notice_past_two_years_is_pseudonymised(db: Database, clock: FrozenClock, world: PrivacyFactory) -> None:
    old = world.person(at=clock.now() - YEARS_3)
    recent = world.person(at=clock.now() - timedelta(days=30))
    report = _run(db, clock)
    gone, kept = _notice(db, old), _notice(db, recent)
    assert (gone.notifier_name, gone.notifier_email, gone.explanation, gone.location) == (None, None, "", "")
    assert gone.subject_id.startswith("pseud:") and old.message_id not in gone.subject_id
    assert gone.reason == "harassment" and gone.outcome == "action"  # what transparency reports count stays
    assert kept.notifier_email == "nora@example.org" and kept.subject_id == recent.message_id
    assert report.tables["notices"].emptied == 1
    with db.transaction() as session:
        case = session.get(Case, old.case_id)
        assert case is not None and case.reason == "" and case.signals == {}
        strike = session.get(Strike, old.strike_id)
        assert strike is not None and strike.account_id.startswith("pseud:")  # expired 2¾ years ago
        statement = session.get(StatementOfReasons, old.statement_id)
        assert statement is not None and statement.account_id == old.account_id  # five years


def test_a_hold_an_order_an_appeal_and_a_restriction_keep_rows(db: Database, clock: FrozenClock, world: PrivacyFactory) -> None:
    held, ordered, appealing, restricted = (world.person(at=clock.now() - YEARS_3) for _ in range(4))
    world.hold(held.account_id)
    world.lawful_request(ordered.account_id, state="under_review")
    with db.transaction() as session:
        statement = session.get(StatementOfReasons, appealing.statement_id)
        assert statement is not None
        from trustdesk.safety.review.models import Appeal

        appeal = session.get(Appeal, appealing.appeal_id)
        assert appeal is not None
        appeal.state, appeal.decided_at = "open", None
        request = RightsRequest(
            kind="restriction",
            account_id=restricted.account_id,
            state="completed",
            received_at=clock.now(),
            requested_by="test:pytest",
            note="",
            reasons=[],
            told="",
            counts={},
            attempts=1,
        )
        session.add(request)
        session.flush()
        session.add(Restriction(account_id=restricted.account_id, request_id=request.id, since=clock.now()))
    report = _run(db, clock)
    for person in (held, ordered, appealing, restricted):
        assert _notice(db, person).notifier_email == "nora@example.org"
    assert report.tables["notices"].kept == {"legal_hold": 1, "open_order": 1, "open_appeal": 1, "restricted": 1}
    assert report.tables["notices"].emptied == 0


def test_every_run_is_audited_with_counts_never_data_and_runs_once(
    db: Database, clock: FrozenClock, world: PrivacyFactory
) -> None:
    world.person(at=clock.now() - YEARS_3)
    first = _run(db, clock)
    second = _run(db, clock)
    assert first.emptied > 0 and second.emptied == 0
    with db.transaction() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "privacy.retention.run").order_by(AuditEntry.seq)
        ).all()
        assert [e.details["emptied"] for e in entries] == [first.emptied, 0]
        text = json.dumps(entries[0].details)
        assert "nora" not in text and "acct-" not in text and "msg-" not in text
        assert entries[0].details["tables"]["notices"]["emptied"] == 1
        marks = session.scalars(select(PurgedRow).where(PurgedRow.table_name == "notices")).all()
        assert [m.cause for m in marks] == ["retention"]


def test_a_dry_run_counts_and_changes_nothing(db: Database, clock: FrozenClock, world: PrivacyFactory) -> None:
    old = world.person(at=clock.now() - YEARS_3)
    report = _run(db, clock, dry_run=True)
    assert report.tables["notices"].emptied == 1
    assert _notice(db, old).notifier_email == "nora@example.org"
    with db.transaction() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.retention.run")) is None


def test_event_payloads_go_after_the_setting_and_sessions_are_deleted(db: Database, clock: FrozenClock, settings) -> None:  # type: ignore[no-untyped-def]
    from trustdesk.core.identity.models import StaffUser

    with db.transaction() as session:
        for n, age in ((1, 200), (2, 10)):
            session.add(
                HandledEvent(
                    event_id=f"ev-{n}",
                    kind="message",
                    platform="demo",
                    actor=f"acct-ev{n}",
                    occurred_at=clock.now() - timedelta(days=age),
                    handled_at=clock.now() - timedelta(days=age),
                    payload='{"text": "hi"}',
                    verdicts=[],
                    hits=0,
                    worker="w",
                )
            )
        user = StaffUser(
            username="olds",
            display_name="Old",
            email="olds@example.org",
            password_hash="x",
            totp_secret="x",
            roles=[],
            created_at=clock.now(),
        )
        session.add(user)
        session.flush()
        session.add(
            ConsoleSession(
                secret_hash="a" * 64,
                user_id=user.id,
                csrf_token="c",
                created_at=clock.now() - timedelta(days=60),
                expires_at=clock.now() - timedelta(days=59),
            )
        )
    report = _run(db, clock, settings=settings)
    with db.transaction() as session:
        old, new = session.get(HandledEvent, "ev-1"), session.get(HandledEvent, "ev-2")
        assert old is not None and new is not None
        assert old.payload == "" and old.actor.startswith("pseud:") and new.payload == '{"text": "hi"}'
        assert session.scalar(select(ConsoleSession).where(ConsoleSession.secret_hash == "a" * 64)) is None
    assert report.tables["pipeline_events"].emptied == 1 and report.tables["console_sessions"].deleted == 1


def test_a_released_hold_loses_its_snapshot_and_a_delivered_package_its_bytes(
    db: Database, clock: FrozenClock, world: PrivacyFactory, settings
) -> None:  # type: ignore[no-untyped-def]
    person = world.person()
    hold_id = world.hold(person.account_id)
    blobs = InMemoryBlobStore()
    key = blobs.put(b"PK signed package")
    with db.transaction() as session:
        hold = session.get(LegalHold, hold_id)
        assert hold is not None
        session.add(
            DisclosurePackage(
                disclosure_id=_disclosure(session, hold.request_id),
                request_id=hold.request_id,
                officer_id=_officer(session, clock),
                sha256=key,
                size=17,
                manifest={"accounts": [person.account_id]},
                key_id="k1",
                link_hash="b" * 64,
                link_expires_at=clock.now() - timedelta(days=31),
                created_by="staff:lena",
                created_at=clock.now() - timedelta(days=38),
            )
        )
    report = retention.run(db, clock=clock, blobs=blobs, settings=settings)
    assert report.tables["legal_holds"].emptied == 0  # active: the order runs
    assert report.files_deleted == 1 and not blobs.exists(key)
    world.release(hold_id)
    clock.advance(minutes=1)
    report = retention.run(db, clock=clock, blobs=blobs, settings=settings)
    with db.transaction() as session:
        hold = session.get(LegalHold, hold_id)
        assert hold is not None and hold.snapshot == {} and hold.account_id == person.account_id
        package = session.scalar(select(DisclosurePackage).where(DisclosurePackage.sha256 == key))
        assert package is not None and package.manifest == {"accounts": [person.account_id]}  # the record stays
    assert report.tables["legal_holds"].emptied == 1 and report.files_deleted == 0


def _officer(session, clock: FrozenClock) -> int:  # type: ignore[no-untyped-def]
    from trustdesk.legal.models import Agency, Officer

    agency = session.scalars(select(Agency)).first()
    officer = Officer(
        agency_id=agency.id,
        name="O",
        rank="r",
        email="o@agency.invalid",
        supervisor="s",
        state="verified",
        password_hash="x",
        totp_secret="x",
        created_at=clock.now(),
    )
    session.add(officer)
    session.flush()
    return officer.id


def _disclosure(session, request_id: int) -> int:  # type: ignore[no-untyped-def]
    from trustdesk.legal.disclosure.models import Disclosure
    from trustdesk.legal.policy.models import PolicyDecision, PolicyDocument

    document = PolicyDocument(version=f"p-{request_id}", sha256="c" * 64, text="policy", first_used_at=TIME)
    session.add(document)
    session.flush()
    decision = PolicyDecision(
        request_id=request_id,
        outcome="approve",
        policy_document_id=document.id,
        policy_version="1",
        jurisdictions_version="1",
        proposed_by="staff:lena",
        proposed_at=TIME,
    )
    session.add(decision)
    session.flush()
    disclosure = Disclosure(
        request_id=request_id,
        decision_id=decision.id,
        state="packaged",
        prepared_by_id=1,
        prepared_by="staff:lena",
        prepared_at=TIME,
    )
    session.add(disclosure)
    session.flush()
    return disclosure.id


def test_counters_past_thirty_days_go_and_preserved_media_lose_their_bytes(
    db: Database, clock: FrozenClock, world: PrivacyFactory
) -> None:
    from trustdesk.safety.enforcement.models import CyberTiplineReport, PreservedMedia
    from trustdesk.safety.pipeline.models import CounterBucket

    person = world.person()
    minute = int(clock.now().timestamp() // 60)
    with db.transaction() as session:
        session.add_all(
            [
                CounterBucket(key="actor:acct-c", minute=minute - 31 * 24 * 60, count=3),
                CounterBucket(key="actor:acct-c", minute=minute - 5, count=1),
            ]
        )
        report = CyberTiplineReport(
            account_id=person.account_id, state="filed", fields={"name": "x"}, created_at=clock.now(), updated_at=clock.now()
        )
        session.add(report)
        session.flush()
        for n, until in ((1, clock.now() - timedelta(days=1)), (2, clock.now() + timedelta(days=30))):
            session.add(
                PreservedMedia(
                    report_id=report.id,
                    action_id=person.action_id,
                    media_id=f"media-{n}",
                    message_id=person.message_id,
                    content_type="image/jpeg",
                    sha256="d" * 64,
                    data=b"\xff\xd8 jpeg",
                    preserved_at=clock.now() - timedelta(days=365),
                    preserve_until=until,
                )
            )
    result = _run(db, clock)
    with db.transaction() as session:
        assert [c.minute for c in session.scalars(select(CounterBucket).where(CounterBucket.key == "actor:acct-c"))] == [
            minute - 5
        ]
        media = {m.media_id: m for m in session.scalars(select(PreservedMedia).where(PreservedMedia.report_id == report.id))}
        assert media["media-1"].data == b"" and media["media-1"].message_id is None and media["media-1"].sha256 == "d" * 64
        assert media["media-2"].data == b"\xff\xd8 jpeg"
    assert result.tables["pipeline_counters"].deleted == 1 and result.tables["cybertipline_media"].emptied == 1
