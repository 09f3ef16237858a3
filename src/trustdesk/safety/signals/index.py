"""Exact Hamming-distance search over 256-bit PDQ hashes, with immediate adds and disables.

Design (measured in benchmarks/match.py against python-threatexchange's PDQIndex):
multi-index hashing with a generalised pigeonhole split. The 256 bits are cut into chunks
(11 of 23-24 bits at N = 10M, 12-13 for a few million, 16 of 16 bits for a bank of
thousands: each segment takes the count that a cost model finds cheapest for its size
within 99 bytes per hash); a query at threshold T probes each chunk at a small
radius (for T = 31 and 11 chunks, 2 bits on ten and 1 on one), which provably covers every
hash within T, filters the bucket entries by the pigeonring bound on each chunk and a few
bits of the next, and verifies each candidate on the full 256 bits. So recall is exact:
every stored hash within T is returned and nothing beyond it.

Mutations never rebuild the whole index. New hashes go to a tail that is scanned linearly;
a full tail is frozen into a segment, and segments are merged when a newer one grows to a
quarter of the one before it (amortised O(log n) work per added hash). Disable, enable and
remove flip a per-row flag that every search checks.

Thread safety: mutations (add, disable, enable, remove, compact) hold a lock; queries take
no lock, read an immutable snapshot of the segments, and run with the GIL released, so
several threads can query in parallel while another adds. A disable is seen by every
query that starts after `disable` returns.
"""

import threading
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple, Self

import numpy as np

from trustdesk.safety.signals.segment import (
    ACTIVE,
    DEFAULT_THRESHOLD,
    DISABLED,
    HASH_BITS,
    HASH_BYTES,
    REMOVED,
    WORDS,
    Segment,
    Tail,
    scan,
)

DEFAULT_TAIL = 8192
_MERGE_RATIO = 4  # merge a segment into its predecessor once it is this close in size


class Match(NamedTuple):
    """One stored hash within the threshold: the caller's id and the Hamming distance."""

    id: int
    distance: int


_new_match = partial(tuple.__new__, Match)  # Match from an (id, distance) pair, in C


@dataclass(frozen=True, slots=True)
class BatchMatches:
    """Results of `query_batch_arrays`: parallel arrays, grouped by query in query order."""

    query: np.ndarray  # int64 index into the queries
    ids: np.ndarray  # int64 caller ids
    distances: np.ndarray  # int16 Hamming distances

    def split(self, n_queries: int) -> list[list[Match]]:
        """Per-query lists of `Match`, for callers that prefer objects to arrays."""
        bounds = np.searchsorted(self.query, np.arange(n_queries + 1)).tolist()
        pairs = list(map(_new_match, zip(self.ids.tolist(), self.distances.tolist(), strict=True)))
        return [pairs[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What a query reads: replaced whole under the lock, never edited."""

    segments: tuple[Segment, ...]
    tail: Tail
    tail_n: int


def as_rows(hashes: np.ndarray | bytes) -> np.ndarray:
    """(n, 32) uint8 hashes (or one 32-byte string) as (n, 4) little-endian uint64 words."""
    if isinstance(hashes, (bytes, bytearray, memoryview)):
        hashes = np.frombuffer(bytes(hashes), np.uint8)
    array = np.asarray(hashes)
    if array.dtype != np.uint8:
        raise ValueError(f"hashes must be uint8, got {array.dtype}")
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != HASH_BYTES:
        raise ValueError(f"hashes must have shape (n, {HASH_BYTES}), got {array.shape}")
    return np.ascontiguousarray(array).view("<u8").astype(np.uint64, copy=False).reshape(-1, WORDS)


def _as_ids(ids: np.ndarray | list[int], n: int | None = None) -> np.ndarray:
    array = np.asarray(ids, dtype=np.int64).reshape(-1)
    if n is not None and len(array) != n:
        raise ValueError(f"{len(array)} ids for {n} hashes")
    return array


def _check_threshold(threshold: int) -> int:
    if not 0 <= threshold <= HASH_BITS:
        raise ValueError(f"threshold must be within 0..{HASH_BITS}, got {threshold}")
    return int(threshold)


class PDQIndex:
    """Exact-recall PDQ index keyed by caller-provided int64 ids (bank entry ids)."""

    def __init__(self, *, chunks: int | None = None, tail_size: int = DEFAULT_TAIL) -> None:
        """`chunks`: cut every segment into this many chunks; None (the default) lets each
        segment take the count that is cheapest for its size (see `segment.best_chunks`)."""
        if (chunks is not None and not 8 <= chunks <= 32) or tail_size < 1:  # a chunk's tag must fit its uint32 entries
            raise ValueError("chunks must be within 8..32 and tail_size positive")
        self._chunks = chunks
        self._tail_size = tail_size
        self._lock = threading.Lock()
        self._view = _Snapshot((), Tail(tail_size), 0)

    @classmethod
    def build(cls, hashes: np.ndarray, ids: np.ndarray | list[int], **options: int) -> Self:
        """Index n hashes at once: one segment, O(n) table construction."""
        rows = as_rows(hashes)
        ids = _as_ids(ids, len(rows))
        index = cls(**options)
        if len(ids):
            state = np.zeros(len(ids), np.uint8)
            main = Segment.build(rows, ids, state, index._chunks)
            index._view = _Snapshot((main,), index._view.tail, 0)
        return index

    # -- queries ---------------------------------------------------------------------

    def query(self, hash: bytes | np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> list[Match]:
        """Active entries within `threshold` bits of one 32-byte hash, nearest first."""
        rows = as_rows(hash)[:1]
        view = self._view
        if len(view.segments) == 1 and view.tail_n == 0:  # the common case, without the merging
            segment = view.segments[0]
            _, r, d = segment.search(rows, _check_threshold(threshold))
            ids = segment.ids[r]
        else:
            found = self._search(rows, threshold)
            ids, d = found.ids, found.distances
        if len(d) == 0:
            return []
        order = np.argsort(d, kind="stable")
        return list(map(_new_match, zip(ids[order].tolist(), d[order].tolist(), strict=True)))

    def query_batch(self, hashes: np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> list[list[Match]]:
        """`query` for each row of an (m, 32) uint8 array (matches in no particular order)."""
        rows = as_rows(hashes)
        return self._search(rows, threshold).split(len(rows))

    def query_batch_arrays(self, hashes: np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> BatchMatches:
        """Like `query_batch` but as flat arrays: no Python object per match."""
        return self._search(as_rows(hashes), threshold)

    def _search(self, queries: np.ndarray, threshold: int) -> BatchMatches:
        threshold = _check_threshold(threshold)
        view = self._view
        parts = [self._search_segment(s, queries, threshold) for s in view.segments]
        q, r, d = scan(queries, threshold, view.tail.rows, view.tail_n, view.tail.state)
        parts.append((q, view.tail.ids[r], d))
        q, ids, d = (np.concatenate(column) for column in zip(*parts, strict=True))
        order = np.argsort(q, kind="stable")
        return BatchMatches(q[order], ids[order], d[order])

    def _search_segment(self, segment: Segment, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, ...]:
        q, r, d = segment.search(queries, threshold)
        return q, segment.ids[r], d

    # -- mutations -------------------------------------------------------------------

    def add(self, hashes: np.ndarray, ids: np.ndarray | list[int]) -> None:
        """Add hashes under new ids; they match from the moment this returns.

        Raises ValueError if an id is repeated or already stored (removed ids may return).
        """
        rows = as_rows(hashes)
        ids = _as_ids(ids, len(rows))
        with self._lock:
            self._reject_known(ids)
            view = self._view
            tail, segments, taken = view.tail, view.segments, 0
            while taken < len(ids):
                taken += tail.append(rows[taken:], ids[taken:])
                if tail.n == tail.capacity:
                    segments = self._merged(segments + (self._freeze(tail),))
                    tail = Tail(self._tail_size)
            self._view = _Snapshot(segments, tail, tail.n)

    def disable(self, ids: np.ndarray | list[int]) -> int:
        """Stop matching these ids (kept, and can be re-enabled). Returns how many changed."""
        return self._set_state(ids, DISABLED, frm=ACTIVE)

    def enable(self, ids: np.ndarray | list[int]) -> int:
        """Undo `disable`. Returns how many changed."""
        return self._set_state(ids, ACTIVE, frm=DISABLED)

    def remove(self, ids: np.ndarray | list[int]) -> int:
        """Forget these ids; their memory is reclaimed at the next merge or `compact`."""
        return self._set_state(ids, REMOVED, frm=None)

    def compact(self) -> None:
        """Merge everything into one segment, dropping removed entries."""
        with self._lock:
            view = self._view
            segments = view.segments + (self._freeze(view.tail),)
            merged = self._merge_all([s for s in segments if len(s)])
            self._view = _Snapshot((merged,) if merged else (), Tail(self._tail_size), 0)

    # -- sizes ---------------------------------------------------------------------

    def __len__(self) -> int:
        """Stored entries, active or disabled (removed ones excluded)."""
        view = self._view
        states = [s.state for s in view.segments] + [view.tail.state[: view.tail_n]]
        return int(sum(np.count_nonzero(s != REMOVED) for s in states))

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays (hashes, ids, flags, tables, tail buffers)."""
        view = self._view
        return sum(s.nbytes() for s in view.segments) + view.tail.nbytes()

    def bytes_per_hash(self) -> float:
        return self.memory_bytes() / max(1, len(self))

    # -- internals -------------------------------------------------------------------

    def _reject_known(self, ids: np.ndarray) -> None:
        ordered = np.sort(ids)
        if np.any(ordered[1:] == ordered[:-1]):
            raise ValueError("ids must be unique")
        view = self._view
        for state, where in self._locations(view, ids):
            if np.any(state[where] != REMOVED):
                raise ValueError("some ids are already in the index")

    def _locations(self, view: _Snapshot, ids: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(state array, row positions) of the given ids in every segment and the tail."""
        found = [(s.state, s.locate(ids)) for s in view.segments]
        return found + [(view.tail.state, view.tail.locate(ids))]

    def _set_state(self, ids: np.ndarray | list[int], to: int, *, frm: int | None) -> int:
        ids = _as_ids(ids)
        changed = 0
        with self._lock:
            for state, where in self._locations(self._view, ids):
                current = state[where]
                hit = where[current == frm] if frm is not None else where[current != REMOVED]
                state[hit] = to
                changed += len(hit)
        return changed

    def _freeze(self, tail: Tail) -> Segment:
        n = tail.n
        return Segment.build(tail.rows[:n], tail.ids[:n], tail.state[:n].copy(), self._chunks)

    def _merged(self, segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
        """Merge trailing segments while the newer is at least 1/_MERGE_RATIO of the older."""
        merging = list(segments)
        while len(merging) >= 2 and len(merging[-1]) * _MERGE_RATIO >= len(merging[-2]):
            newer, older = merging.pop(), merging.pop()
            merged = self._merge_all([older, newer])
            merging.extend([merged] if merged else [])
        return tuple(merging)

    def _merge_all(self, segments: list[Segment]) -> Segment | None:
        rows = np.concatenate([s.rows for s in segments]) if segments else np.empty((0, WORDS), np.uint64)
        ids = np.concatenate([s.ids for s in segments]) if segments else np.empty(0, np.int64)
        state = np.concatenate([s.state for s in segments]) if segments else np.empty(0, np.uint8)
        keep = state != REMOVED
        if not keep.any():
            return None
        return Segment.build(rows[keep], ids[keep], state[keep], self._chunks)


def warm_up() -> None:
    """Compile (or load from numba's on-disk cache) every kernel now, at start-up, so that
    the first lookup a person or a platform makes does not pay seconds of compilation inside
    its own time limit. Cheap once done: later calls find the kernels already loaded."""
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 256, size=(64, 32), dtype=np.uint8)
    index = PDQIndex.build(rows, np.arange(64, dtype=np.int64), tail_size=16)
    index.add(rng.integers(0, 256, size=(8, 32), dtype=np.uint8), np.arange(64, 72, dtype=np.int64))
    for threshold in (0, DEFAULT_THRESHOLD):  # 0 takes the tables, 31 on so few rows the scan
        index.query_batch(rows[:4], threshold)
        index.query(rows[0], threshold)
