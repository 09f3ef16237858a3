"""Immutable multi-index segments of PDQ hashes, and the growable tail of recent additions.

`PDQIndex` is a small LSM tree: a few immutable `Segment`s (each a set of direct-indexed
chunk tables) plus a `Tail` scanned linearly. Segments are never edited except for the
per-row state flag that disable/enable/remove flip, so readers need no lock.
"""

import threading
from dataclasses import dataclass, field
from functools import cache
from math import comb

import numpy as np

from trustdesk.safety.signals import _kernels

HASH_BITS = 256
HASH_BYTES = 32
WORDS = 4  # uint64 words per hash

# Per-thread candidate buffer: allocating it per call cost more than a query in single-query
# use (page faults on fresh memory), and threads query concurrently with the GIL released.
_workspace = threading.local()

# Row state flags (uint8 per row).
ACTIVE = _kernels.ACTIVE
DISABLED = 1
REMOVED = 2

_BUCKET_BITS = 3  # log2 of the mean rows per table bucket (measured best of 2..4)
_LINE = 64  # cache line bytes


def _aligned(shape: tuple[int, ...], dtype: type, *, zero: bool = False) -> np.ndarray:
    """An array whose data starts on a cache-line boundary.

    numpy aligns large arrays to 16 bytes only, so half the 32-byte rows would straddle two
    lines: a second cache miss per candidate row (measured: the search is bound by misses).
    """
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = (np.zeros if zero else np.empty)(size + _LINE, np.uint8)
    start = -raw.ctypes.data % _LINE
    return raw[start : start + size].view(dtype).reshape(shape)


@dataclass(frozen=True, slots=True)
class ChunkLayout:
    """How the 256 bits are cut into chunks, and how a threshold is spread over them."""

    starts: np.ndarray  # int64 (m,)
    widths: np.ndarray  # int64 (m,)

    @classmethod
    def even(cls, chunks: int) -> "ChunkLayout":
        """`chunks` contiguous chunks, the first `256 % chunks` of them one bit wider."""
        base, extra = divmod(HASH_BITS, chunks)
        widths = np.array([base + (i < extra) for i in range(chunks)], np.int64)
        starts = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        return cls(starts, widths)

    def taus(self, threshold: int) -> np.ndarray:
        """Per-chunk probe radii with sum(taus + 1) = threshold + 1 (pigeonhole).

        If every chunk differed by more than its radius the total distance would be at least
        threshold + 1, so probing chunk c at radius taus[c] for every c misses nothing. The
        spare units go to the widest chunks, where a wider radius costs fewest candidates.
        """
        m = len(self.widths)
        base, extra = divmod(threshold + 1, m)
        order = np.argsort(-self.widths, kind="stable")
        units = np.full(m, base, np.int64)
        units[order[:extra]] += 1
        return units - 1

    @property
    def next_starts(self) -> np.ndarray:
        """Where the chunk after each one starts, around the ring: its fingerprint's bits."""
        return np.roll(self.starts, -1)

    @staticmethod
    def pair_bounds(taus: np.ndarray) -> np.ndarray:
        """The pigeonring bound on each chunk and the next together, tau[c] + tau[c+1] + 1
        (why: `_kernels.search_tables`)."""
        return taus + np.roll(taus, -1) + 1


def offsets_width(key_bits: np.ndarray) -> int:
    """Row length of the offset tables: 2**max(key_bits) + 1 slots, padded so that each row
    starts on a cache line (16 uint32 slots)."""
    return -(-((1 << int(key_bits.max())) + 1) // 16) * 16


def key_bits_for(n: int, layout: ChunkLayout) -> tuple[np.ndarray, int]:
    """Table key width per chunk and row-number width for a segment of n rows.

    About 8 rows per bucket (offset tables ~9 bytes per hash in all, 11 chunks) balanced
    probes against tag checks best at N = 10M; the tag (the chunk bits
    below the key) must fit beside the row number in a uint32 entry.
    """
    row_bits = max(1, int(n - 1).bit_length())
    widest = int(layout.widths.max())
    key = max(row_bits - _BUCKET_BITS, min(row_bits, 14), widest - (32 - row_bits), 1)
    return np.minimum(layout.widths, key).astype(np.int64), row_bits


# How many chunks a segment of n hashes is cut into, when the index leaves it to the segment:
# the count (within these bounds) that a cost model of a lookup at the default threshold
# finds cheapest. Fewer, wider chunks cost more probes; more, narrower chunks let more
# random rows through as candidates, which only pays while n is small.
CHUNK_CHOICES = range(11, 17)
DEFAULT_THRESHOLD = 31  # PDQ's standard match threshold
# Nanoseconds per probe (an offset and a bucket cache line), per bucket entry tag-checked,
# and per candidate row fetched and verified, measured at N = 10M on the 2-core machine.
_COST_PROBE, _COST_ENTRY, _COST_CANDIDATE = 18.0, 2.0, 17.0


def lookup_cost(n: int, layout: "ChunkLayout", threshold: int = DEFAULT_THRESHOLD) -> float:
    """Modelled nanoseconds of one lookup in a segment of n random hashes cut by `layout`:
    probes, bucket entries and expected candidate rows, each at its measured price."""
    taus = layout.taus(threshold)
    key_bits, row_bits = key_bits_for(n, layout)
    fp = fingerprint_bits(key_bits, row_bits, layout)
    pair = layout.pair_bounds(taus)
    probes = entries = candidates = 0.0
    for c in range(len(taus)):
        tau, kb, width = int(taus[c]), int(key_bits[c]), int(layout.widths[c])
        if tau < 0:
            continue
        p = _probes(kb, tau)
        probes += p
        entries += p * n / (1 << kb)
        # a random row is a candidate of chunk c when its chunk is within tau and its
        # chunk and fingerprint distances together are within the pair bound
        candidates += n * sum(comb(width, d) / 2**width * _at_most(int(fp[c]), int(pair[c]) - d) for d in range(tau + 1))
    return _COST_PROBE * probes + _COST_ENTRY * entries + _COST_CANDIDATE * candidates


# Memory bound of the choice: at most this many bytes per hash for a segment whose arrays
# are over `SMALL_SEGMENT_BYTES` (below that, the size in all is what matters, and the offset
# tables of a small segment are large per hash whatever the layout). 99, so that with the
# index's tail buffers (336 KiB) a million hashes stay within 100 bytes each.
MAX_BYTES_PER_HASH = 99
SMALL_SEGMENT_BYTES = 16 << 20


def segment_bytes(n: int, layout: ChunkLayout) -> int:
    """Bytes of a segment's arrays: rows, ids, flags, one uint32 entry per hash and chunk,
    and the offset tables (rows padded to cache lines)."""
    key_bits, _ = key_bits_for(n, layout)
    return n * (HASH_BYTES + 8 + 1) + len(key_bits) * (n + offsets_width(key_bits)) * 4


@cache
def best_chunks(n: int) -> int:
    """The chunk count of `CHUNK_CHOICES` with the cheapest modelled lookup for n hashes
    within the memory bound (11 at 10M, 13 around 5M, 16 for small banks)."""
    fits = [m for m in CHUNK_CHOICES if segment_bytes(n, ChunkLayout.even(m)) <= max(MAX_BYTES_PER_HASH * n, SMALL_SEGMENT_BYTES)]
    return min(fits or CHUNK_CHOICES[:1], key=lambda m: lookup_cost(n, ChunkLayout.even(m)))


def _at_most(bits: int, k: int) -> float:
    """P(a Binomial(bits, 1/2) is at most k)."""
    return _probes(bits, k) / 2**bits if k >= 0 else 0.0


def fingerprint_bits(key_bits: np.ndarray, row_bits: int, layout: ChunkLayout) -> np.ndarray:
    """Bits of the next chunk that fit in each table's uint32 entries beside tag and row."""
    spare = 32 - row_bits - (layout.widths - key_bits)
    return np.clip(np.minimum(spare, np.roll(layout.widths, -1)), 0, None).astype(np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """n hashes sorted by id, with one direct-indexed table per chunk."""

    layout: ChunkLayout
    rows: np.ndarray  # (n, 4) uint64
    ids: np.ndarray  # (n,) int64, strictly increasing
    state: np.ndarray  # (n,) uint8, flipped in place by disable/enable/remove
    key_bits: np.ndarray  # (m,) int64
    fp_bits: np.ndarray  # (m,) int64: bits of the next chunk in each table's entries
    row_bits: int
    offsets: np.ndarray  # (m, >= 2**max(key_bits) + 1) uint32, rows on cache lines
    entries: np.ndarray  # (m, n) uint32
    plans: dict[int, tuple[np.ndarray, np.ndarray] | None] = field(default_factory=dict)

    @classmethod
    def build(cls, rows: np.ndarray, ids: np.ndarray, state: np.ndarray, chunks: int | None = None) -> "Segment":
        """Sort by id (so id lookups are a binary search, no extra map) and fill the tables,
        cut into `chunks` chunks (by default the count `best_chunks` finds for this size)."""
        layout = ChunkLayout.even(chunks or best_chunks(max(1, len(ids))))
        if len(ids) >= 2**32:
            raise ValueError("a segment holds at most 2**32 - 1 hashes")
        if len(ids) > 1 and bool(np.all(ids[1:] > ids[:-1])):  # already in order (the matcher loads by id)
            aligned = _aligned(rows.shape, np.uint64)
            aligned[...] = rows
            rows, ids, state = aligned, ids.copy(), state.copy()
        else:
            order = np.argsort(ids, kind="stable")
            ids, state = ids[order], state[order]
            rows = np.take(rows, order, axis=0, out=_aligned(rows.shape, np.uint64))
        if np.any(ids[1:] == ids[:-1]):
            raise ValueError("ids must be unique")
        key_bits, row_bits = key_bits_for(len(ids), layout)
        offsets = _aligned((len(key_bits), offsets_width(key_bits)), np.uint32, zero=True)
        entries = _aligned((len(key_bits), len(ids)), np.uint32)
        fp_bits = fingerprint_bits(key_bits, row_bits, layout)
        _kernels.build_tables(
            rows, layout.starts, layout.widths, key_bits, layout.next_starts, fp_bits, row_bits, offsets, entries
        )
        return cls(layout, rows, ids, state, key_bits, fp_bits, row_bits, offsets, entries)

    def __len__(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        arrays = (self.rows, self.ids, self.state, self.offsets, self.entries)
        return sum(a.nbytes for a in arrays)

    def locate(self, ids: np.ndarray) -> np.ndarray:
        """Row numbers of those of `ids` stored here (absent ids are dropped)."""
        pos = np.searchsorted(self.ids, ids)
        pos = pos[pos < len(self.ids)]
        return pos[np.isin(self.ids[pos], ids)]

    def prefers_scan(self, taus: np.ndarray) -> bool:
        """Whether a linear scan beats the tables at these radii (very wide thresholds)."""
        n = len(self.ids)
        probes = [_probes(int(kb), int(t)) for t, kb in zip(taus, self.key_bits, strict=True)]
        scanned = sum(p * n / (1 << int(kb)) for p, kb in zip(probes, self.key_bits, strict=True))
        return 2 * sum(probes) + scanned > n

    def plan(self, threshold: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(chunking, probes) for the kernel, or None to scan instead; memoised per threshold."""
        if threshold not in self.plans:
            layout = self.layout
            taus = layout.taus(threshold)
            chunking = np.stack(
                [layout.starts, layout.widths, self.key_bits, taus, layout.next_starts, self.fp_bits, layout.pair_bounds(taus)]
            )
            self.plans[threshold] = None if self.prefers_scan(taus) else (chunking, _kernels.probe_plan(taus, self.key_bits))
        return self.plans[threshold]

    def search(self, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, ...]:
        """(query index, row, distance) of every active row within threshold."""
        plan = self.plan(threshold)
        if plan is None:
            return scan(queries, threshold, self.rows, len(self.ids), self.state)
        if (
            len(queries) >= SHARED_MIN_QUERIES
            and len(self.ids) >= SHARED_MIN_ROWS
            and self._coverage(plan) >= SHARED_MIN_COVERAGE
        ):
            return self._search_shared(queries, threshold, plan)
        cand = getattr(_workspace, "cand", None)
        if cand is None:
            cand = np.empty(1 << 15, np.int64)
        q, r, d, _workspace.cand = _kernels.search_tables(
            queries,
            threshold,
            *plan,
            self.row_bits,
            self.rows,
            self.offsets,
            self.entries,
            self.state,
            cand,
        )
        return q, r, d

    def _coverage(self, plan: tuple[np.ndarray, np.ndarray]) -> float:
        """Probes of one block of queries per table key: how much of each table a block's
        shared scan reads (the scan pays where this is high)."""
        probes_per_chunk = plan[1].shape[1] / len(self.key_bits)
        return SHARED_BLOCK * probes_per_chunk / float(1 << int(self.key_bits.max()))

    def _search_shared(self, queries: np.ndarray, threshold: int, plan: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
        """Blocks of queries with shared table scans (`_kernels.search_tables_shared`)."""
        parts = []
        for start in range(0, len(queries), SHARED_BLOCK):
            q, r, d = _kernels.search_tables_shared(
                queries[start : start + SHARED_BLOCK],
                threshold,
                *plan,
                self.row_bits,
                self.rows,
                self.offsets,
                self.entries,
                self.state,
            )
            parts.append((q + start, r, d))
        q, r, d = (np.concatenate(column) for column in zip(*parts, strict=True))
        return q, r, d


# Batches of at least SHARED_MIN_QUERIES queries against a segment of at least SHARED_MIN_ROWS
# rows are searched SHARED_BLOCK queries at a time with shared table scans, where the tables
# are far larger than the cache and a block's probes reach at least SHARED_MIN_COVERAGE of
# each table's keys. Elsewhere the sorting costs more than the streaming saves
# (benchmarks/match.py compares both ways, one core: 1.02x one query at a time at 10M, where a
# block covers 0.42 of the keys; 0.73x at 50M, 0.10; 0.6x for a batch of 2,000 at 10M).
SHARED_MIN_QUERIES = 4096
SHARED_MIN_ROWS = 1 << 20
SHARED_MIN_COVERAGE = 0.4
SHARED_BLOCK = 4096


@cache
def _probes(key_bits: int, tau: int) -> int:
    """Keys within tau bits of a key_bits-bit key."""
    return sum(comb(key_bits, k) for k in range(min(tau, key_bits) + 1)) if tau >= 0 else 0


def scan(queries: np.ndarray, threshold: int, rows: np.ndarray, n: int, state: np.ndarray) -> tuple[np.ndarray, ...]:
    """Brute-force (query index, row, distance) over rows[:n]."""
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int16)
    return _kernels.scan_rows(queries, threshold, rows, n, state)


@dataclass(slots=True, eq=False)
class Tail:
    """Recent additions in preallocated arrays, scanned linearly until frozen into a Segment.

    Appends write past `n` only, so a reader holding an older `n` sees a consistent prefix.
    """

    capacity: int
    rows: np.ndarray = field(init=False)
    ids: np.ndarray = field(init=False)
    state: np.ndarray = field(init=False)
    n: int = 0

    def __post_init__(self) -> None:
        self.rows = np.zeros((self.capacity, WORDS), np.uint64)
        self.ids = np.zeros(self.capacity, np.int64)
        self.state = np.zeros(self.capacity, np.uint8)

    def append(self, rows: np.ndarray, ids: np.ndarray) -> int:
        """Append as many as fit; returns how many were taken."""
        k = min(len(ids), self.capacity - self.n)
        self.rows[self.n : self.n + k] = rows[:k]
        self.ids[self.n : self.n + k] = ids[:k]
        self.state[self.n : self.n + k] = ACTIVE
        self.n += k
        return k

    def locate(self, ids: np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.isin(self.ids[: self.n], ids))

    def nbytes(self) -> int:
        return self.rows.nbytes + self.ids.nbytes + self.state.nbytes
