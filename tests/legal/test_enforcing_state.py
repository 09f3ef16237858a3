"""The enforcing-state rule from facts (issue #16 item 6; Reg. 2023/1543 Arts. 3, 8, 10, 12):
places are structured at intake, the rule is computed and the notified State stored; its
answer is recorded by staff, by that State's authority, or by the e-Evidence channel; the
data are preserved at receipt; a window that ends unanswered lapses, it never clears."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from tests.conftest import TEST_ACTOR
from tests.legal.conftest import EPOC_ELEMENTS, LegalFactory, World
from tests.legal.disclosure.desk import LENA, Desk
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.core.identity.permissions import Permission
from trustdesk.legal import enforcing, objections
from trustdesk.legal.disclosure.models import HoldState, LegalHold
from trustdesk.legal.instruments import IssuerKind, load_catalogue
from trustdesk.legal.models import EnforcingStateAnswer, LawfulRequest
from trustdesk.legal.registry import officer_principal
from trustdesk.platform.demo.models import DemoMessage
from trustdesk.platform.port import DataCategory as C

EPOC = load_catalogue().get("eu_epoc")


@pytest.fixture
def desk(db, clock, platform, legal: LegalFactory) -> Desk:
    return Desk(db, clock, platform, legal.data_dir, legal.blobs)


@pytest.mark.parametrize(
    ("categories", "issuing", "person", "offence", "received_by", "notified"),
    [
        ({C.CONTENT}, "FR", "FR", "FR", None, None),  # both in the issuing State: Art. 8(2)
        ({C.CONTENT}, "FR", "FR", "unknown", None, "IE"),  # an unknown place is not the issuing State
        ({C.TRAFFIC}, "FR", "DE", "FR", None, "IE"),  # the person abroad: notify, and not Germany
        ({C.SUBSCRIBER, C.IDENTIFICATION}, "FR", "DE", "DE", None, None),  # Art. 8(1): traffic and content only
        ({C.CONTENT}, "FR", "unknown", "unknown", "NL", "NL"),  # Art. 3: the establishment that received it
        ({C.CONTENT}, "IE", "DE", "DE", None, None),  # received in the issuing State itself
    ],
)
def test_the_rule_is_computed_from_places(categories, issuing, person, offence, received_by, notified) -> None:
    got = enforcing.rule(
        EPOC,
        categories=categories,
        issuing_state=issuing,
        person_country=person,
        offence_country=offence,
        received_by=received_by,
    )
    assert (got.notify, got.state) == (notified is not None, notified), got.reason


def test_an_instrument_without_the_rule_never_notifies() -> None:
    got = enforcing.rule(
        load_catalogue().get("us_warrant"), categories={C.CONTENT}, issuing_state="US", person_country="DE", offence_country="DE"
    )
    assert not got.notify and got.state is None


@pytest.mark.parametrize("bad", ["France", "XX", "F", "fr-FR", "ß"])
def test_a_place_that_is_not_a_country_code_is_refused_and_nothing_is_written(db, legal: LegalFactory, world: World, bad) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    with db.transaction() as session:
        before = session.scalar(select(func.count(LawfulRequest.id)))
    with pytest.raises(InvalidInput, match="ISO 3166-1"):
        legal.file(officer_principal(officer), legal.submission(world, categories=["content"], person_country=bad))
    with db.transaction() as session:
        assert session.scalar(select(func.count(LawfulRequest.id))) == before


def _notified(legal: LegalFactory, world: World, **extra) -> tuple[LawfulRequest, object]:
    officer = legal.officer(legal.agency(IssuerKind.INVESTIGATING_JUDGE, country="FR"), confirmed=True)
    principal = officer_principal(officer)
    request = legal.file(
        principal,
        legal.submission(
            world,
            categories=["subscriber", "content"],
            targets=[("account_id", world.account_id)],
            person_country="fr",
            offence_country="BE",
            period_start=datetime(2026, 3, 20, tzinfo=UTC),
            period_end=datetime(2026, 3, 28, 23, tzinfo=UTC),
            **extra,
        ),
    )
    return request, principal


def test_the_places_and_the_notified_state_are_stored_and_the_data_preserved_at_receipt(db, legal, world, platform) -> None:
    request, _ = _notified(legal, world)
    assert (request.person_country, request.offence_country, request.enforcing_state) == ("FR", "BE", "IE")
    assert request.enforcing_state_notified and request.not_before is not None and request.enforcing_state_answer is None
    with db.transaction() as session:
        (hold,) = session.scalars(select(LegalHold).where(LegalHold.request_id == request.id)).all()
        assert hold.state == HoldState.CONVERTED and hold.converted_to_request_id == request.id
        assert [r["text"] for r in hold.snapshot["content"]["records"]] == ["threat"]


def _approved(desk: Desk, request_id: int):
    return desk.through_approval(request_id)


def _files(desk: Desk, principal, secret: str) -> dict[str, dict]:
    data = desk.download(principal, secret).data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: json.loads(archive.read(n)) for n in archive.namelist() if n.endswith(".json")}


def _answer(db, clock, request_id: int, answer: str, *, categories=(), principal=LENA, via="staff"):
    with db.transaction() as session:
        return objections.record_answer(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=principal,
            request_id=request_id,
            answer=answer,
            via=via,
            categories=categories,
        )


def test_no_grounds_lets_the_data_go_out_before_the_ten_days(db, clock, legal, world, desk: Desk, platform) -> None:
    request, principal = _notified(legal, world)
    disclosure = _approved(desk, request.id)
    with pytest.raises(Conflict, match="may object"):
        desk.package(disclosure)
    _answer(db, clock, request.id, "no_grounds")
    with platform.store.transaction() as session:  # deleted after receipt: the hold at receipt has it
        session.execute(delete(DemoMessage))
    _, secret = desk.package(disclosure)
    files = _files(desk, principal, secret)
    assert [r["text"] for r in files[f"data/{world.account_id}/content.json"]["records"]] == ["threat"]


def test_partial_grounds_leave_the_refused_categories_out(db, clock, legal, world, desk: Desk) -> None:
    request, principal = _notified(legal, world)
    disclosure = _approved(desk, request.id)
    _answer(db, clock, request.id, "partial_grounds", categories=["content"])
    package, secret = desk.package(disclosure)
    files = _files(desk, principal, secret)
    assert f"data/{world.account_id}/subscriber.json" in files and f"data/{world.account_id}/content.json" not in files
    [refused] = [n for n in package.manifest["not_held"] if n["category"] == "content"]
    assert "enforcing State raised grounds" in refused["note"]


def test_full_grounds_stop_the_package_even_after_the_ten_days(db, clock, legal, world, desk: Desk) -> None:
    request, _ = _notified(legal, world)
    disclosure = _approved(desk, request.id)
    _answer(db, clock, request.id, "full_grounds")
    clock.advance(days=11)
    with pytest.raises(Conflict, match="raised grounds for refusal"):
        desk.package(disclosure)


def test_a_window_that_ends_unanswered_is_recorded_as_lapsed_never_as_cleared(db, clock, legal, world, desk: Desk) -> None:
    request, _ = _notified(legal, world)
    clock.advance(days=9)
    with db.transaction() as session:
        assert objections.lapse_expired(session, actor=TEST_ACTOR, clock=clock) == []
    clock.advance(days=1, minutes=1)
    with db.transaction() as session:
        (row,) = objections.lapse_expired(session, actor=TEST_ACTOR, clock=clock)
        assert (row.answer, row.via, row.state) == ("lapsed", "job", "IE") and "not cleared" in row.note
        assert session.get(LawfulRequest, request.id).enforcing_state_answer == "lapsed"
        assert objections.lapse_expired(session, actor=TEST_ACTOR, clock=clock) == [], "once"
    with pytest.raises(Conflict, match="already recorded: lapsed"):
        _answer(db, clock, request.id, "no_grounds")
    desk.package(_approved(desk, request.id))  # Art. 10(2): produced at the end of the window


def test_only_the_notified_state_s_authority_or_staff_may_answer(db, clock, legal, world) -> None:
    request, issuer = _notified(legal, world)
    german = officer_principal(legal.officer(legal.agency(country="DE"), confirmed=True))
    for principal in (issuer, german):
        with pytest.raises(NotFound):
            _answer(db, clock, request.id, "no_grounds", principal=principal, via="portal")
    irish = officer_principal(legal.officer(legal.agency(country="IE"), confirmed=True))
    row = _answer(db, clock, request.id, "no_grounds", principal=irish, via="portal")
    assert (row.via, row.answer) == ("portal", "no_grounds")


def test_the_e_evidence_channel_records_an_answer_and_bad_answers_change_nothing(db, clock, legal, world) -> None:
    request, _ = _notified(legal, world)
    for answer, categories in (("lapsed", ()), ("maybe", ()), ("partial_grounds", ()), ("partial_grounds", ["traffic"])):
        with pytest.raises(InvalidInput):
            _answer(db, clock, request.id, answer, categories=categories, via="eevidence")
    _answer(db, clock, request.id, "full_grounds", via="eevidence")
    with db.transaction() as session:
        rows = session.scalars(select(EnforcingStateAnswer).where(EnforcingStateAnswer.request_id == request.id)).all()
        assert [(r.answer, r.via, r.categories) for r in rows] == [("full_grounds", "eevidence", ["content", "subscriber"])]


def test_a_domestic_case_is_not_notified_and_preserves_nothing_at_receipt(db, legal, world) -> None:
    officer = legal.officer(legal.agency(country="FR"), confirmed=True)
    request = legal.file(
        officer_principal(officer),
        legal.submission(world, categories=["content"], elements=dict(EPOC_ELEMENTS), person_country="FR", offence_country="FR"),
    )
    assert request.enforcing_state is None and not request.enforcing_state_notified and request.not_before is None
    with db.transaction() as session:
        assert session.scalars(select(LegalHold).where(LegalHold.request_id == request.id)).all() == []
    with db.transaction() as session, pytest.raises(Conflict, match="No enforcing State"):
        objections.record_answer(
            session, actor=TEST_ACTOR, clock=legal.clock, principal=LENA, request_id=request.id, answer="no_grounds", via="staff"
        )


def test_staff_and_the_enforcing_authority_answer_through_the_api(client, db, clock, legal, world, staff) -> None:
    request, _ = _notified(legal, world)
    headers = {"Authorization": f"Bearer {staff.token(Permission.REQUESTS_HANDLE, Permission.REQUESTS_READ)}"}
    bad = client.post(f"/api/v1/lawful-requests/{request.id}/enforcing-state-answer", json={"answer": "lapsed"}, headers=headers)
    assert bad.status_code in (400, 422) and bad.headers["content-type"].startswith("application/problem+json")
    ok = client.post(
        f"/api/v1/lawful-requests/{request.id}/enforcing-state-answer",
        json={"answer": "partial_grounds", "categories": ["content"], "note": "Art. 12(1)(d)"},
        headers=headers,
    )
    assert ok.status_code == 201, ok.text
    assert (ok.json()["via"], ok.json()["categories"]) == ("staff", ["content"])
    detail = client.get(f"/api/v1/lawful-requests/{request.id}", headers=headers).json()
    assert (detail["enforcing_state"], detail["enforcing_state_answer"], detail["enforcing_state_refused"]) == (
        "IE",
        "partial_grounds",
        ["content"],
    )
