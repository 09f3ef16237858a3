"""The rights of the people in the data end to end (issue #21): an access request yields the
export, leaving out a lawful request under a gag with the reason recorded; an erasure request
is deferred by a legal hold, with the reason recorded and nothing told that reveals the
order, and completes once the hold is released; a restriction keeps data from retention."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.privacy.conftest import PrivacyFactory, dpo
from trustdesk.core.audit import Actor
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput
from trustdesk.core.identity.permissions import Principal, PrincipalKind, Role, permissions_for
from trustdesk.legal.disclosure.models import NoticeState
from trustdesk.privacy import export, retention, rights
from trustdesk.privacy.models import RightKind, RightState
from trustdesk.safety.enforcement.models import StatementOfReasons, Strike
from trustdesk.safety.pipeline.models import HandledEvent
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review.models import Appeal

ACTOR = Actor("staff", "dana")


def _receive(db: Database, clock: FrozenClock, kind: RightKind, account_id: str) -> rights.Outcome:
    with db.transaction() as session:
        outcome = rights.receive(
            session, actor=ACTOR, clock=clock, principal=dpo(), kind=kind, account_id=account_id, note="ID checked"
        )
        session.expunge(outcome.request)
        return outcome


def test_access_exports_the_data_and_leaves_out_a_gagged_request(db: Database, clock: FrozenClock, world: PrivacyFactory) -> None:
    person = world.person()
    told = world.lawful_request(person.account_id, state="answered", notice=NoticeState.SENT)
    gagged = world.lawful_request(person.account_id, state="under_review", notice=NoticeState.WAITING)
    outcome = _receive(db, clock, RightKind.ACCESS, person.account_id)
    document = outcome.export
    assert document is not None
    sections = document["sections"]
    assert [len(sections[k]) for k in ("notices", "decisions", "actions", "strikes", "statements", "appeals")] == [1] * 6
    assert [r["reference"] for r in sections["lawful_requests"]] == [told]
    text = json.dumps(document) + export.markdown(document)
    assert gagged not in text and "2705" not in text
    assert "nora" not in text.lower() and "they keep writing" not in text  # the reporter's data is theirs
    assert "staff:rita" not in text  # who decided is staff data
    assert "I was joking with a friend" in text  # the person's own appeal
    request = outcome.request
    assert request.state == RightState.PARTLY_DEFERRED
    assert request.reasons == [
        {
            "obstacle": "non_disclosure_order",
            "detail": f"lawful request {gagged} left out of the export",
            "scope": "lawful_requests",
        }
    ]
    assert "deferred" not in request.told and gagged not in request.told
    # the reasons never reach the person: a later export lists the request without them, and
    # its state reads as any answered request's
    with db.transaction() as session:
        again = rights.export_of(session, principal=dpo(), request_id=request.id, clock=clock)
    assert gagged not in json.dumps(again) and again["sections"]["rights_requests"][0]["state"] == "answered"
    # and producing it is in the access log, justified by the access request itself (issue #21 item 4)
    from trustdesk.core.access.models import AccessEntry

    with db.transaction() as session:
        logged = session.scalars(select(AccessEntry).where(AccessEntry.subject_id == person.account_id)).all()
    assert [(e.what, e.purpose_kind, e.purpose_ref, e.channel) for e in logged] == [
        ("subject_export", "subject_request", str(request.id), "export")
    ]


def test_a_request_with_no_notice_at_all_is_confidential_too(db: Database, clock: FrozenClock, world: PrivacyFactory) -> None:
    person = world.person()
    secret = world.lawful_request(person.account_id, state="under_review", notice=None)
    outcome = _receive(db, clock, RightKind.ACCESS, person.account_id)
    assert outcome.export is not None and secret not in json.dumps(outcome.export)
    assert outcome.request.reasons[0]["obstacle"] == "confidential_order"


def test_erasure_is_deferred_by_a_hold_then_done_when_it_is_released(
    db: Database, clock: FrozenClock, world: PrivacyFactory
) -> None:
    person = world.person()
    hold = world.hold(person.account_id)  # a preservation order, its user notice waiting (a gag)
    with db.transaction() as session:
        session.add(
            HandledEvent(
                event_id="ev-p",
                kind="message",
                platform="demo",
                actor=person.account_id,
                occurred_at=clock.now(),
                handled_at=clock.now(),
                payload='{"text": "x"}',
                verdicts=[],
                hits=0,
                worker="w",
            )
        )
    outcome = _receive(db, clock, RightKind.ERASURE, person.account_id)
    request = outcome.request
    assert request.state == RightState.DEFERRED
    assert [r["obstacle"] for r in request.reasons] == ["legal_hold"]
    assert "LR-" in request.reasons[0]["detail"]  # staff see which order
    assert request.told == rights.TOLD_WAITING  # the person learns nothing of the order
    with db.transaction() as session:
        notice = session.get(Notice, person.notice_id)
        assert notice is not None and notice.explanation == "they keep writing to me"  # nothing erased
    world.release(hold)
    clock.advance(hours=1)
    with db.transaction() as session:
        done = rights.retry(session, actor=ACTOR, clock=clock, principal=dpo(), request_id=request.id).request
        assert done.state == RightState.COMPLETED and done.attempts == 2
        assert done.counts["notices"] == 1 and done.counts["pipeline_events"] == 1 and done.counts["review_appeals"] == 1
        notice = session.get(Notice, person.notice_id)
        assert notice is not None and notice.explanation == "" and notice.subject_id.startswith("pseud:")
        assert session.get(Appeal, person.appeal_id).text == ""  # type: ignore[union-attr]
        event = session.get(HandledEvent, "ev-p")
        assert event is not None and event.payload == "" and event.actor.startswith("pseud:")
        # kept by the law, and the person told why (no gag now: the order is answered)
        assert session.get(StatementOfReasons, person.statement_id).account_id == person.account_id  # type: ignore[union-attr]
        assert session.get(Strike, person.strike_id).account_id == person.account_id  # type: ignore[union-attr]
        assert {r["scope"] for r in done.reasons} >= {"statements_of_reasons", "strikes", "enforcement_actions"}
        assert "statements of reasons" in done.told
        for hint in ("legal request", "legal user notices", "lawful", "Art. 23", "LR-"):  # the user notice still waits
            assert hint not in done.told
        assert "legal_request_targets" in {r["scope"] for r in done.reasons}  # staff see it
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "privacy_request")).all()
        assert actions == ["privacy.request.received", "privacy.erasure.deferred", "privacy.erasure.completed"]
    with db.transaction() as session, pytest.raises(Conflict):
        rights.retry(session, actor=ACTOR, clock=clock, principal=dpo(), request_id=request.id)  # done: nothing to retry


def test_a_job_answers_deferred_requests_once_their_obstacle_ends(
    db: Database, clock: FrozenClock, world: PrivacyFactory
) -> None:
    held, appealing = world.person(), world.person(appeal_open=True)
    hold = world.hold(held.account_id)
    first = _receive(db, clock, RightKind.ERASURE, held.account_id).request
    second = _receive(db, clock, RightKind.ERASURE, appealing.account_id).request
    with db.transaction() as session:
        assert rights.retry_deferred(session, actor=ACTOR, clock=clock) == []  # nothing changed yet
    world.release(hold)
    with db.transaction() as session:
        answered = rights.retry_deferred(session, actor=ACTOR, clock=clock)
        assert [r.id for r in answered] == [first.id] and answered[0].state == RightState.COMPLETED
        still = session.get(type(second), second.id)
        assert still is not None and still.state == RightState.DEFERRED and still.attempts == 3


def test_an_open_appeal_defers_erasure_and_says_so(db: Database, clock: FrozenClock, world: PrivacyFactory) -> None:
    person = world.person(appeal_open=True)
    request = _receive(db, clock, RightKind.ERASURE, person.account_id).request
    assert request.state == RightState.DEFERRED and request.reasons[0]["obstacle"] == "open_appeal"
    assert "complaint" in request.told


def test_a_restriction_keeps_the_data_from_retention_until_lifted(
    db: Database, clock: FrozenClock, world: PrivacyFactory
) -> None:
    person = world.person(at=clock.now() - timedelta(days=3 * 365))
    assert _receive(db, clock, RightKind.RESTRICTION, person.account_id).request.state == RightState.COMPLETED
    with db.transaction() as session:
        report = retention.run_retention(session, clock=clock)
        assert report.tables["notices"].kept == {"restricted": 1}
        rights.lift_restriction(session, actor=ACTOR, clock=clock, principal=dpo(), account_id=person.account_id)
        assert retention.run_retention(session, clock=clock).tables["notices"].emptied == 1


def test_only_privacy_managers_take_requests_and_bad_ids_change_nothing(db: Database, clock: FrozenClock) -> None:
    roles = frozenset({Role.REVIEWER})
    reviewer = Principal(kind=PrincipalKind.STAFF, id=2, name="rita", permissions=permissions_for(roles), roles=roles)
    with db.transaction() as session:
        with pytest.raises(Forbidden):
            rights.receive(session, actor=ACTOR, clock=clock, principal=reviewer, kind=RightKind.ACCESS, account_id="a")
        with pytest.raises(InvalidInput):
            rights.receive(session, actor=ACTOR, clock=clock, principal=dpo(), kind=RightKind.ACCESS, account_id="  ")
        with pytest.raises(InvalidInput, match="one of access, erasure, restriction"):
            rights.receive(session, actor=ACTOR, clock=clock, principal=dpo(), kind="forget", account_id="a")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            rights.receive(
                session, actor=ACTOR, clock=clock, principal=dpo(), kind=RightKind.ERASURE, account_id="pseud:0123456789abcdef"
            )
