"""Preservation per target (issue #16 item 8): the limits (EPOC-PR 60 + 30 days, Reg.
2023/1543 Art. 11(1); US 2703(f) 90 + 90 days) are per target and family, so a fresh letter
cannot restart the clock; a production order for a preserved target is linked to its hold
at receipt and the hold stays until the production is answered; a hold about to lapse
alerts a person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.legal.conftest import LegalFactory
from tests.legal.disclosure.desk import LENA, Desk
from tests.legal.disclosure.factories import PERIOD_END, PERIOD_START, Cast, Scenarios
from trustdesk.core.errors import Conflict
from trustdesk.legal import alerts
from trustdesk.legal.disclosure import preservation
from trustdesk.legal.disclosure.models import HoldState, LegalHold
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.intake import Submission
from trustdesk.legal.models import DeadlineAlert
from trustdesk.legal.registry import officer_principal

EPOC_PR = {
    "issuing_authority": "Parquet de Paris",
    "case_reference": "P-2026-0090",
    "offence": "Trafic de stupéfiants (art. 222-37 code pénal)",
}
US_2703F = {"case_reference": "26-GJ-118", "legal_basis": "18 U.S.C. 2703(f)"}


def _letter(legal: LegalFactory, desk: Desk, db, clock, platform, *, account: str, instrument: str, country: str, agency=None):
    """An officer files a preservation letter; staff decide, adopt and freeze it."""
    agency = agency or legal.agency(IssuerKind.PROSECUTOR if country != "US" else IssuerKind.POLICE, country=country)
    officer = legal.officer(agency, confirmed=True)
    elements = EPOC_PR if instrument == "eu_epoc_pr" else _us_elements(instrument)
    request = legal.file(
        officer_principal(officer),
        Submission(
            instrument=instrument,
            categories=["traffic", "content"] if instrument == "eu_epoc_pr" else ["subscriber", "content"],
            elements=dict(elements),
            targets=[("account_id", account)],
            period_start=PERIOD_START,
            period_end=PERIOD_END,
        ),
    )
    desk.adopt(desk.decide(request.id))
    with db.transaction() as session:
        holds = preservation.freeze(
            session, actor=TEST_ACTOR, clock=clock, principal=LENA, platform=platform, request_id=request.id
        )
    return request, agency, holds


def _us_elements(instrument: str) -> dict[str, str]:
    from trustdesk.legal.instruments import load_catalogue

    sections = load_catalogue().get(instrument).sections
    return {s.key: f"{s.key} as stated" for s in sections if s.required}


def _extend(db, clock, hold_id: int) -> LegalHold:
    with db.transaction() as session:
        return preservation.extend(session, actor=TEST_ACTOR, clock=clock, principal=LENA, hold_id=hold_id, reason="asked")


def test_a_fresh_letter_joins_the_target_s_chain_instead_of_restarting_the_clock(
    db, clock, platform, legal, desk: Desk, cast: Cast
) -> None:
    first, agency, (hold_1,) = _letter(
        legal, desk, db, clock, platform, account=cast.suspect, instrument="eu_epoc_pr", country="FR"
    )
    start = hold_1.frozen_at
    assert hold_1.expires_at == start + timedelta(days=60) and hold_1.family == "eu_e_evidence"
    clock.advance(days=50)
    _, _, (hold_2,) = _letter(
        legal, desk, db, clock, platform, account=cast.suspect, instrument="eu_epoc_pr", country="FR", agency=agency
    )
    assert hold_2.chain_started_at == start, "the same target, family and country: one chain"
    assert hold_2.expires_at == start + timedelta(days=90), "capped at 60 + 30 from the first letter, not 50 + 60"
    with pytest.raises(Conflict, match="90-day limit"):
        _extend(db, clock, hold_2.id)
    clock.advance(days=35)  # day 85: the first hold has lapsed, the chain's end is day 90
    with db.transaction() as session:
        assert [h.id for h in preservation.release_expired(session, actor=TEST_ACTOR, clock=clock)] == [hold_1.id]


def test_a_letter_after_the_chain_has_used_its_limit_preserves_nothing(
    db, clock, platform, legal, desk: Desk, cast: Cast
) -> None:
    _, agency, (hold_1,) = _letter(legal, desk, db, clock, platform, account=cast.suspect, instrument="eu_epoc_pr", country="FR")
    _extend(db, clock, hold_1.id)
    clock.advance(days=89)
    _, _, (hold_2,) = _letter(
        legal, desk, db, clock, platform, account=cast.suspect, instrument="eu_epoc_pr", country="FR", agency=agency
    )
    assert hold_2.expires_at == hold_1.frozen_at + timedelta(days=90), "one day left of the chain, not 60 more"
    clock.advance(days=1)  # the chain ends today; the first hold is still active until the job runs
    with pytest.raises(Conflict, match="limit is used up"):
        _letter(legal, desk, db, clock, platform, account=cast.suspect, instrument="eu_epoc_pr", country="FR", agency=agency)


def test_another_country_s_letter_has_its_own_clock(db, clock, platform, legal, desk: Desk, cast: Cast) -> None:
    _, _, (french,) = _letter(legal, desk, db, clock, platform, account=cast.suspect, instrument="eu_epoc_pr", country="FR")
    clock.advance(days=50)
    _, _, (german,) = _letter(legal, desk, db, clock, platform, account=cast.suspect, instrument="eu_epoc_pr", country="DE")
    assert german.chain_started_at == german.frozen_at and german.expires_at == german.frozen_at + timedelta(days=60)


def test_the_us_family_allows_90_and_90_days_per_target(db, clock, platform, legal, desk: Desk, cast: Cast) -> None:
    _, agency, (hold,) = _letter(legal, desk, db, clock, platform, account=cast.suspect, instrument="us_2703f", country="US")
    assert hold.family == "us_sca" and hold.expires_at == hold.frozen_at + timedelta(days=90)
    clock.advance(days=80)
    _, _, (again,) = _letter(
        legal, desk, db, clock, platform, account=cast.suspect, instrument="us_2703f", country="US", agency=agency
    )
    assert again.chain_started_at == hold.frozen_at and again.expires_at == hold.frozen_at + timedelta(days=170)
    clock.advance(days=80)  # day 160: a third letter gets what is left of the 180 days, not 90 more
    _, _, (third,) = _letter(
        legal, desk, db, clock, platform, account=cast.suspect, instrument="us_2703f", country="US", agency=agency
    )
    assert third.expires_at == hold.frozen_at + timedelta(days=180)


def test_a_production_order_is_linked_to_the_hold_which_stays_until_it_is_answered(
    db, clock, platform, legal, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    _, _, (hold,) = _letter(legal, desk, db, clock, platform, account=cast.suspect, instrument="eu_epoc_pr", country="FR")
    production = scenarios.french_judge_content_order()  # another French authority, same target, same family
    with db.transaction() as session:
        linked = session.get(LegalHold, hold.id)
        assert (linked.state, linked.converted_to_request_id) == (HoldState.CONVERTED, production.request.id)
    clock.advance(days=200)  # far past every preservation limit
    with db.transaction() as session:
        assert preservation.release_expired(session, actor=TEST_ACTOR, clock=clock) == []
        assert preservation.release_answered(session, actor=TEST_ACTOR, clock=clock) == [], "not answered yet"
        assert session.get(LegalHold, hold.id).state == HoldState.CONVERTED
    desk.package(desk.through_approval(production.request.id))
    with db.transaction() as session:
        released = preservation.release_answered(session, actor=TEST_ACTOR, clock=clock)
        assert hold.id in [h.id for h in released] and session.get(LegalHold, hold.id).state == HoldState.RELEASED


def test_a_production_from_another_family_is_not_linked(db, clock, platform, legal, desk: Desk, cast: Cast) -> None:
    _, _, (hold,) = _letter(legal, desk, db, clock, platform, account=cast.suspect, instrument="us_2703f", country="US")
    officer = legal.officer(legal.agency(IssuerKind.INVESTIGATING_JUDGE, country="US"), confirmed=True)
    legal.file(
        officer_principal(officer),
        Submission(
            instrument="eu_epoc",
            categories=["subscriber"],
            elements={"issuing_authority": "x", "case_reference": "y", "offence": "z", "grounds": "w"},
            targets=[("account_id", cast.suspect)],
        ),
    )
    with db.transaction() as session:
        assert session.get(LegalHold, hold.id).state == HoldState.ACTIVE


def test_a_hold_about_to_lapse_alerts_a_person_once_on_its_own_expiry(db, clock, platform, legal, desk: Desk, cast: Cast) -> None:
    _, _, (hold,) = _letter(legal, desk, db, clock, platform, account=cast.suspect, instrument="eu_epoc_pr", country="FR")

    def scan() -> list[DeadlineAlert]:
        with db.transaction() as session:
            return [a for a in alerts.scan(session, clock=clock, pager=None, actor=TEST_ACTOR) if a.kind == "hold_lapsing"]

    clock.advance(days=40)
    assert scan() == []
    clock.advance(days=9)  # 11 days left: under a fifth of the 60
    (alert,) = scan()
    assert alert.deadline_at == hold.expires_at and f"hold {hold.id}" in alert.detail and alert.role == "on_call"
    assert scan() == [], "raised once"
    extended = _extend(db, clock, hold.id)
    assert scan() == [], "the extension moved the expiry: 41 days left"
    clock.advance(days=35)
    (again,) = scan()
    assert again.deadline_at == extended.expires_at
    with db.transaction() as session:
        rows = session.scalars(select(DeadlineAlert).where(DeadlineAlert.kind == "hold_lapsing")).all()
        assert len(rows) == 2
