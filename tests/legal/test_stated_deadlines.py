"""Issue #16, item 10: a deadline the order states (a subpoena's return date, the authority's
own deadline) is a structured field on every route; the clock shows the earlier of it and
the statutory deadline, and says which."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData

from tests.legal.conftest import staff_principal
from tests.legal.test_forgery_signals import token_of
from trustdesk.legal import clocks
from trustdesk.legal.clocks import DeadlineSource
from trustdesk.legal.forms import submission_from_form
from trustdesk.legal.instruments import load_catalogue
from trustdesk.legal.intake import Channel
from trustdesk.legal.registry import officer_principal

CAT = load_catalogue()
EPOC, TCO = CAT.get("eu_epoc").clock, CAT.get("tco_removal").clock
T0 = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)


def test_an_earlier_stated_deadline_wins_and_says_so() -> None:
    d = clocks.compute(EPOC, received_at=T0, stated_due_at=T0 + timedelta(days=3))
    assert d.due_at == T0 + timedelta(days=3) and d.source is DeadlineSource.STATED
    assert d.statutory_due_at == T0 + timedelta(days=10)


def test_a_later_stated_deadline_leaves_the_statutory_one() -> None:
    d = clocks.compute(EPOC, received_at=T0, stated_due_at=T0 + timedelta(days=30))
    assert d.due_at == T0 + timedelta(days=10) and d.source is DeadlineSource.STATUTORY


def test_a_stated_date_cannot_cut_the_enforcing_states_window() -> None:
    d = clocks.compute(EPOC, received_at=T0, enforcing_state_notified=True, stated_due_at=T0 + timedelta(days=2))
    assert d.due_at == d.not_before == T0 + timedelta(days=10) and d.source is DeadlineSource.STATUTORY


def test_the_tco_hour_is_kept_and_an_incomplete_order_gets_no_hour_from_a_stated_date() -> None:
    assert clocks.compute(TCO, received_at=T0, stated_due_at=T0 + timedelta(hours=5)).due_at == T0 + timedelta(hours=1)
    waiting = clocks.compute(TCO, received_at=T0, complete=False, stated_due_at=T0 + timedelta(minutes=30))
    assert waiting.due_at is None and waiting.source is DeadlineSource.NONE


def test_a_subpoena_return_date_is_stated_and_without_one_it_is_our_target() -> None:
    subpoena = CAT.get("us_subpoena").clock
    assert clocks.compute(subpoena, received_at=T0, stated_due_at=T0 + timedelta(days=14)).source is DeadlineSource.STATED
    assert clocks.compute(subpoena, received_at=T0).source in (DeadlineSource.TARGET, DeadlineSource.NONE)


instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
offsets = st.timedeltas(min_value=timedelta(days=-5), max_value=timedelta(days=40))


@settings(max_examples=300, deadline=None)
@given(received=instants, stated=st.one_of(st.none(), offsets), emergency=st.booleans(), notified=st.booleans())
def test_the_clock_is_the_earlier_of_stated_and_statutory_never_inside_the_objection_window(
    received: datetime, stated: timedelta | None, emergency: bool, notified: bool
) -> None:
    stated_at = None if stated is None else received + stated
    law = clocks.compute(EPOC, received_at=received, emergency=emergency, enforcing_state_notified=notified)
    d = clocks.compute(
        EPOC, received_at=received, emergency=emergency, enforcing_state_notified=notified, stated_due_at=stated_at
    )
    assert law.due_at is not None and d.due_at is not None
    assert d.statutory_due_at == law.due_at and d.due_at <= law.due_at
    if d.not_before is not None:
        assert d.due_at >= d.not_before
    if stated_at is None:
        assert d.due_at == law.due_at and d.source is DeadlineSource.STATUTORY
    elif d.not_before is None or stated_at >= d.not_before:
        assert d.due_at == min(stated_at, law.due_at)
    assert (d.source is DeadlineSource.STATED) == (d.due_at != law.due_at)


def test_the_portal_and_staff_forms_carry_the_stated_deadline() -> None:
    form = FormData([("instrument", "eu_epoc"), ("targets", "@x"), ("stated_due_at", "2026-04-02")])
    assert submission_from_form(form).stated_due_at == datetime(2026, 4, 2, tzinfo=UTC)
    timed = FormData([("instrument", "eu_epoc"), ("targets", "@x"), ("stated_due_at", "2026-04-02T09:30")])
    assert submission_from_form(timed).stated_due_at == datetime(2026, 4, 2, 9, 30, tzinfo=UTC)


def test_every_route_stores_the_stated_deadline_and_its_source(legal, world, clock) -> None:
    fr = legal.agency()
    stated = clock.now() + timedelta(days=4)
    for principal, channel, agency_id in (
        (officer_principal(legal.officer(fr, confirmed=True)), Channel.PORTAL, None),
        (token_of(fr), Channel.API, None),
        (staff_principal(), Channel.STAFF, fr.id),
    ):
        request = legal.file(principal, legal.submission(world, stated_due_at=stated), channel=channel, agency_id=agency_id)
        assert request.due_at == stated and request.deadline_source == "stated", channel
        assert request.statutory_due_at == clock.now() + timedelta(days=10)


def test_the_api_shows_which_deadline_runs(client, db, clock, legal, world) -> None:
    from tests.legal.test_api import _agency_token, _body

    stated = (clock.now() + timedelta(days=2)).isoformat()
    made = client.post(
        "/api/v1/lawful-requests", json=_body(world, stated_due_at=stated), headers=_agency_token(db, clock, legal.agency())
    )
    request = made.json()["request"]
    assert made.status_code == 201 and request["deadline_source"] == "stated"
    assert request["due_at"].startswith((clock.now() + timedelta(days=2)).date().isoformat())
