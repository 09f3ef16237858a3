"""Intake and checks, instrument by instrument: a valid example passes every check, an
invalid one fails the right check with the right Annex III answer; bad input creates nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from tests.legal.conftest import EPOC_ELEMENTS, staff_principal
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.blobs import LocalBlobStore, key_of
from trustdesk.core.errors import Conflict, InvalidInput, NotFound, TooLarge
from trustdesk.legal import service
from trustdesk.legal.attachments import MAX_BYTES, Upload
from trustdesk.legal.instruments import IssuerKind, load_catalogue
from trustdesk.legal.intake import Channel, Flag, submit_request
from trustdesk.legal.models import LawfulRequest, RequestAttachment, RequestState, RequestTarget
from trustdesk.legal.registry import officer_principal
from trustdesk.legal.signing import load_or_create, verify_document

CAT = load_catalogue()
PERIOD = {"period_start": datetime(2026, 1, 1, tzinfo=UTC), "period_end": datetime(2026, 2, 1, tzinfo=UTC)}

# instrument -> (issuer kind, categories, extra submission fields) of a valid example
VALID = {
    "eu_epoc": (IssuerKind.INVESTIGATING_JUDGE, ["subscriber", "content"], {**PERIOD, "enforcing_state_notified": True}),
    "eu_epoc_pr": (IssuerKind.PROSECUTOR, ["traffic", "content"], {}),
    "dsa_art9": (IssuerKind.REGULATOR, [], {}),
    "dsa_art10": (IssuerKind.REGULATOR, ["subscriber"], {}),
    "tco_removal": (IssuerKind.POLICE, [], {}),
    "us_subpoena": (IssuerKind.PROSECUTOR, ["subscriber", "identification"], {}),
    "us_2703d": (IssuerKind.COURT, ["traffic"], PERIOD),
    "us_warrant": (IssuerKind.COURT, ["content"], PERIOD),
    "us_2703f": (IssuerKind.POLICE, ["subscriber", "content"], {}),
    "us_emergency": (IssuerKind.POLICE, ["subscriber"], {"emergency": True}),
    "us_2705b_ndo": (IssuerKind.COURT, [], {}),
    "national_court_order": (IssuerKind.COURT, ["subscriber"], {}),
    "mlat_cloud": (IssuerKind.PROSECUTOR, ["content"], PERIOD),
}
# instrument -> (issuer kind, categories, failing check, Annex III reason) of an invalid one
INVALID = {
    "eu_epoc": (IssuerKind.PROSECUTOR, ["content"], "issuer:content", "manifest_error"),
    "eu_epoc_pr": (IssuerKind.POLICE, ["subscriber"], "issuer:subscriber", "manifest_error"),
    "dsa_art9": (IssuerKind.REGULATOR, ["subscriber"], "scope:categories", "manifest_error"),
    "dsa_art10": (IssuerKind.REGULATOR, ["content"], "scope:categories", "manifest_error"),
    "tco_removal": (IssuerKind.POLICE, ["traffic"], "scope:categories", "manifest_error"),
    "us_subpoena": (IssuerKind.PROSECUTOR, ["content"], "scope:categories", "manifest_error"),
    "us_2703d": (IssuerKind.PROSECUTOR, ["traffic"], "issuer:traffic", "manifest_error"),
    "us_warrant": (IssuerKind.POLICE, ["content"], "issuer:content", "manifest_error"),
    # a preservation letter naming no category preserves everything (issue #16 item 1); an
    # emergency is what 2703(f) does not have
    "us_2703f": (IssuerKind.POLICE, [], "scope:emergency", "manifest_error", {"emergency": True}),
    "us_emergency": (IssuerKind.POLICE, ["content"], "scope:period", "incomplete"),
    "us_2705b_ndo": (IssuerKind.PROSECUTOR, [], "issuer", "manifest_error"),
    "national_court_order": (IssuerKind.PROSECUTOR, ["subscriber"], "issuer:subscriber", "manifest_error"),
    "mlat_cloud": (IssuerKind.POLICE, ["subscriber"], "issuer:subscriber", "manifest_error"),
}


def _elements(code: str) -> dict[str, str]:
    return {s.key: f"{s.label('en')} (test)" for s in CAT.get(code).sections if s.required}


def _targets(code: str, world) -> list[tuple[str | None, str]]:
    return [("message_id", world.message_id)] if code in ("dsa_art9", "tco_removal") else [(None, "@" + world.username)]


def test_every_incoming_instrument_has_examples() -> None:
    assert set(VALID) == set(INVALID) == {i.code.value for i in CAT.incoming}


@pytest.mark.parametrize("code", sorted(VALID))
def test_valid_example_passes_every_check(code: str, legal, world) -> None:
    kind, categories, extra = VALID[code]
    officer = legal.officer(legal.agency(kind), confirmed=True)
    request = legal.file(
        officer_principal(officer),
        legal.submission(
            world, instrument=code, categories=categories, elements=_elements(code), targets=_targets(code, world), **extra
        ),
    )
    failing = [i for i in request.checklist if i["verdict"] == "fail"]
    assert failing == [] and request.verdict == "pass"
    assert request.reference.startswith("LR-2026-") and request.state == "received"


@pytest.mark.parametrize("code", sorted(INVALID))
def test_invalid_example_fails_the_right_check(code: str, legal, world) -> None:
    kind, categories, check, reason, *extra = INVALID[code]
    officer = legal.officer(legal.agency(kind), confirmed=True)
    request = legal.file(
        officer_principal(officer),
        legal.submission(
            world,
            instrument=code,
            categories=categories,
            elements=_elements(code),
            targets=_targets(code, world),
            **(extra[0] if extra else {}),
        ),
    )
    failing = {i["check"]: i["refusal_reason"] for i in request.checklist if i["verdict"] == "fail"}
    assert failing.get(check) == reason, request.checklist
    assert request.verdict == "fail"


@pytest.mark.parametrize(
    ("categories", "extra", "verdict", "notified"),
    [
        # The rule is computed from the places (issue #16 item 6): unknown places notify.
        (["content"], {}, "pass", "IE"),
        (["content"], {"person_country": "FR", "offence_country": "FR"}, "pass", None),
        # Free text decides nothing: a line in the order does not make the case domestic.
        (["content"], {"elements": {**EPOC_ELEMENTS, "offence_location": "Paris; the suspect lives in Paris"}}, "pass", "IE"),
        (["subscriber"], {}, "n/a", None),
    ],
)
def test_enforcing_state_rule_for_traffic_and_content(categories, extra, verdict, notified, legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    request = legal.file(officer_principal(officer), legal.submission(world, categories=categories, **PERIOD, **extra))
    [line] = [i for i in request.checklist if i["check"] == "enforcing_state"]
    assert line["verdict"] == verdict
    assert request.verdict == "pass", "a reviewer's attention, not a failure"
    assert request.enforcing_state == notified and request.enforcing_state_notified is (notified is not None)


def test_an_unresolvable_target_is_answered_not_held(legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    request = legal.file(officer_principal(officer), legal.submission(world, targets=[(None, "nobody_here")]))
    assert {
        "check": "target:username:nobody_here",
        "verdict": "fail",
        "note": "no account matches",
        "refusal_reason": "not_held",
    } in request.checklist


def _counts(db) -> tuple[int, int, int, int]:
    with db.transaction() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m))
            for m in (LawfulRequest, RequestTarget, RequestAttachment, AuditEntry)
        )  # type: ignore[return-value]


BAD = [
    ({"instrument": "fbi_letter"}, InvalidInput, "not an instrument we accept"),
    ({"instrument": "dsa_art18"}, InvalidInput, "sent by the provider"),
    ({"elements": {**EPOC_ELEMENTS, "favourite_colour": "blue"}}, InvalidInput, "has no section favourite_colour"),
    ({"categories": ["location"]}, InvalidInput, "Data categories are"),
    ({"targets": [(None, "https://t.me/suspect")]}, InvalidInput, "Telegram link"),
    ({"targets": [("account_id", "100004567891234")]}, InvalidInput, "not a account id"),
    (
        {"attachments": [Upload("order.pdf", b"%PDF-1.7 ok"), Upload("order2.pdf", b"MZ not a pdf")]},
        InvalidInput,
        "not a PDF or an image",
    ),
    ({"attachments": [Upload("huge.pdf", b"%PDF-" + b"0" * MAX_BYTES)]}, TooLarge, "limit is 10 MiB"),
    (
        {"period_start": datetime(2026, 2, 1, tzinfo=UTC), "period_end": datetime(2026, 1, 1, tzinfo=UTC)},
        InvalidInput,
        "ends before it starts",
    ),
]


@pytest.mark.parametrize(("overrides", "error", "message"), BAD, ids=[b[2] for b in BAD])
def test_bad_input_gets_a_clear_answer_and_creates_nothing(overrides, error, message, db, legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    before = _counts(db)
    with pytest.raises(error, match=message):
        legal.file(officer_principal(officer), legal.submission(world, **overrides))
    assert _counts(db) == before
    uploads = overrides.get("attachments", [])
    assert not any(legal.blobs.exists(key_of(u.data)) for u in uploads), "no attachment stored for a refused request"


def test_attachments_are_stored_with_their_hash(legal, world, db) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    request = legal.file(
        officer_principal(officer), legal.submission(world, attachments=[Upload("order.pdf", b"%PDF-1.7 signed order")])
    )
    with db.transaction() as session:
        [row] = session.scalars(select(RequestAttachment).where(RequestAttachment.request_id == request.id))
    assert row.content_type == "application/pdf" and legal.blobs.get(row.sha256) == b"%PDF-1.7 signed order"


def test_a_rolled_back_request_leaves_no_row_and_a_blob_the_next_filing_reuses(legal, world, db) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    order = b"%PDF-1.7 the order, sent twice"
    submission = legal.submission(world, attachments=[Upload("order.pdf", order)])
    before = _counts(db)
    with pytest.raises(RuntimeError, match="before the commit"), db.transaction() as session:
        submit_request(
            session,
            actor=TEST_ACTOR,
            clock=legal.clock,
            platform=legal.platform,
            blobs=legal.blobs,
            principal=officer_principal(officer),
            submission=submission,
            channel=Channel.PORTAL,
        )
        raise RuntimeError("the request fails before the commit")
    assert _counts(db) == before, "no row survives the rollback"
    assert legal.blobs.get(key_of(order)) == order, "only a whole, unreferenced blob is left"
    request = legal.file(officer_principal(officer), submission)
    with db.transaction() as session:
        [row] = session.scalars(select(RequestAttachment).where(RequestAttachment.request_id == request.id))
    assert row.sha256 == key_of(order) and legal.blobs.get(row.sha256) == order
    if isinstance(legal.blobs, LocalBlobStore):
        assert [p.name for p in legal.blobs.directory.rglob("*") if p.is_file()] == [key_of(order)], "stored once"


def test_emergency_and_first_time_officers_are_held_until_a_call_back(db, clock, legal, world) -> None:
    officer = legal.officer(legal.agency())
    request = legal.file(officer_principal(officer), legal.submission(world, emergency=True, categories=["content"], **PERIOD))
    assert request.held and request.due_at == clock.now() + timedelta(hours=8)
    assert Flag.NEW_OFFICER_EMERGENCY_SENSITIVE in request.flags
    with pytest.raises(Conflict, match="held"), db.transaction() as session:
        service.transition(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            request_id=request.id,
            to_state=RequestState.VERIFIED,
            reason="ok",
        )
    with db.transaction() as session:
        call = service.record_callback(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            request_id=request.id,
            spoke_to="Greffier Dupont",
            outcome="confirmed",
        )
        assert call.number_called == "+33199000101", "always the registry's number"
        service.transition(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            request_id=request.id,
            to_state=RequestState.VERIFIED,
            reason="confirmed by call-back",
        )
    later = legal.file(officer_principal(officer), legal.submission(world))
    assert not later.held, "a confirmed officer's ordinary request is not held"


def test_a_denied_call_back_refuses_the_request_as_forged(db, clock, legal, world) -> None:
    officer = legal.officer(legal.agency())
    request = legal.file(officer_principal(officer), legal.submission(world, emergency=True))
    with db.transaction() as session:
        service.record_callback(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            request_id=request.id,
            spoke_to="Duty officer",
            outcome="denied",
        )
        refreshed = service.get_request(session, principal=staff_principal(), request_id=request.id)
        assert refreshed.state == "refused" and Flag.CALLBACK_DENIED in refreshed.flags


def test_staff_entry_from_e_mail_flags_an_unregistered_domain_and_accepts_an_incomplete_paper_order(legal, world, clock) -> None:
    agency = legal.agency()
    elements = {k: v for k, v in EPOC_ELEMENTS.items() if k != "grounds"}
    request = legal.file(
        staff_principal(),
        legal.submission(world, elements=elements, sender_email="judge@gmail.example"),
        channel=Channel.STAFF,
        agency_id=agency.id,
    )
    assert Flag.DOMAIN_NOT_REGISTERED in request.flags and request.held
    assert {
        "check": "element:grounds",
        "verdict": "fail",
        "note": "Grounds: why the data are necessary and proportionate: missing",
        "refusal_reason": "incomplete",
    } in request.checklist


def test_a_burst_from_one_agency_is_flagged(legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    flags = [legal.file(officer_principal(officer), legal.submission(world)).flags for _ in range(10)]
    assert Flag.AGENCY_BURST not in flags[0] and Flag.AGENCY_BURST in flags[-1]


def test_tco_hour_restarts_when_the_missing_element_is_supplied(db, clock, legal, world) -> None:
    agency = legal.agency(IssuerKind.POLICE)
    elements = {k: v for k, v in _elements("tco_removal").items() if k != "redress"}
    request = legal.file(
        staff_principal(),
        legal.submission(
            world, instrument="tco_removal", categories=[], elements=elements, targets=_targets("tco_removal", world)
        ),
        channel=Channel.STAFF,
        agency_id=agency.id,
    )
    assert request.due_at is None, "no hour runs before the order is complete (TCO Art. 3(8))"
    clock.advance(minutes=40)
    with db.transaction() as session:
        updated = service.supply_elements(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            request_id=request.id,
            elements={"redress": "Administrative court"},
        )
        assert updated.due_at == clock.now() + timedelta(hours=1)
        assert updated.verdict == "pass"


def test_officer_of_another_agency_gets_not_found(db, legal, world) -> None:
    a_officer = legal.officer(legal.agency(), confirmed=True)
    b_officer = legal.officer(legal.agency(), confirmed=True)
    request = legal.file(officer_principal(a_officer), legal.submission(world))
    with db.transaction() as session:
        with pytest.raises(NotFound):
            service.get_request(session, principal=officer_principal(b_officer), request_id=request.id)
        assert service.list_requests(session, principal=officer_principal(b_officer)) == []
        assert [r.id for r in service.list_requests(session, principal=officer_principal(a_officer))] == [request.id]
        assert request.id in [r.id for r in service.list_requests(session, principal=staff_principal())]


def test_the_queue_is_sorted_by_time_left(legal, world, db) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    ordinary = legal.file(officer_principal(officer), legal.submission(world))
    emergency = legal.file(officer_principal(officer), legal.submission(world, emergency=True))
    with db.transaction() as session:
        queue = service.list_requests(session, principal=staff_principal(), open_only=True)
    assert [r.id for r in queue][:2] == [emergency.id, ordinary.id]


def test_the_receipt_is_signed_with_the_published_key(legal, world, tmp_path) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    request = legal.file(officer_principal(officer), legal.submission(world))
    key = load_or_create(tmp_path)
    signed = service.receipt(request, key=key)
    assert signed["reference"] == request.reference and verify_document(signed, key.public_key_b64)
    assert not verify_document({**signed, "due_at": "2099-01-01"}, key.public_key_b64)
    assert load_or_create(tmp_path).public_key_b64 == key.public_key_b64, "the key persists"
