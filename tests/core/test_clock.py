"""One UTC helper (`core.clock.as_utc`): what it does, and that no module grows its own."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import trustdesk
from trustdesk.core.clock import as_utc

SOURCE = Path(trustdesk.__file__).parent


def test_as_utc() -> None:
    paris = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    assert as_utc(paris) == paris and as_utc(paris).tzinfo is UTC and as_utc(paris).hour == 1
    assert as_utc(datetime(2026, 1, 1), naive_is_utc=True) == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        as_utc(datetime(2026, 1, 1))


def test_no_second_utc_helper() -> None:
    helper = re.compile(r"^\s*def _?(as_)?utc\w*\(", re.MULTILINE)
    found = [str(p.relative_to(SOURCE)) for p in SOURCE.rglob("*.py") if helper.search(p.read_text(encoding="utf-8"))]
    assert found == ["core/clock.py"], f"a UTC helper besides core.clock.as_utc: {found}"
    inline = re.compile(r"replace\(tzinfo=UTC\) if \w+\.tzinfo is None")  # the helper written out again in place
    assert [str(p.relative_to(SOURCE)) for p in SOURCE.rglob("*.py") if inline.search(p.read_text(encoding="utf-8"))] == []
