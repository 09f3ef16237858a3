"""How a report turns records into figures: medians of durations in hours and shares in per
cent, both rounded once, half up, at the end, so that every published figure can be
recomputed by hand from the counts beside it."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

HOURS_PLACES = Decimal("0.01")
SHARE_PLACES = Decimal("0.1")


def hours_between(start: datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    return (end - start).total_seconds() / 3600


def median_hours(values: Iterable[float | None]) -> Decimal | None:
    """The median of the known durations, in hours to two places; None when there are none
    (a report says 'no data', never 0, for a median of nothing)."""
    known = [v for v in values if v is not None]
    if not known:
        return None
    return Decimal(str(statistics.median(known))).quantize(HOURS_PLACES, rounding=ROUND_HALF_UP)


def share(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in per cent to one place; None when `whole` is 0."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def show(value: Decimal | int | None) -> str:
    """A figure as the CSV and the pages print it: empty for 'no data'."""
    return "" if value is None else str(value)
