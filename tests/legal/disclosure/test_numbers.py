"""Numbers for transparency, per country and period, from the same records for every country."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.legal.disclosure.desk import LENA, Desk
from tests.legal.disclosure.factories import Scenarios
from trustdesk.core.errors import InvalidInput
from trustdesk.legal.disclosure import numbers

START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)


def _numbers(db, **kw):
    with db.transaction() as session:
        return {row["country"]: row for row in numbers.government_numbers(session, principal=LENA, start=START, end=END, **kw)}


def test_per_country_counts(db, clock, desk: Desk, scenarios: Scenarios) -> None:
    judge = scenarios.french_judge_content_order()
    prosecutor = scenarios.prosecutor_content_order()
    emergency = scenarios.us_emergency_request()
    turkish = scenarios.journalist_insult_order()
    for filed in (prosecutor, turkish):
        desk.adopt(desk.decide(filed.request.id))
    desk.call_back(emergency.request.id)
    clock.advance(hours=2)
    desk.package(desk.through_approval(emergency.request.id))
    desk.adopt(desk.decide(judge.request.id))
    table = _numbers(db)
    assert set(table) == {"FR", "US", "TR"}
    fr, us, tr = table["FR"], table["US"], table["TR"]
    assert (fr["received"], fr["valid"], fr["refused"], fr["data_produced"]) == (2, 1, 1, 0)
    assert (us["received"], us["data_produced"], us["accounts_affected"], us["emergency_share"], us["narrowed"]) == (
        1,
        1,
        1,
        1.0,
        1,
    )
    assert us["median_hours_to_answer"] == 2.0
    assert (tr["refused"], tr["emergency_share"], tr["median_hours_to_answer"]) == (1, 0.0, 0.0)
    assert set(_numbers(db, country="tr")) == {"TR"}


def test_a_bad_period_is_refused(db) -> None:
    with db.transaction() as session, pytest.raises(InvalidInput):
        numbers.government_numbers(session, principal=LENA, start=END, end=START)


def test_facts_read_in_chunks_are_the_facts_read_at_once(db, clock, desk: Desk, scenarios: Scenarios) -> None:
    """The keyset chunks (issue #19: one IN-list of every request of the period passed
    psycopg's 65,535-parameter limit at 100,000 requests) neither skip nor repeat a request,
    and each request keeps its own related rows across a chunk's border."""
    filed = [
        scenarios.french_judge_content_order(),
        scenarios.prosecutor_content_order(),
        scenarios.us_emergency_request(),
        scenarios.journalist_insult_order(),
    ]
    desk.adopt(desk.decide(filed[1].request.id))
    desk.call_back(filed[2].request.id)
    clock.advance(hours=2)
    desk.package(desk.through_approval(filed[2].request.id))
    with db.transaction() as session:
        whole = numbers.gather(session, start=START, end=END, chunk=10_000)
        for size in (1, 2, 3):
            assert numbers.gather(session, start=START, end=END, chunk=size) == whole
    assert len(whole) == len(filed)
