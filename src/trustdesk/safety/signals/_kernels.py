"""Numba kernels behind `PDQIndex`: the inner loops of building and probing the tables.

Why a compiled kernel: a query at N = 10 million walks a few thousand table buckets and
verifies a few thousand candidates. Numpy would have to materialise every probe and every
candidate as temporary arrays (~100x slower); these loops touch each entry once and let
the CPU overlap the cache misses.

Hashes are stored as four little-endian uint64 words per row. A chunk is a run of bits of
that 256-bit number (it may straddle two words). Each table entry is one uint32:
`(tag << row_bits) | row`, where the chunk's high bits are the bucket key (the table is
direct-indexed by them) and its low bits are the tag, checked before the row is fetched.

All arithmetic on words is uint64 and on keys/tags int64: numba turns mixed
signed/unsigned operands into float64, so every cast here is deliberate.
"""

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

ACTIVE = 0  # state flag of a row that queries may return (others: disabled, removed)
_OFFSETS_PER_LINE_BITS = 4  # 16 uint32 offsets per 64-byte cache line


@intrinsic
def _ctpop(typingctx, x):  # type: ignore[no-untyped-def]
    """LLVM's population count, one POPCNT instruction on x86-64."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.ctpop(args[0])

    return sig, codegen


@njit(inline="always")
def _popcount(x: np.uint64) -> np.int64:
    return np.int64(_ctpop(np.uint64(x)))  # type: ignore[call-arg]  # numba's @intrinsic supplies typingctx itself


@njit(inline="always")
def _chunk(rows: np.ndarray, r: int, start: int, width: int) -> np.int64:
    """Bits [start, start+width) of row r, as a non-negative int64."""
    return _bits(rows[r], start, width)


@njit(inline="always")
def _bits(words: np.ndarray, start: int, width: int) -> np.int64:
    """Bits [start, start+width) of the 256-bit number in a (4,) word array."""
    wi = start >> 6
    off = start & 63
    v = words[wi] >> np.uint64(off)
    if off + width > 64:
        v |= words[wi + 1] << np.uint64(64 - off)
    return np.int64(v & ((np.uint64(1) << np.uint64(width)) - np.uint64(1)))


@njit(inline="always")
def _distance(rows: np.ndarray, r: int, q0: np.uint64, q1: np.uint64, q2: np.uint64, q3: np.uint64) -> np.int64:
    return _popcount(rows[r, 0] ^ q0) + _popcount(rows[r, 1] ^ q1) + _popcount(rows[r, 2] ^ q2) + _popcount(rows[r, 3] ^ q3)


@njit(cache=True, nogil=True)
def build_tables(rows, starts, widths, key_bits, fp_starts, fp_bits, row_bits, offsets, entries):  # type: ignore[no-untyped-def]
    """Sort every row into each chunk's table, stable by row (equal keys keep row order).

    Entry = fingerprint | tag | row, from the high bits down: the tag is the chunk's bits
    below the key, the fingerprint `fp_bits[c]` bits of the next chunk (from `fp_starts[c]`).
    `offsets` (m, >= 2**max_key_bits + 1) must be zeroed; `entries` is (m, n).

    Per chunk, (key << 32 | entry) words are sorted by an LSD radix sort of at most 12 bits
    a pass (two passes up to 24 key bits): each pass reads its input in order and writes
    to at most 4,096 streams, so the cache holds every stream's head. (A counting sort
    straight into the table wrote each entry to a random place: two cache misses a row
    and chunk, ~10x slower at 5M rows.) The offsets are then counted from the sorted keys,
    in order.
    """
    n = rows.shape[0]
    a = np.empty(n, np.uint64)
    b = np.empty(n, np.uint64)
    low32 = np.uint64(0xFFFFFFFF)
    for c in range(starts.shape[0]):
        tb = widths[c] - key_bits[c]
        low = (np.int64(1) << tb) - 1
        for r in range(n):
            v = _chunk(rows, r, starts[c], widths[c])
            entry = (((_chunk(rows, r, fp_starts[c], fp_bits[c]) << tb) | (v & low)) << row_bits) | r
            a[r] = (np.uint64(v >> tb) << np.uint64(32)) | np.uint64(entry)
        kb = key_bits[c]
        passes = (kb + 11) // 12
        digit = (kb + passes - 1) // passes if passes else 0
        src, dst = a, b
        for p in range(passes):
            _radix_pass(src, dst, 32 + p * digit, min(digit, kb - p * digit))
            src, dst = dst, src
        row = entries[c]
        for i in range(n):
            w = src[i]
            row[i] = np.uint32(w & low32)
            offsets[c, np.int64(w >> np.uint64(32)) + 1] += 1
        for k in range(np.int64(1) << kb):
            offsets[c, k + 1] += offsets[c, k]


@njit(inline="always")
def _radix_pass(src, dst, shift, bits):  # type: ignore[no-untyped-def]
    """One stable counting-sort pass of src into dst by bits [shift, shift+bits) of each word."""
    size = np.int64(1) << bits
    mask = np.uint64(size - 1)
    sh = np.uint64(shift)
    cursor = np.zeros(size + 1, np.int64)
    for i in range(src.shape[0]):
        cursor[np.int64((src[i] >> sh) & mask) + 1] += 1
    for d in range(size):
        cursor[d + 1] += cursor[d]
    for i in range(src.shape[0]):
        w = src[i]
        d = np.int64((w >> sh) & mask)
        dst[cursor[d]] = w
        cursor[d] += 1


@njit(inline="always")
def _accepts(diff, chunking, c):  # type: ignore[no-untyped-def]
    """Whether chunk c's probes report the row whose xor with the query is `diff`: within
    tau[c] on the chunk, and within pair[c] on the chunk plus its fingerprint bits."""
    tau = chunking[3, c]
    if tau < 0:
        return False
    d = _popcount(_bits(diff, chunking[0, c], chunking[1, c]))
    return d <= tau and d + _popcount(_bits(diff, chunking[4, c], chunking[5, c])) <= chunking[6, c]


@njit(inline="always")
def _found_earlier(diff, chunking, c):  # type: ignore[no-untyped-def]
    """Whether an earlier chunk's probes already reported this row (each match once)."""
    for c2 in range(c):
        if _accepts(diff, chunking, c2):
            return True
    return False


@njit(cache=True, nogil=True)
def search_tables(queries, threshold, chunking, plan, row_bits, rows, offsets, entries, state, cand):  # type: ignore[no-untyped-def]
    """Multi-index search of every query in one segment: (query index, row, distance) arrays,
    and the candidate buffer `cand` (a reusable workspace, returned grown if it had to be).

    `chunking` is (7, m): per chunk its bit start, width, table key bits, probe radius
    tau, the start and width of its fingerprint (bits of the next chunk, stored in its
    table entries) and its pair bound; `plan` is (4, P), from `probe_plan`.

    Chunk c is probed at every key within tau[c] bits of the query's key (tau < 0 skips
    it), and of those rows only the ones within pair[c] = tau[c] + tau[c+1] + 1 bits on
    chunk c and the fingerprint together are candidates. Exact by the pigeonring
    principle (Qin et al., VLDB 2019): with sum(tau + 1) = threshold + 1 over the m
    chunks, put t[c] = tau[c] + (m-1)/m, so that sum(t) = threshold. If a row is within
    the threshold, the d[c] - t[c] sum to at most 0 around the ring, so from some chunk i
    on every run of them sums to at most 0: d[i] <= t[i] and d[i] + d[i+1] <= t[i] +
    t[i+1], which for integers are d[i] <= tau[i] and d[i] + d[i+1] <= pair[i]; the
    fingerprint's distance is at most d[i+1]. (Plain pigeonhole, the first condition
    alone, verified about 40 % more candidate rows at N = 10M.)

    Each query runs in passes (bucket bounds, prefetch buckets, tag filter, prefetch rows,
    verify) so that the cache misses of one pass are all independent of each other.
    """
    starts, widths, key_bits = chunking[0], chunking[1], chunking[2]
    probe_chunk, probe_mask = plan[0], plan[1]
    n_probes = probe_chunk.shape[0]
    out_q, out_r, out_d = np.empty(64, np.int64), np.empty(64, np.int64), np.empty(64, np.int16)
    count = 0
    lo = np.empty(n_probes, np.int64)
    hi = np.empty(n_probes, np.int64)
    qchunks = np.empty(starts.shape[0], np.int64)
    sink = np.zeros(1, np.uint64)  # keeps the prefetching loads from being optimised away
    diff = np.empty(4, np.uint64)  # query xor a matching row, word by word
    for qi in range(queries.shape[0]):
        for c in range(starts.shape[0]):
            qchunks[c] = _chunk(queries, qi, starts[c], widths[c])
        for p in range(n_probes):
            c = probe_chunk[p]
            lo[p] = (qchunks[c] >> (widths[c] - key_bits[c])) ^ probe_mask[p]
        sink[0] ^= _touch_offsets(offsets, lo, probe_chunk, plan[3])
        for p in range(n_probes):
            c = probe_chunk[p]
            key = lo[p]
            lo[p] = offsets[c, key]
            hi[p] = offsets[c, key + 1]
        sink[0] ^= _touch_buckets(entries, lo, hi, probe_chunk)
        cand, nc = _candidates(queries, qi, chunking, row_bits, entries, lo, hi, plan, cand)
        sink[0] ^= _touch_rows(rows, cand, nc)
        q0, q1, q2, q3 = queries[qi, 0], queries[qi, 1], queries[qi, 2], queries[qi, 3]
        for i in range(nc):
            r = cand[i] >> 8
            d = _distance(rows, r, q0, q1, q2, q3)
            if d > threshold or state[r] != ACTIVE:
                continue
            diff[0], diff[1], diff[2], diff[3] = rows[r, 0] ^ q0, rows[r, 1] ^ q1, rows[r, 2] ^ q2, rows[r, 3] ^ q3
            if _found_earlier(diff, chunking, cand[i] & 255):
                continue
            out_q, out_r, out_d = _room_for_one(out_q, out_r, out_d, count)
            out_q[count], out_r[count], out_d[count] = qi, r, d
            count += 1
    return out_q[:count], out_r[:count], out_d[:count], cand


@njit(inline="always")
def _room_for_one(out_q, out_r, out_d, count):  # type: ignore[no-untyped-def]
    """The output arrays, doubled when full."""
    if count < out_q.shape[0]:
        return out_q, out_r, out_d
    size = 2 * out_q.shape[0]
    q, r, d = np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.int16)
    q[:count], r[:count], d[:count] = out_q, out_r, out_d
    return q, r, d


@njit(cache=True)
def probe_plan(taus, key_bits):  # type: ignore[no-untyped-def]
    """(4, P): chunk, key xor-mask and tag budget of every probe (see `_probe_plan`), and in
    row 3 the probes whose offset-table cache line no earlier probe shares (then -1s).

    The offset tables' rows start on cache lines and a line holds 16 offsets, so probes
    whose masks agree above the low 4 bits read the same line whatever the query's key:
    only one of them needs prefetching (a third of the loads at 21 key bits).
    """
    chunk, masks, rem = _probe_plan(taus, key_bits)
    n = chunk.shape[0]
    plan = np.full((4, n), -1, np.int64)
    plan[0], plan[1], plan[2] = chunk, masks, rem
    order = np.argsort(chunk * (np.int64(1) << 40) + (masks >> _OFFSETS_PER_LINE_BITS), kind="mergesort")
    t = 0
    for i in range(n):
        p = order[i]
        if (
            i == 0
            or chunk[p] != chunk[order[i - 1]]
            or masks[p] >> _OFFSETS_PER_LINE_BITS != masks[order[i - 1]] >> _OFFSETS_PER_LINE_BITS
        ):
            plan[3, t] = p
            t += 1
    return plan


@njit(inline="always")
def _comb(n: int, k: int) -> int:
    result = 1
    for i in range(k):
        result = result * (n - i) // (i + 1)
    return result


@njit(inline="always")
def _probe_plan(taus, key_bits):  # type: ignore[no-untyped-def]
    """Every (chunk, key xor-mask, tag budget) to probe, grouped by chunk.

    The masks are all keys of up to taus[c] set bits (Gosper's hack enumerates each
    popcount); the tag budget is what is left of taus[c] for the bits below the key.
    """
    n = 0
    for c in range(taus.shape[0]):
        for k in range(min(taus[c], key_bits[c]) + 1):
            n += _comb(key_bits[c], k)
    chunk = np.empty(n, np.int64)
    masks = np.empty(n, np.int64)
    rem = np.empty(n, np.int64)
    p = 0
    for c in range(taus.shape[0]):
        limit = np.int64(1) << key_bits[c]
        for k in range(min(taus[c], key_bits[c]) + 1):
            mask = (np.int64(1) << k) - 1
            while mask < limit:
                chunk[p] = c
                masks[p] = mask
                rem[p] = taus[c] - k
                p += 1
                if k == 0:
                    break
                low = mask & -mask
                ripple = mask + low
                mask = (((ripple ^ mask) >> 2) // low) | ripple
    return chunk, masks, rem


@njit(inline="always")
def _touch_offsets(offsets, keys, probe_chunk, touch):  # type: ignore[no-untyped-def]
    """Software prefetch of the offset-table lines the probes will read (see below): one
    load per distinct line, as every extra load in flight takes a slot a miss could use."""
    acc = np.uint64(0)
    for t in range(touch.shape[0]):
        p = touch[t]
        if p < 0:
            break
        acc ^= np.uint64(offsets[probe_chunk[p], keys[p]])
    return acc


@njit(inline="always")
def _touch_buckets(entries, lo, hi, probe_chunk):  # type: ignore[no-untyped-def]
    """Load the first and last entry of every bucket, storing nothing: a software prefetch.

    Loads whose results feed only an accumulator never block each other, so dozens of
    cache misses are in flight at once. (Copying the buckets instead stalled after three
    or four: each copied word holds a store-buffer slot until its load arrives.)
    """
    acc = np.uint64(0)
    for p in range(lo.shape[0]):
        if hi[p] > lo[p]:
            row = entries[probe_chunk[p]]
            acc ^= np.uint64(row[lo[p]] ^ row[hi[p] - 1])
    return acc


@njit(inline="always")
def _candidates(queries, qi, chunking, row_bits, entries, lo, hi, plan, cand):  # type: ignore[no-untyped-def]
    """Rows of the probed buckets that chunk c accepts, packed as (row << 8) | chunk.

    An entry's bits above the row are fingerprint | tag; xor with the query's gives the
    tag distance (within the probe's tag budget rem, what tau leaves after the key bits
    it flipped) and, with the fingerprint, the distance the pair bound limits.
    Branch-free inside a bucket: every entry is written, and the count advances only for
    those that pass. Probes come grouped by chunk, so the chunk's table row and query bits
    are fetched once per chunk; a zero tag budget (most probes) needs one popcount.
    """
    total = 0
    for p in range(lo.shape[0]):
        total += hi[p] - lo[p]
    if total > cand.shape[0]:
        cand = np.empty(2 * total, np.int64)
    probe_chunk, probe_rem = plan[0], plan[2]
    nc = 0
    shift = np.uint32(row_bits)
    rowmask = np.uint32((np.int64(1) << row_bits) - 1)
    p = 0
    n_probes = lo.shape[0]
    while p < n_probes:
        c = probe_chunk[p]
        row = entries[c]
        tb = chunking[1, c] - chunking[2, c]
        tagmask = np.uint32((np.int64(1) << tb) - 1)
        qbits = np.uint32(
            (_chunk(queries, qi, chunking[4, c], chunking[5, c]) << tb)
            | (_chunk(queries, qi, chunking[0, c], chunking[1, c]) & np.int64(tagmask))
        )
        slack = chunking[6, c] - chunking[3, c]  # pair bound less the chunk's radius
        while p < n_probes and probe_chunk[p] == c:
            rem = probe_rem[p]
            if rem == 0:
                for e_i in range(lo[p], hi[p]):
                    e = row[e_i]
                    x = (e >> shift) ^ qbits
                    cand[nc] = (np.int64(e & rowmask) << 8) | c
                    nc += ((x & tagmask) == 0) & (_popcount(x) <= slack)
            else:
                for e_i in range(lo[p], hi[p]):
                    e = row[e_i]
                    x = (e >> shift) ^ qbits
                    cand[nc] = (np.int64(e & rowmask) << 8) | c
                    nc += (_popcount(x & tagmask) <= rem) & (_popcount(x) <= slack + rem)
            p += 1
    return cand, nc


@njit(inline="always")
def _touch_rows(rows, cand, nc):  # type: ignore[no-untyped-def]
    """Software prefetch of the candidate rows: one load each, as `Segment` aligns its rows
    to 64 bytes, so that a 32-byte row never straddles two cache lines (a second load per
    row halved the misses in flight: the core tracks loads, not lines)."""
    acc = np.uint64(0)
    for i in range(nc):
        acc ^= rows[cand[i] >> 8, 0]
    return acc


@njit(cache=True, nogil=True)
def scan_rows(queries, threshold, rows, n, state):  # type: ignore[no-untyped-def]
    """Brute-force search of rows[:n]: the recent-additions tail, and very wide thresholds."""
    out_q, out_r, out_d = np.empty(64, np.int64), np.empty(64, np.int64), np.empty(64, np.int16)
    count = 0
    for qi in range(queries.shape[0]):
        q0, q1, q2, q3 = queries[qi, 0], queries[qi, 1], queries[qi, 2], queries[qi, 3]
        for r in range(n):
            d = _distance(rows, r, q0, q1, q2, q3)
            if d <= threshold and state[r] == ACTIVE:
                out_q, out_r, out_d = _room_for_one(out_q, out_r, out_d, count)
                out_q[count], out_r[count], out_d[count] = qi, r, d
                count += 1
    return out_q[:count], out_r[:count], out_d[:count]


@njit(inline="always")
def _radix_sort(a, tmp, lo_bit, bits):  # type: ignore[no-untyped-def]
    """a sorted (stably) by its bits [lo_bit, lo_bit+bits), in passes of at most 12 bits;
    returns whichever of a and tmp holds the result."""
    passes = (bits + 11) // 12
    if passes == 0:
        return a
    digit = (bits + passes - 1) // passes
    src, dst = a, tmp
    for p in range(passes):
        _radix_pass(src, dst, lo_bit + p * digit, min(digit, bits - p * digit))
        src, dst = dst, src
    return src


@njit(cache=True, nogil=True)
def search_tables_shared(queries, threshold, chunking, plan, row_bits, rows, offsets, entries, state):  # type: ignore[no-untyped-def]
    """`search_tables` for a block of queries at once, sharing the table scans between them.

    Every probe of every query in the block is sorted by (chunk, key) and the tables are
    then walked in key order, so that each offset line and bucket is read once for all the
    queries that probe it and the reads run forwards through memory (the hardware
    prefetcher streams them) instead of one cache miss per probe. The candidates (query,
    row, chunk) are likewise sorted by row before they are verified on all 256 bits. The
    tests and the pigeonring bound are those of `search_tables`, so the answer is the same
    set of (query, row, distance); it comes in row order. At most 65,536 queries a call.
    """
    starts, widths, key_bits = chunking[0], chunking[1], chunking[2]
    probe_chunk, probe_mask, probe_rem = plan[0], plan[1], plan[2]
    nq = queries.shape[0]
    m = starts.shape[0]
    n_probes = probe_chunk.shape[0]
    qbits = np.empty((nq, m), np.uint32)  # fingerprint | tag bits of each query, per chunk
    qkeys = np.empty((nq, m), np.int64)
    for qi in range(nq):
        for c in range(m):
            tb = widths[c] - key_bits[c]
            v = _chunk(queries, qi, starts[c], widths[c])
            qkeys[qi, c] = v >> tb
            qbits[qi, c] = np.uint32(
                (_chunk(queries, qi, chunking[4, c], chunking[5, c]) << tb) | (v & ((np.int64(1) << tb) - 1))
            )
    shift = np.uint32(row_bits)
    rowmask = np.uint32((np.int64(1) << row_bits) - 1)
    low16 = np.uint64(0xFFFF)
    cand = np.empty(max(1024, 256 * nq), np.uint64)  # (row << 24) | (query << 8) | chunk
    nc = 0
    p0 = 0
    while p0 < n_probes:
        c = probe_chunk[p0]
        p1 = p0
        while p1 < n_probes and probe_chunk[p1] == c:
            p1 += 1
        k = p1 - p0
        items = np.empty(nq * k, np.uint64)  # (key << 32) | (rem << 16) | query
        i = 0
        for qi in range(nq):
            key = qkeys[qi, c]
            for p in range(p0, p1):
                items[i] = (
                    (np.uint64(key ^ probe_mask[p]) << np.uint64(32)) | (np.uint64(probe_rem[p]) << np.uint64(16)) | np.uint64(qi)
                )
                i += 1
        items = _radix_sort(items, np.empty_like(items), 32, key_bits[c])
        row = entries[c]
        tb = widths[c] - key_bits[c]
        tagmask = np.uint32((np.int64(1) << tb) - 1)
        slack = chunking[6, c] - chunking[3, c]
        for i in range(items.shape[0]):
            w = items[i]
            key = np.int64(w >> np.uint64(32))
            rem = np.int64((w >> np.uint64(16)) & low16)
            qi = np.int64(w & low16)
            lo, hi = np.int64(offsets[c, key]), np.int64(offsets[c, key + 1])
            if nc + hi - lo > cand.shape[0]:
                grown = np.empty(2 * (nc + hi - lo), np.uint64)
                grown[:nc] = cand[:nc]
                cand = grown
            qb = qbits[qi, c]
            tail = np.uint64((qi << 8) | c)
            for e_i in range(lo, hi):
                e = row[e_i]
                x = (e >> shift) ^ qb
                cand[nc] = (np.uint64(e & rowmask) << np.uint64(24)) | tail
                nc += (_popcount(x & tagmask) <= rem) & (_popcount(x) <= slack + rem)
        p0 = p1
    cand = _radix_sort(cand[:nc], np.empty(nc, np.uint64), 24, row_bits)
    out_q, out_r, out_d = np.empty(64, np.int64), np.empty(64, np.int64), np.empty(64, np.int16)
    count = 0
    diff = np.empty(4, np.uint64)
    for i in range(nc):
        w = cand[i]
        r = np.int64(w >> np.uint64(24))
        qi = np.int64((w >> np.uint64(8)) & low16)
        c = np.int64(w & np.uint64(255))
        q0, q1, q2, q3 = queries[qi, 0], queries[qi, 1], queries[qi, 2], queries[qi, 3]
        d = _distance(rows, r, q0, q1, q2, q3)
        if d > threshold or state[r] != ACTIVE:
            continue
        diff[0], diff[1], diff[2], diff[3] = rows[r, 0] ^ q0, rows[r, 1] ^ q1, rows[r, 2] ^ q2, rows[r, 3] ^ q3
        if _found_earlier(diff, chunking, c):
            continue
        out_q, out_r, out_d = _room_for_one(out_q, out_r, out_d, count)
        out_q[count], out_r[count], out_d[count] = qi, r, d
        count += 1
    return out_q[:count], out_r[:count], out_d[:count]
