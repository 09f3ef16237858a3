"""PDQIndex against brute force: exact recall and precision, through adds and disables."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.safety.signals import segment
from trustdesk.safety.signals.index import Match, PDQIndex

THRESHOLDS = [0, 1, 15, 31, 32, 33, 40]


def flip(hash32: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of the hash with exactly k distinct bits flipped."""
    bits = np.unpackbits(hash32)
    bits[rng.choice(256, k, replace=False)] ^= 1
    return np.packbits(bits)


def planted(seed: int, n_random: int, n_centres: int) -> tuple[np.ndarray, np.ndarray]:
    """Random hashes plus near-duplicates of each centre at distances 0..40; and the centres."""
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, 256, (n_centres, 32), dtype=np.uint8)
    near = [flip(c, int(k), rng) for c in centres for k in rng.integers(0, 41, 6)]
    stored = np.concatenate([rng.integers(0, 256, (n_random, 32), dtype=np.uint8), *[np.array(near).reshape(-1, 32)]])
    return stored, centres


def brute(stored: np.ndarray, ids: np.ndarray, live: np.ndarray, q: np.ndarray, t: int) -> set[tuple[int, int]]:
    d = np.bitwise_count(stored ^ q).sum(axis=1)
    hit = (d <= t) & live
    return set(zip(ids[hit].tolist(), d[hit].tolist(), strict=True))


@pytest.fixture(params=["tables", "shared", "scan"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test through the multi-index kernel (one query at a time, and in blocks of
    three with shared table scans, as large batches on large segments go) and through the
    linear scan."""
    monkeypatch.setattr(segment.Segment, "prefers_scan", lambda self, taus: request.param == "scan")
    if request.param == "shared":
        monkeypatch.setattr(segment, "SHARED_MIN_QUERIES", 1)
        monkeypatch.setattr(segment, "SHARED_MIN_ROWS", 0)
        monkeypatch.setattr(segment, "SHARED_MIN_COVERAGE", 0.0)
        monkeypatch.setattr(segment, "SHARED_BLOCK", 3)
    return request.param


@pytest.mark.usefixtures("strategy")
@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_random=st.integers(0, 400),
    threshold=st.sampled_from(THRESHOLDS),
    chunks=st.sampled_from([None, 8, 11, 13, 16, 32]),
)
def test_build_then_query_is_exact(seed: int, n_random: int, threshold: int, chunks: int | None) -> None:
    """Every chunk count the cost model may pick (11..16) and the odd ones a caller may ask
    for: the pigeonring filter and the duplicate test must hold for each layout."""
    stored, centres = planted(seed, n_random, 5)
    ids = np.random.default_rng(seed).permutation(len(stored)).astype(np.int64) * 3 - 50
    index = PDQIndex.build(stored, ids, chunks=chunks)
    live = np.ones(len(stored), bool)
    for q, got in zip(centres, index.query_batch(centres, threshold), strict=True):
        assert {(m.id, m.distance) for m in got} == brute(stored, ids, live, q, threshold)
        assert len(got) == len({m.id for m in got})


@pytest.mark.usefixtures("strategy")
@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1), ops=st.lists(st.sampled_from(["add", "disable", "enable", "remove", "compact"]), max_size=12)
)
def test_mutations_are_immediate_and_exact(seed: int, ops: list[str]) -> None:
    rng = np.random.default_rng(seed)
    stored, centres = planted(seed, 50, 4)
    ids = np.arange(len(stored), dtype=np.int64)
    index = PDQIndex.build(stored[:20], ids[:20], tail_size=7)
    present, live, added = np.zeros(len(stored), bool), np.zeros(len(stored), bool), 20
    present[:20] = live[:20] = True
    for op in ops:
        pick = rng.choice(len(stored), 6)
        if op == "add" and added < len(stored):
            step = min(len(stored) - added, int(rng.integers(1, 40)))
            index.add(stored[added : added + step], ids[added : added + step])
            present[added : added + step] = live[added : added + step] = True
            added += step
        elif op == "disable":
            index.disable(ids[pick])
            live[pick] = False
        elif op == "enable":
            index.enable(ids[pick])
            live[pick] = present[pick]
        elif op == "remove":
            index.remove(ids[pick])
            present[pick] = live[pick] = False
        elif op == "compact":
            index.compact()
        assert len(index) == present.sum()
        for t in (31, 32):
            for q, got in zip(centres, index.query_batch(centres, t), strict=True):
                assert {(m.id, m.distance) for m in got} == brute(stored, ids, live, q, t)


def test_each_segment_takes_the_cheapest_chunk_count() -> None:
    """The cost model's choices: wide chunks for a large segment (fewer probes), narrow ones
    for a small one (few random rows to let through); and a fixed count when asked."""
    assert segment.best_chunks(10_000_000) == 11
    assert segment.best_chunks(30_000) == 16
    for n in (300_000, 1_000_000, 5_000_000, 10_000_000):  # within the memory bound at every size that matters
        assert segment.segment_bytes(n, segment.ChunkLayout.even(segment.best_chunks(n))) <= 100 * n
    assert segment.lookup_cost(10_000_000, segment.ChunkLayout.even(11)) < segment.lookup_cost(
        10_000_000, segment.ChunkLayout.even(16)
    )
    small = np.random.default_rng(3).integers(0, 256, (100, 32), dtype=np.uint8)
    assert len(PDQIndex.build(small, np.arange(100))._view.segments[0].layout.widths) == 16
    assert len(PDQIndex.build(small, np.arange(100), chunks=11)._view.segments[0].layout.widths) == 11


def test_threshold_boundary_31_32(strategy: str) -> None:
    rng = np.random.default_rng(7)
    q = rng.integers(0, 256, 32, dtype=np.uint8)
    stored = np.array([flip(q, 31, rng), flip(q, 32, rng), flip(q, 0, rng)])
    index = PDQIndex.build(stored, [31, 32, 0])
    assert index.query(q) == [Match(0, 0), Match(31, 31)]
    assert [m.id for m in index.query(q.tobytes(), threshold=32)] == [0, 31, 32]
    assert index.query(q, threshold=0) == [Match(0, 0)]


def test_many_results_per_query(strategy: str) -> None:
    """More matches than the kernels' first output buffer (64) holds."""
    rng = np.random.default_rng(3)
    q = rng.integers(0, 256, 32, dtype=np.uint8)
    stored = np.array([flip(q, int(k), rng) for k in rng.integers(0, 20, 150)])
    index = PDQIndex.build(stored, np.arange(150))
    got = index.query_batch(np.array([q, q, q]))
    assert [len(g) for g in got] == [150, 150, 150]


def test_added_hashes_match_at_once_and_merge() -> None:
    rng = np.random.default_rng(5)
    stored = rng.integers(0, 256, (100, 32), dtype=np.uint8)
    index = PDQIndex(tail_size=8)
    for start in range(0, 100, 10):
        index.add(stored[start : start + 10], np.arange(start, start + 10))
        assert index.query(stored[start + 9]) == [Match(start + 9, 0)]
    assert len(index) == 100
    assert index.memory_bytes() > 32 * 100


def test_empty_index() -> None:
    index = PDQIndex()
    assert index.query(bytes(32)) == []
    assert index.query_batch(np.zeros((2, 32), np.uint8)) == [[], []]
    assert len(index) == 0
    assert len(PDQIndex.build(np.zeros((0, 32), np.uint8), [])) == 0


@pytest.mark.parametrize(
    "hashes, ids",
    [
        (np.zeros((2, 31), np.uint8), [1, 2]),
        (np.zeros((2, 32), np.int32), [1, 2]),
        (np.zeros((2, 32), np.uint8), [1]),
        (np.zeros((2, 32), np.uint8), [1, 1]),
    ],
)
def test_build_rejects_bad_input(hashes: np.ndarray, ids: list[int]) -> None:
    with pytest.raises(ValueError):
        PDQIndex.build(hashes, ids)


def test_rejects_duplicate_add_but_readds_removed_id() -> None:
    index = PDQIndex.build(np.zeros((1, 32), np.uint8), [9])
    with pytest.raises(ValueError, match="already"):
        index.add(np.ones((1, 32), np.uint8), [9])
    index.remove([9])
    index.add(np.ones((1, 32), np.uint8), [9])
    assert index.query(np.ones(32, np.uint8)) == [Match(9, 0)]
    assert index.query(np.zeros(32, np.uint8)) == []


@pytest.mark.parametrize("bad", [b"short", -1, 257])
def test_query_rejects_bad_hash_or_threshold(bad: bytes | int) -> None:
    index = PDQIndex()
    with pytest.raises(ValueError):
        if isinstance(bad, bytes):
            index.query(bad)
        else:
            index.query(bytes(32), threshold=bad)
