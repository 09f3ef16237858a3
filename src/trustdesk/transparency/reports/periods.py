"""Reporting periods: a calendar year or one of its halves, bounded in UTC.

DSA transparency reports cover a calendar year (every six months for very large platforms,
Implementing Regulation (EU) 2024/2835, Art. 2); the government-request report uses the
same periods so that the two can be read side by side. A period is half-open:
`start <= t < end`, so an event at midnight on 1 July belongs to the second half only.

`parse_period` is the one parser of period text; `parse_interval` takes the same periods and,
for exports, a quarter, a month or a range of days, as a half-open UTC interval."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from trustdesk.core.errors import InvalidInput

PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?P<half>H[12]))?$")
FIRST_YEAR, LAST_YEAR = 2000, 2099


class Half(StrEnum):
    H1 = "H1"
    H2 = "H2"


@dataclass(frozen=True, order=True)
class Period:
    year: int
    half: Half | None = None

    @property
    def label(self) -> str:
        """`2026`, `2026-H1` or `2026-H2`: what the CLI takes and the file names carry."""
        return f"{self.year}" if self.half is None else f"{self.year}-{self.half}"

    @property
    def start(self) -> datetime:
        month = 7 if self.half is Half.H2 else 1
        return datetime(self.year, month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        if self.half is Half.H1:
            return datetime(self.year, 7, 1, tzinfo=UTC)
        return datetime(self.year + 1, 1, 1, tzinfo=UTC)

    @property
    def title(self) -> str:
        if self.half is None:
            return f"1 January to 31 December {self.year}"
        if self.half is Half.H1:
            return f"1 January to 30 June {self.year}"
        return f"1 July to 31 December {self.year}"

    def contains(self, moment: datetime) -> bool:
        if moment.tzinfo is None:
            raise ValueError("a naive datetime cannot be placed in a UTC period")
        return self.start <= moment.astimezone(UTC) < self.end

    def __str__(self) -> str:
        return self.label


def parse_period(text: str) -> Period:
    """`YYYY`, `YYYY-H1` or `YYYY-H2`; a readable error for anything else."""
    match = PATTERN.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(
            f"'{text}' is not a reporting period: write a year (2026) or a half-year (2026-H1, 2026-H2).", field="period"
        )
    year = int(match["year"])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"The year must be between {FIRST_YEAR} and {LAST_YEAR}; got {year}.", field="period")
    return Period(year, Half(match["half"]) if match["half"] else None)


def parse_interval(text: str) -> tuple[datetime, datetime]:
    """A reporting period (`parse_period`: 2026, 2026-H1) or a quarter (2026-Q3), a month
    (2026-03) or days (2026-03-01..2026-03-31, inclusive), as a half-open UTC interval
    [start, end)."""
    text = text.strip() if isinstance(text, str) else ""
    if PATTERN.match(text.upper()):
        try:
            period = parse_period(text)
        except InvalidInput as exc:
            raise InvalidInput(f"Period '{text}': {exc.detail}", field="period") from None
        return period.start, period.end
    try:
        if ".." in text:
            first, last = (date.fromisoformat(part) for part in text.split("..", 1))
            return _span(first, last + timedelta(days=1))
        if match := re.fullmatch(r"(\d{4})-Q([1-4])", text.upper()):
            first = date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)
            return _span(first, _add_months(first, 3))
        if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
            first = date(int(match[1]), int(match[2]), 1)
            return _span(first, _add_months(first, 1))
    except ValueError:
        pass
    raise InvalidInput(f"Period '{text}' is not one of: 2026, 2026-H1, 2026-Q3, 2026-03, 2026-03-01..2026-03-31.", field="period")


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


def _span(first: date, end: date) -> tuple[datetime, datetime]:
    if end <= first:
        raise ValueError("empty period")
    return datetime.combine(first, datetime.min.time(), UTC), datetime.combine(end, datetime.min.time(), UTC)


def current_year(now: datetime) -> Period:
    return Period(now.astimezone(UTC).year)
