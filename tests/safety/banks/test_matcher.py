"""The matcher: uploads match what the banks hold, within each bank's own rules, and bank
changes take effect without a rebuild."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_ACTOR
from tests.safety.banks.conftest import make_bank, pdq_of
from trustdesk.core.errors import Unavailable
from trustdesk.safety.banks import service
from trustdesk.safety.banks.lookup import lookup_file, lookup_raw
from trustdesk.safety.banks.matcher import MatchQuery, MatchService, in_rollout
from trustdesk.safety.banks.service import NewEntry
from trustdesk.safety.signals.hashing import hash_media


def _add(session, clock, bank, *entries):  # type: ignore[no-untyped-def]
    return service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=list(entries)).added


def test_the_poster_and_its_edits_match_but_other_images_do_not(session, clock, matcher, poster, poster_edits, unrelated) -> None:
    bank = make_bank(session, clock)
    [entry] = _add(session, clock, bank, NewEntry("pdq", pdq_of(poster)))
    for data in [poster, *poster_edits]:
        found = lookup_file(session, matcher=matcher, data=data)
        assert [(m.bank, m.entry_id) for m in found.result.matches] == [(bank.name, entry.id)]
        assert found.hashes.pdq is not None and found.hashes.sha256
    for data in unrelated:
        assert lookup_file(session, matcher=matcher, data=data).result.matches == []


def test_a_low_quality_pdq_is_not_used(session, clock, matcher, unrelated) -> None:
    sunset = unrelated[0]
    hashes = hash_media(sunset)
    assert hashes.pdq_quality is not None and hashes.pdq_quality < 50
    bank = make_bank(session, clock)
    _add(session, clock, bank, NewEntry("pdq", hashes.pdq))
    found = lookup_file(session, matcher=matcher, data=sunset)
    assert found.result.matches == [] and not found.result.pdq_used


def test_exact_hashes_match_exactly(session, clock, matcher, poster) -> None:
    hashes = hash_media(poster)
    bank = make_bank(session, clock)
    _add(session, clock, bank, NewEntry("md5", hashes.md5), NewEntry("sha256", hashes.sha256))
    found = lookup_file(session, matcher=matcher, data=poster).result.matches
    assert sorted(m.signal_type for m in found) == ["md5", "sha256"] and {m.distance for m in found} == {0}
    assert lookup_raw(session, matcher=matcher, signal_type="md5", value=hashes.md5.upper()).matches[0].signal_type == "md5"


def test_per_bank_threshold(session, clock, matcher, poster, poster_edits) -> None:
    strict = make_bank(session, clock, name="strict", threshold=10)
    _add(session, clock, strict, NewEntry("pdq", pdq_of(poster)))
    assert lookup_file(session, matcher=matcher, data=poster).result.matches
    assert lookup_file(session, matcher=matcher, data=poster_edits[0]).result.matches == []  # 18 bits away


def test_disable_and_enable_take_effect_without_a_rebuild(session, clock, matcher, poster) -> None:
    bank = make_bank(session, clock)
    matcher.load(session)
    [entry] = _add(session, clock, bank, NewEntry("pdq", pdq_of(poster)))
    assert lookup_file(session, matcher=matcher, data=poster).result.matches  # picked up by refresh
    service.set_entries_enabled(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id], enabled=False, reason="fp"
    )
    assert lookup_file(session, matcher=matcher, data=poster).result.matches == []
    service.set_entries_enabled(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id], enabled=True, reason="ok"
    )
    assert lookup_file(session, matcher=matcher, data=poster).result.matches
    service.update_bank(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, enabled=False)
    assert lookup_file(session, matcher=matcher, data=poster).result.matches == []
    assert matcher.stats().pdq_entries == 1


def test_a_stale_matcher_is_still_right_about_disabled_entries(session, clock, poster) -> None:
    """Even before it refreshes, the database confirms every candidate."""
    slow = MatchService(refresh_seconds=3600)
    bank = make_bank(session, clock)
    [entry] = _add(session, clock, bank, NewEntry("pdq", pdq_of(poster)))
    slow.load(session)
    service.set_entries_enabled(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id], enabled=False, reason="fp"
    )
    assert lookup_file(session, matcher=slow, data=poster).result.matches == []


def test_a_negative_bank_suppresses_positive_matches(session, clock, matcher, poster, poster_edits) -> None:
    bank = make_bank(session, clock)
    _add(session, clock, bank, NewEntry("pdq", pdq_of(poster)))
    negative = make_bank(session, clock, name="cleared", kind="negative", threshold=5)
    _add(session, clock, negative, NewEntry("pdq", pdq_of(poster_edits[0])))
    result = lookup_file(session, matcher=matcher, data=poster_edits[0]).result
    assert result.matches == [] and [m.bank for m in result.suppressed] == [bank.name] and result.negatives
    # the original is 18 bits from the cleared edit, beyond the negative bank's threshold of 5
    assert lookup_file(session, matcher=matcher, data=poster).result.matches


def test_rollout_is_a_deterministic_coin_flip(session, clock, matcher, poster) -> None:
    bank = make_bank(session, clock, rollout_percent=0)
    _add(session, clock, bank, NewEntry("pdq", pdq_of(poster)))
    result = lookup_file(session, matcher=matcher, data=poster).result
    assert result.matches == [] and result.held_back == 1


@given(
    st.text(min_size=1, max_size=20),
    st.lists(st.binary(min_size=8, max_size=8), min_size=200, max_size=200, unique=True),
    st.integers(0, 100),
)
def test_rollout_share_is_monotone_in_the_percentage(bank: str, keys: list[bytes], percent: int) -> None:
    inside = {k for k in keys if in_rollout(bank_name=bank, content_key=k.hex(), percent=percent)}
    more = {k for k in keys if in_rollout(bank_name=bank, content_key=k.hex(), percent=min(100, percent + 10))}
    assert inside <= more
    assert in_rollout(bank_name=bank, content_key=keys[0].hex(), percent=100)
    assert not in_rollout(bank_name=bank, content_key=keys[0].hex(), percent=0)


def test_the_memory_bound_is_enforced(session, clock) -> None:
    bank = make_bank(session, clock)
    _add(session, clock, bank, NewEntry("pdq", "0" * 64), NewEntry("pdq", "f" * 64))
    with pytest.raises(Unavailable, match="more than this process may keep"):
        MatchService(max_entries=1).load(session)


def test_stats_state_the_memory_held(session, clock) -> None:
    bank = make_bank(session, clock)
    rng = np.random.default_rng(1)
    _add(session, clock, bank, *(NewEntry("pdq", rng.bytes(32).hex()) for _ in range(500)), NewEntry("md5", "a" * 32))
    matcher = MatchService()
    matcher.load(session)
    stats = matcher.stats()
    assert stats.pdq_entries == 500 and stats.exact_entries == 1
    assert stats.index_bytes > 0 and stats.total_bytes == stats.index_bytes + stats.exact_bytes


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), threshold=st.integers(0, 40))
def test_matches_are_exactly_the_entries_within_the_bank_threshold(session, clock, seed: int, threshold: int) -> None:
    """Against brute force: every enabled entry within the bank's threshold, nothing beyond."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, 32, dtype=np.uint8)
    stored = []
    for _ in range(40):  # near-duplicates of `base` at random distances, and random noise
        flip = rng.choice(256, size=int(rng.integers(0, 60)), replace=False)
        bits = np.unpackbits(base.copy())
        bits[flip] ^= 1
        stored.append(np.packbits(bits))
    nested = session.begin_nested()
    try:
        bank = make_bank(session, clock, name=f"b{seed}", threshold=threshold)
        added = _add(session, clock, bank, *(NewEntry("pdq", h.tobytes().hex()) for h in stored))
        matcher = MatchService(refresh_seconds=0)
        found = {m.entry_id: m.distance for m in matcher.match(session, MatchQuery(pdq=base.tobytes().hex())).matches}
        expected = {}
        for entry in added:
            distance = int(np.unpackbits(np.frombuffer(bytes.fromhex(entry.value), np.uint8) ^ base).sum())
            if distance <= threshold:
                expected[entry.id] = distance
        assert found == expected
    finally:
        nested.rollback()
