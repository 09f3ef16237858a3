"""Times and numbers people read (issue #18): instants in the viewer's zone inside <time>
with the UTC instant on hover, durations in words, dates for date inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from trustdesk.http.rendering import date_input, duration_words, time_element


def test_an_instant_is_shown_in_the_viewers_zone_with_utc_on_hover() -> None:
    html = str(time_element(datetime(2026, 12, 8, 1, 30, tzinfo=UTC), ZoneInfo("Europe/Paris")))
    assert html == '<time datetime="2026-12-08T01:30:00+00:00" title="2026-12-08 01:30:00 UTC">2026-12-08 02:30:00 CET</time>'
    assert str(time_element(None, ZoneInfo("UTC"))) == "—"


def test_durations_in_words() -> None:
    assert duration_words(timedelta(days=9, hours=5)) == "9 days"
    assert duration_words(timedelta(hours=1, minutes=59)) == "1 hour"
    assert duration_words(timedelta(minutes=-45)) == "45 minutes"
    assert duration_words(30) == "less than a minute"
    assert duration_words(None) == "—"


@given(st.integers(min_value=0, max_value=10**9))
def test_a_duration_names_its_largest_whole_unit(seconds: int) -> None:
    words = duration_words(seconds)
    if seconds < 60:
        assert words == "less than a minute"
        return
    count, unit = words.split(" ")
    size = {"day": 86400, "hour": 3600, "minute": 60}[unit.rstrip("s")]
    assert int(count) == seconds // size and (unit == "days" or unit == "day" or seconds < {3600: 86400, 60: 3600}[size])
    assert (int(count) == 1) == (not unit.endswith("s"))


def test_date_inputs_take_iso_dates() -> None:
    assert date_input(date(2026, 12, 8)) == "2026-12-08"
    assert date_input(datetime(2026, 12, 8, 23, 30, tzinfo=ZoneInfo("America/New_York"))) == "2026-12-09"
    assert date_input(None) == ""
