"""Matching stays honest under the cap on matches: negative banks are consulted over every
candidate before any cap, and a capped answer says so and how many it left out."""

from __future__ import annotations

import random

from tests.conftest import TEST_ACTOR
from tests.safety.banks.conftest import make_bank
from trustdesk.safety.banks import service
from trustdesk.safety.banks.lookup import lookup_raw
from trustdesk.safety.banks.matcher import MAX_MATCHES
from trustdesk.safety.banks.service import NewEntry

QUERY = int("a5" * 32, 16)


def _flip(value: int, bits: list[int]) -> str:
    for bit in bits:
        value ^= 1 << bit
    return f"{value:064x}"


def _near(n: int, distance: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return sorted({_flip(QUERY, rng.sample(range(256), distance)) for _ in range(n)})


def _add(session, clock, bank, values: list[str]) -> None:  # type: ignore[no-untyped-def]
    service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", v) for v in values])


def test_a_negative_bank_wins_even_behind_more_near_entries_than_the_cap(session, clock, matcher) -> None:
    positive = make_bank(session, clock, threshold=31)
    _add(session, clock, positive, _near(MAX_MATCHES + 200, 4, seed=1))  # all closer than the negative entry
    cleared = make_bank(session, clock, name="cleared false positives", kind="negative", threshold=31)
    _add(session, clock, cleared, _near(1, 20, seed=2))
    result = lookup_raw(session, matcher=matcher, signal_type="pdq", value=f"{QUERY:064x}")
    assert result.matches == [] and [m.bank for m in result.negatives] == ["cleared false positives"]
    assert len(result.suppressed) + result.omitted == MAX_MATCHES + 200


def test_a_capped_answer_says_how_many_it_left_out(session, clock, matcher) -> None:
    bank = make_bank(session, clock, threshold=31)
    values = _near(MAX_MATCHES + 150, 6, seed=3)
    _add(session, clock, bank, values)
    result = lookup_raw(session, matcher=matcher, signal_type="pdq", value=f"{QUERY:064x}")
    assert len(result.matches) == MAX_MATCHES and result.omitted == len(values) - MAX_MATCHES and result.capped
    assert max(m.distance for m in result.matches) <= 6  # the nearest are the ones kept


def test_an_answer_under_the_cap_is_not_capped(session, clock, matcher) -> None:
    bank = make_bank(session, clock, threshold=31)
    _add(session, clock, bank, _near(10, 3, seed=4))
    result = lookup_raw(session, matcher=matcher, signal_type="pdq", value=f"{QUERY:064x}")
    assert len(result.matches) == 10 and result.omitted == 0 and not result.capped
