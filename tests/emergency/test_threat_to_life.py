"""Threat-to-life cases (DSA Art. 18): the right member state(s) or, when unclear, the state of
establishment and Europol; a draft that a person confirms and sends, or dismisses with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.legal.conftest import staff_principal
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import Conflict, Forbidden, InvalidInput
from trustdesk.core.identity.permissions import Role
from trustdesk.emergency import threat_to_life as ttl
from trustdesk.emergency.models import ThreatSource, ThreatState

BOOK = ttl.contact_book()
ON_CALL = staff_principal(Role.ON_CALL)
EU = sorted(BOOK.states)
SOME_COUNTRY = st.one_of(st.none(), st.sampled_from([*EU, "US", "GB", "UA", "TR"]))


def test_the_contact_point_file_covers_every_member_state_with_a_source() -> None:
    assert len(BOOK.states) == 27 and BOOK.establishment in BOOK.states
    assert all(p.source_url.startswith("https://") and p.authority for p in [*BOOK.states.values(), BOOK.europol])


@pytest.mark.parametrize(
    ("place", "suspect", "victim", "expected"),
    [
        ("FR", None, None, ["FR"]),
        (None, "DE", "FR", ["DE", "FR"]),
        ("FR", "FR", "PL", ["FR", "PL"]),
        ("US", "DE", None, ["DE"]),
        (None, None, None, ["IE", "EUROPOL"]),
        ("US", "GB", None, ["IE", "EUROPOL"]),
    ],
)
def test_recipients_are_the_states_concerned_or_establishment_and_europol(place, suspect, victim, expected) -> None:
    recipients, why = ttl.recipients_for(place=place, suspect=suspect, victim=victim)
    assert [r.key for r in recipients] == expected
    if expected[-1] == "EUROPOL":
        assert "reasonable certainty" in why and ("US" in why) == ("US" in (place, suspect))


@given(place=SOME_COUNTRY, suspect=SOME_COUNTRY, victim=SOME_COUNTRY)
def test_someone_is_always_told_and_only_states_concerned_or_the_fallback(place, suspect, victim) -> None:
    recipients, _ = ttl.recipients_for(place=place, suspect=suspect, victim=victim)
    keys = [r.key for r in recipients]
    concerned = {c for c in (place, suspect, victim) if c in BOOK.states}
    assert keys and len(keys) == len(set(keys))
    assert set(keys) == (concerned or {BOOK.establishment, "EUROPOL"})


def test_a_case_from_review_produces_a_draft_for_the_right_state_that_a_person_sends(db, clock) -> None:
    with db.transaction() as session:
        case = ttl.open_case(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            source=ThreatSource.REVIEW,
            source_ref="case:42",
            summary="A user announces he will shoot his former partner tonight in Lyon.",
            message_id="m7",
            account_id="u3",
            place="fr",
            victim="FR",
        )
        assert case.state == ThreatState.DRAFT and [r["key"] for r in case.recipients] == ["FR"]
        assert "Art. 18" in case.draft and BOOK.states["FR"].authority in case.draft and "m7" in case.draft
        sent = ttl.confirm_and_send(
            session, actor=TEST_ACTOR, clock=clock, principal=ON_CALL, case_id=case.id, note="sent by e-mail, called PHAROS"
        )
        assert sent.state == ThreatState.SENT and sent.decided_at == clock.now()
        with pytest.raises(Conflict):
            ttl.dismiss(session, actor=TEST_ACTOR, clock=clock, principal=ON_CALL, case_id=case.id, note="too late")
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "threat_case")))
    assert actions == ["threat.open", "threat.sent"]


def test_an_unclear_case_goes_to_establishment_and_europol(db, clock) -> None:
    with db.transaction() as session:
        case = ttl.open_case(
            session, actor=TEST_ACTOR, clock=clock, source=ThreatSource.RULE, summary="Bomb threat, no location given."
        )
        assert [r["key"] for r in case.recipients] == [BOOK.establishment, "EUROPOL"] and "Europol" in case.draft


@pytest.mark.parametrize(("kwargs", "field"), [({"summary": "  "}, "summary"), ({"place": "France"}, "place")])
def test_bad_input_opens_nothing(db, clock, kwargs, field) -> None:
    values = {"summary": "threat", **kwargs}
    with pytest.raises(InvalidInput) as raised, db.transaction() as session:
        ttl.open_case(session, actor=TEST_ACTOR, clock=clock, source=ThreatSource.STAFF, **values)
    assert raised.value.extensions["field"] == field
    with db.transaction() as session:
        assert ttl.recent_cases(session) == []


def test_dismissing_needs_a_reason(db, clock) -> None:
    with db.transaction() as session:
        case = ttl.open_case(session, actor=TEST_ACTOR, clock=clock, source=ThreatSource.STAFF, summary="joke among friends?")
        with pytest.raises(InvalidInput):
            ttl.dismiss(session, actor=TEST_ACTOR, clock=clock, principal=ON_CALL, case_id=case.id, note=" ")
        assert (
            ttl.dismiss(
                session, actor=TEST_ACTOR, clock=clock, principal=ON_CALL, case_id=case.id, note="a quote from a film"
            ).state
            == ThreatState.DISMISSED
        )


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.TRIAGE, Role.AUDITOR, Role.ADMIN])
def test_only_emergency_handlers_send_or_dismiss_whichever_entry_point_calls(db, clock, role) -> None:
    with db.transaction() as session:
        case = ttl.open_case(session, actor=TEST_ACTOR, clock=clock, source=ThreatSource.STAFF, summary="threat")
        for decide in (ttl.confirm_and_send, ttl.dismiss):
            with pytest.raises(Forbidden, match="emergency:handle"):
                decide(session, actor=TEST_ACTOR, clock=clock, principal=staff_principal(role), case_id=case.id, note="n")
        assert ttl.get_case(session, case_id=case.id).state == ThreatState.DRAFT
