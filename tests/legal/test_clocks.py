"""Deadline arithmetic: the figures of the law, and properties over zones and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.http.rendering import local_time
from trustdesk.legal import clocks
from trustdesk.legal.instruments import load_catalogue

CAT = load_catalogue()
EPOC = CAT.get("eu_epoc").clock
TCO = CAT.get("tco_removal").clock
T0 = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # the night Europe springs forward
ZONES = [
    "UTC",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Santiago",
    "Pacific/Chatham",
]

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.sampled_from([ZoneInfo(z) for z in ZONES])
)


def test_emergency_epoc_is_eight_hours() -> None:
    assert clocks.compute(EPOC, received_at=T0, emergency=True).due_at == T0 + timedelta(hours=8)


def test_epoc_is_ten_days() -> None:
    assert clocks.compute(EPOC, received_at=T0).due_at == T0 + timedelta(days=10)


def test_enforcing_state_wait_holds_release_until_the_tenth_day() -> None:
    d = clocks.compute(EPOC, received_at=T0, enforcing_state_notified=True)
    assert d.not_before == d.due_at == T0 + timedelta(days=10)


def test_emergency_with_notification_keeps_eight_hours_and_a_96_hour_objection_window() -> None:
    d = clocks.compute(EPOC, received_at=T0, emergency=True, enforcing_state_notified=True)
    assert d.due_at == T0 + timedelta(hours=8)
    assert d.objection_ends_at == T0 + timedelta(hours=96)
    assert d.not_before is None


def test_tco_hour_restarts_when_the_missing_element_arrives() -> None:
    assert clocks.compute(TCO, received_at=T0).due_at == T0 + timedelta(hours=1)
    later = T0 + timedelta(minutes=50)
    assert clocks.compute(TCO, received_at=T0, completed_at=later).due_at == later + timedelta(hours=1)


def test_preservation_60_plus_30_and_no_second_extension() -> None:
    pr = CAT.get("eu_epoc_pr").clock
    assert clocks.compute(pr, received_at=T0).expires_at == T0 + timedelta(days=60)
    assert clocks.compute(pr, received_at=T0, extensions=1).expires_at == T0 + timedelta(days=90)
    with pytest.raises(ValueError, match="at most 1"):
        clocks.compute(pr, received_at=T0, extensions=2)


def test_us_preservation_90_renewable_once() -> None:
    f = CAT.get("us_2703f").clock
    assert clocks.compute(f, received_at=T0, extensions=1).expires_at == T0 + timedelta(days=180)


def test_undue_delay_is_an_internal_target_not_a_statutory_one() -> None:
    d = clocks.compute(CAT.get("dsa_art9").clock, received_at=T0)
    assert d.due_at == T0 + timedelta(hours=24) and not d.statutory


def test_a_stated_return_date_wins() -> None:
    stated = T0 + timedelta(days=3)
    assert clocks.compute(CAT.get("us_subpoena").clock, received_at=T0, stated_due_at=stated).due_at == stated


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        clocks.compute(EPOC, received_at=datetime(2026, 1, 1))


def test_eight_hours_across_the_spring_change_shows_nine_wall_clock_hours_in_paris() -> None:
    due = clocks.compute(EPOC, received_at=T0, emergency=True).due_at
    paris = ZoneInfo("Europe/Paris")
    assert local_time(T0, paris) == "2026-03-29 00:30:00 CET"
    assert local_time(due, paris) == "2026-03-29 09:30:00 CEST"


@settings(max_examples=300, deadline=None)
@given(received=instants, emergency=st.booleans(), notified=st.booleans())
def test_deadlines_do_not_depend_on_the_zone_the_receipt_was_written_in(
    received: datetime, emergency: bool, notified: bool
) -> None:
    in_utc = received.astimezone(UTC)
    a = clocks.compute(EPOC, received_at=received, emergency=emergency, enforcing_state_notified=notified)
    b = clocks.compute(EPOC, received_at=in_utc, emergency=emergency, enforcing_state_notified=notified)
    assert a == b
    assert a.due_at is not None and a.due_at.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(received=instants, emergency=st.booleans())
def test_production_deadline_is_exact_elapsed_time(received: datetime, emergency: bool) -> None:
    due = clocks.compute(EPOC, received_at=received, emergency=emergency).due_at
    assert due - received.astimezone(UTC) == timedelta(hours=8 if emergency else 240)


@settings(max_examples=200, deadline=None)
@given(received=instants, delay=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)))
def test_tco_deadline_is_one_hour_after_the_later_of_receipt_and_completion(received: datetime, delay: timedelta) -> None:
    # Elapsed time, not wall-clock arithmetic: `received + delay` in a local zone drops the
    # fold of an ambiguous hour (found by hypothesis at the New York autumn change).
    completed = (received.astimezone(UTC) + delay).astimezone(received.tzinfo)
    due = clocks.compute(TCO, received_at=received, completed_at=completed).due_at
    assert due - completed.astimezone(UTC) == timedelta(hours=1)


@settings(max_examples=200, deadline=None)
@given(received=instants, hours=st.integers(min_value=1, max_value=24 * 90))
def test_warning_comes_before_the_deadline_and_after_receipt(received: datetime, hours: int) -> None:
    # Elapsed hours: `received + hours` in a local zone is wall-clock arithmetic, which across a
    # spring change can land on the same instant (found by hypothesis: 2000-03-26, Europe).
    due = (received.astimezone(UTC) + timedelta(hours=hours)).astimezone(received.tzinfo)
    warn = clocks.warn_at(received_at=received, due_at=due)
    assert received.astimezone(UTC) <= warn < due.astimezone(UTC)


@settings(max_examples=200, deadline=None)
@given(seconds=st.integers(min_value=-10 * 86400, max_value=10 * 86400))
def test_time_left_text_says_left_or_overdue(seconds: int) -> None:
    text = clocks.describe_time_left(timedelta(seconds=seconds))
    assert text.endswith("left" if seconds >= 0 else "overdue")


def test_queue_wording() -> None:
    assert clocks.describe_time_left(timedelta(hours=7, minutes=59)) == "7h 59m left"
    assert clocks.describe_time_left(timedelta(days=2, hours=3)) == "2d 3h left"
    assert clocks.describe_time_left(timedelta(minutes=-12)) == "12m overdue"
    assert clocks.describe_time_left(None) == "no deadline"
