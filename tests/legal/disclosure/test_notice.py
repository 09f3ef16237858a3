"""User notice: after the case closes, unless a non-disclosure order or the instrument says
otherwise; the queue shows notices due and sent."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_ACTOR
from tests.legal.disclosure.desk import LENA, Desk
from tests.legal.disclosure.factories import Cast, Scenarios
from trustdesk.core.errors import Conflict
from trustdesk.legal.disclosure import notice
from trustdesk.legal.instruments import IssuerKind


def _schedule(db, clock, request_id: int):
    with db.transaction() as session:
        return notice.schedule(session, actor=TEST_ACTOR, clock=clock, principal=LENA, request_id=request_id)


def _send(db, clock, notice_id: int):
    with db.transaction() as session:
        return notice.mark_sent(session, actor=TEST_ACTOR, clock=clock, principal=LENA, notice_id=notice_id, channel="in-app")


def _queue(db, clock):
    with db.transaction() as session:
        return notice.queue(session, principal=LENA, clock=clock)


def test_the_journalist_is_told_once_the_refusal_closes_the_case(db, clock, desk: Desk, scenarios: Scenarios, cast: Cast) -> None:
    filed = scenarios.journalist_insult_order()
    with pytest.raises(Conflict, match="once the case is over"):
        _schedule(db, clock, filed.request.id)
    desk.adopt(desk.decide(filed.request.id))
    (scheduled,) = _schedule(db, clock, filed.request.id)
    assert scheduled.account_id == cast.journalist and [n.id for n in _queue(db, clock).due] == [scheduled.id]
    sent = _send(db, clock, scheduled.id)
    assert sent.state == "sent" and [n.id for n in _queue(db, clock).sent] == [scheduled.id]


def test_an_emergency_notice_waits_and_a_non_disclosure_order_holds_it_to_its_end_date(
    db, clock, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    filed = scenarios.us_emergency_request()
    desk.call_back(filed.request.id)
    desk.package(desk.through_approval(filed.request.id))
    (scheduled,) = _schedule(db, clock, filed.request.id)
    assert scheduled.not_before > clock.now() and [n.id for n in _queue(db, clock).waiting] == [scheduled.id]
    with pytest.raises(Conflict, match="not due"):
        _send(db, clock, scheduled.id)
    scenarios.us_non_disclosure_order(account=cast.suspect, end_date="2027-03-01")
    clock.advance(days=91)
    with pytest.raises(Conflict, match="non-disclosure order covers this account until 2027-03-01"):
        _send(db, clock, scheduled.id)
    clock.advance(days=250)
    assert _send(db, clock, scheduled.id).state == "sent"


def test_an_issuer_asking_for_confidentiality_without_a_date_withholds_the_notice(
    db, clock, desk: Desk, scenarios: Scenarios, cast: Cast
) -> None:
    filed = scenarios.file(
        kind=IssuerKind.INVESTIGATING_JUDGE,
        country="FR",
        instrument="eu_epoc",
        categories=["subscriber"],
        account=cast.suspect,
        elements={
            "issuing_authority": "JI Paris",
            "case_reference": "JI-1",
            "offence": "Meurtre",
            "grounds": "identify",
            "user_notice": "Do not inform the user.",
        },
    )
    desk.adopt(desk.decide(filed.request.id))
    desk.package(desk.approve(desk.prepare(filed.request.id)))
    (scheduled,) = _schedule(db, clock, filed.request.id)
    assert scheduled.state == "withheld" and [n.id for n in _queue(db, clock).withheld] == [scheduled.id]
