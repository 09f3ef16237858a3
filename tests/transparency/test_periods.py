"""Reporting periods: parsing, UTC boundaries, and that every instant of a year falls in
exactly one of its halves."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trustdesk
from trustdesk.core.errors import InvalidInput
from trustdesk.transparency.reports.periods import Half, Period, parse_interval, parse_period


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-H1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
        ("2026-h2", datetime(2026, 7, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_bounds(text: str, start: datetime, end: datetime) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["26", "2026-H3", "2026-Q1", "2026H1", "", "1999", "2026-", " 2026-H1 x"])
def test_anything_else_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_period(text)
    assert "2026-H1" in caught.value.detail or "between" in caught.value.detail


def test_a_naive_time_cannot_be_placed() -> None:
    with pytest.raises(ValueError):
        Period(2026).contains(datetime(2026, 5, 1))


@given(st.integers(2000, 2099), st.sampled_from([None, Half.H1, Half.H2]))
def test_the_label_parses_back(year: int, half: Half | None) -> None:
    assert parse_period(Period(year, half).label) == Period(year, half)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 2),
        max_value=datetime(2099, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=14))]),
    )
)
def test_every_instant_is_in_its_year_and_exactly_one_half(moment: datetime) -> None:
    year = moment.astimezone(UTC).year
    halves = [Period(year, Half.H1).contains(moment), Period(year, Half.H2).contains(moment)]
    assert Period(year).contains(moment) and halves.count(True) == 1
    assert not Period(year - 1).contains(moment) and not Period(year + 1).contains(moment)


def test_one_period_parser() -> None:
    """`reports.periods` parses every period text; the export's intervals take a report's
    periods through `parse_period` itself, so the two cannot drift apart."""
    source = Path(trustdesk.__file__).parent
    parsers = re.compile(r"^\s*def parse_period\(", re.MULTILINE)
    assert [str(p.relative_to(source)) for p in source.rglob("*.py") if parsers.search(p.read_text(encoding="utf-8"))] == [
        "transparency/reports/periods.py"
    ]
    for text in ("2026", "2026-H1", "2026-h2"):
        assert parse_interval(text) == (parse_period(text).start, parse_period(text).end)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-H2", datetime(2026, 7, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-Q1", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-03-01..2026-03-31", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)),
    ],
)
def test_intervals(text: str, start: datetime, end: datetime) -> None:
    assert parse_interval(text) == (start, end)


@given(st.text(max_size=25))
def test_any_interval_text_parses_to_a_non_empty_span_or_a_clear_error(text: str) -> None:
    try:
        start, end = parse_interval(text)
    except InvalidInput as exc:
        assert "Period" in exc.detail
    else:
        assert start < end and start.tzinfo is UTC
