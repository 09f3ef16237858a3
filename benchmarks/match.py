"""PDQ matching at scale: Trustdesk's PDQIndex against python-threatexchange's PDQIndex.

Both run in this process, pinned to one core with one OpenMP/BLAS thread, on the same
N random 256-bit hashes with planted near-duplicates of each query at distances 0..40.
A random hash lies within 40 bits of a query with probability ~1e-35, so the planted
rows are the ground truth (spot-checked by brute force). Each index answers the same
queries in `--repeat` timed passes (batch, then one at a time) and its best pass is
reported, all passes printed above: the 2-core machines here are shared, and a pass can
lose a third of its speed to a neighbour. The last line printed is `key=value` pairs.

    .venv/bin/python benchmarks/match.py            # N = 10,000,000, peer at the same N
    .venv/bin/python benchmarks/match.py --quick    # N = 1,000,000
    .venv/bin/python benchmarks/match.py --peer-n 2000000   # cap the peer's N (labelled)
    .venv/bin/python benchmarks/match.py --n 30000000 --skip-peer   # the largest that fits here

Also printed, each beside its baseline from the same run: batches through the shared-scan
kernel (blocks of 4,096 queries, `segment.SHARED_BLOCK`) against the same batches one query
at a time through the per-query kernel; and the cost of dihedral matching per upload, one
lookup of eight hashes (an upload's rotations and flips, `query_batch_arrays`) against the
single upright lookup, plus pdqhash's eight hashes against its one on a conformance photo.
"""

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy/faiss load their thread pools

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from trustdesk.safety.signals import segment  # noqa: E402
from trustdesk.safety.signals.index import PDQIndex  # noqa: E402

_PHOTO = Path("shared") / "conformance" / "pdq" / "images" / "dih" / "bridge-1-original.jpg"
CONFORMANCE_PHOTO = next((p / _PHOTO for p in Path(__file__).resolve().parents if (p / _PHOTO).is_file()), _PHOTO)

THRESHOLD = 31
PLANT_DISTANCES = np.arange(41)


@dataclass
class Corpus:
    hashes: np.ndarray  # (n, 32) uint8; the planted rows are the last ones
    ids: np.ndarray  # int64
    queries: np.ndarray  # (q, 32) centres, planted around
    planted_query: np.ndarray  # per planted row: which query it was planted for
    planted_distance: np.ndarray
    planted_ids: np.ndarray


@dataclass
class Result:
    build_s: float
    bytes_per_hash: float
    rss_per_hash: float
    batch_qps: float
    single_qps: float
    recall: float
    false_positives: int
    add10k_s: float
    batch_per_query_qps: float = float("nan")  # the same batches without shared scans
    dihedral_uploads_per_s: float = float("nan")  # eight-orientation lookups, one upload at a time


def hex_rows(rows: np.ndarray) -> list[str]:
    """The peer's input format: one 64-digit hex string per hash."""
    text = rows.tobytes().hex()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        line = next(row for row in status if row.startswith("VmRSS"))
    return int(line.split()[1]) * 1024


def flip_bits(rows: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row with exactly counts[i] distinct bits flipped."""
    bits = np.unpackbits(rows, axis=1)
    order = np.argsort(rng.random(bits.shape), axis=1)
    mask = np.zeros_like(bits)
    np.put_along_axis(mask, order, (np.arange(256) < counts[:, None]).astype(np.uint8), axis=1)
    return np.packbits(bits ^ mask, axis=1)


def make_corpus(n: int, n_queries: int, seed: int) -> Corpus:
    rng = np.random.default_rng(seed)
    queries = rng.integers(0, 256, (n_queries, 32), dtype=np.uint8)
    planted_query = np.repeat(np.arange(n_queries), len(PLANT_DISTANCES))
    planted_distance = np.tile(PLANT_DISTANCES, n_queries)
    planted = flip_bits(queries[planted_query], planted_distance, rng)
    hashes = np.concatenate([rng.integers(0, 256, (n - len(planted), 32), dtype=np.uint8), planted])
    ids = rng.permutation(np.arange(n, dtype=np.int64) * 7 + 1_000)
    return Corpus(hashes, ids, queries, planted_query, planted_distance, ids[n - len(planted) :])


def score(corpus: Corpus, query_idx: np.ndarray, found_ids: np.ndarray) -> tuple[float, int]:
    """(recall of planted rows within the threshold, results that are not such rows)."""
    truth = corpus.planted_distance <= THRESHOLD
    want = set(zip(corpus.planted_query[truth].tolist(), corpus.planted_ids[truth].tolist(), strict=True))
    got = set(zip(query_idx.tolist(), found_ids.tolist(), strict=True))
    return len(want & got) / len(want), len(got - want)


def spot_check(corpus: Corpus, index: PDQIndex, k: int = 5) -> None:
    """Brute force over all N for a few queries: the planted truth must be all there is."""
    for q in range(k):
        d = np.bitwise_count(corpus.hashes ^ corpus.queries[q]).sum(axis=1)
        brute = set(corpus.ids[d <= THRESHOLD].tolist())
        assert brute == {m.id for m in index.query(corpus.queries[q])}, f"query {q} differs from brute force"


def print_passes(name: str, batch: list[float], single: list[float]) -> None:
    print(
        f"{name:>14} passes: batch {', '.join(f'{q:,.0f}' for q in batch)} q/s; "
        f"single {', '.join(f'{q:,.0f}' for q in single)} q/s",
        flush=True,
    )


def bench_ours(corpus: Corpus, n_single: int, repeat: int) -> Result:
    rss0 = rss_bytes()
    start = time.perf_counter()
    index = PDQIndex.build(corpus.hashes, corpus.ids)
    build_s = time.perf_counter() - start
    rss_per_hash = (rss_bytes() - rss0) / len(index)
    index.query_batch_arrays(corpus.queries[:4])  # load compiled kernels
    batch_qps, single_qps = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        found = index.query_batch_arrays(corpus.queries)
        batch_qps.append(len(corpus.queries) / (time.perf_counter() - start))
        start = time.perf_counter()
        for q in corpus.queries[:n_single]:
            index.query(q)
        single_qps.append(n_single / (time.perf_counter() - start))
    print_passes("trustdesk", batch_qps, single_qps)
    batch_qps, single_qps = max(batch_qps), max(single_qps)
    recall, false_positives = score(corpus, found.query, found.ids)
    per_query = batch_without_shared_scans(index, corpus, repeat)
    assert recall == score(corpus, per_query[1].query, per_query[1].ids)[0]
    dihedral = dihedral_lookups(index, corpus, n_single, repeat)
    print(
        f"{'trustdesk':>14} batch: shared scans {batch_qps:,.0f} q/s vs one query at a time {per_query[0]:,.0f} q/s "
        f"({batch_qps / per_query[0]:.2f}x); per upload: upright lookup {single_qps:,.0f}/s vs all 8 orientations "
        f"{dihedral:,.0f}/s ({single_qps / dihedral:.2f}x the cost, {1e6 / dihedral - 1e6 / single_qps:,.0f} us more)",
        flush=True,
    )
    spot_check(corpus, index)
    extra = np.random.default_rng(99).integers(0, 256, (10_000, 32), dtype=np.uint8)
    start = time.perf_counter()
    index.add(extra, np.arange(10_000, dtype=np.int64) * 7 + 2)  # ids 2 mod 7: all new
    add10k_s = time.perf_counter() - start
    assert [m.id for m in index.query(extra[-1])] == [9_999 * 7 + 2]
    return Result(
        build_s,
        index.bytes_per_hash(),
        rss_per_hash,
        batch_qps,
        single_qps,
        recall,
        false_positives,
        add10k_s,
        per_query[0],
        dihedral,
    )


def batch_without_shared_scans(index: PDQIndex, corpus: Corpus, repeat: int) -> tuple[float, object]:
    """Best q/s of the same batch with the shared-scan kernel switched off (the baseline)."""
    saved, segment.SHARED_MIN_QUERIES = segment.SHARED_MIN_QUERIES, 1 << 62
    try:
        passes = []
        for _ in range(repeat):
            start = time.perf_counter()
            found = index.query_batch_arrays(corpus.queries)
            passes.append(len(corpus.queries) / (time.perf_counter() - start))
    finally:
        segment.SHARED_MIN_QUERIES = saved
    print(f"{'trustdesk':>14} passes: batch one query at a time {', '.join(f'{q:,.0f}' for q in passes)} q/s", flush=True)
    return max(passes), found


def dihedral_lookups(index: PDQIndex, corpus: Corpus, n_single: int, repeat: int) -> float:
    """Uploads/s when each upload looks up eight hashes at once: its own and seven others
    (an image's rotations and flips are ~128 bits from each other, as random hashes are)."""
    rng = np.random.default_rng(7)
    uploads = np.repeat(corpus.queries[:n_single, None, :], 8, axis=1)
    uploads[:, 1:] = rng.integers(0, 256, (n_single, 7, 32), dtype=np.uint8)
    passes = []
    for _ in range(repeat):
        start = time.perf_counter()
        for rows in uploads:
            index.query_batch_arrays(rows)
        passes.append(n_single / (time.perf_counter() - start))
    print(
        f"{'trustdesk':>14} passes: dihedral (8 hashes a lookup) {', '.join(f'{q:,.0f}' for q in passes)} uploads/s", flush=True
    )
    return max(passes)


def dihedral_hashing(repeat: int = 20) -> None:
    """pdqhash's eight dihedral hashes against its one, on a decoded conformance photo."""
    if not CONFORMANCE_PHOTO.is_file():
        print(f"dihedral hashing: no conformance photo at {CONFORMANCE_PHOTO}", flush=True)
        return
    import pdqhash
    from PIL import Image

    pixels = np.asarray(Image.open(CONFORMANCE_PHOTO).convert("RGB"))
    times = {}
    for name, fn in (("one hash", pdqhash.compute), ("eight hashes", pdqhash.compute_dihedral)):
        fn(pixels)
        start = time.perf_counter()
        for _ in range(repeat):
            fn(pixels)
        times[name] = (time.perf_counter() - start) / repeat * 1e3
    print(
        f"dihedral hashing ({pixels.shape[1]}x{pixels.shape[0]} decoded): pdqhash.compute {times['one hash']:.1f} ms, "
        f"compute_dihedral {times['eight hashes']:.1f} ms ({times['eight hashes'] / times['one hash']:.2f}x)",
        flush=True,
    )


def bench_peer(corpus: Corpus, n_single: int, repeat: int) -> Result:
    import faiss
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex as PeerIndex

    faiss.omp_set_num_threads(1)
    entries = list(zip(hex_rows(corpus.hashes), corpus.ids.tolist(), strict=True))
    rss0 = rss_bytes()
    start = time.perf_counter()
    index = PeerIndex(entries)
    build_s = time.perf_counter() - start
    rss_per_hash = (rss_bytes() - rss0) / len(entries)
    del entries
    hexes = hex_rows(corpus.queries)
    batch_qps, single_qps = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        batch = index.index.search_with_distance_in_result(hexes, THRESHOLD)  # its batch API
        batch_qps.append(len(hexes) / (time.perf_counter() - start))
        start = time.perf_counter()
        for h in hexes[:n_single]:
            index.query(h)
        single_qps.append(n_single / (time.perf_counter() - start))
    print_passes("threatexchange", batch_qps, single_qps)
    batch_qps, single_qps = max(batch_qps), max(single_qps)
    query_idx = np.array([q for q, h in enumerate(hexes) for _ in batch[h]], np.int64)
    found = np.array([index.local_id_to_entry[i][1] for h in hexes for i, _, _ in batch[h]], np.int64)
    recall, false_positives = score(corpus, query_idx, found)
    extra_rows = np.random.default_rng(99).integers(0, 256, (10_000, 32), dtype=np.uint8)
    extra = [(h, -i - 1) for i, h in enumerate(hex_rows(extra_rows))]
    start = time.perf_counter()
    index.add_all(extra)
    add10k_s = time.perf_counter() - start
    return Result(build_s, float("nan"), rss_per_hash, batch_qps, single_qps, recall, false_positives, add10k_s)


def report(name: str, n: int, r: Result) -> None:
    print(
        f"{name:>14} n={n:,}: build {r.build_s:.1f} s, {r.bytes_per_hash:.1f} B/hash (arrays), "
        f"{r.rss_per_hash:.1f} B/hash (RSS growth), batch {r.batch_qps:,.0f} q/s, single "
        f"{r.single_qps:,.0f} q/s, recall {r.recall:.4f}, false positives {r.false_positives}, "
        f"add 10k {r.add10k_s:.3f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="N = 1,000,000")
    parser.add_argument("--peer-n", type=int, default=None, help="the peer's N (default: same N)")
    parser.add_argument("--queries", type=int, default=2_000, help="batch queries (41 planted rows each)")
    parser.add_argument("--single", type=int, default=1_000, help="queries timed one at a time")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per index; the best is reported")
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    n = 1_000_000 if args.quick else args.n
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    dihedral_hashing()
    ours = bench_ours(make_corpus(n, args.queries, seed=1), args.single, args.repeat)
    report("trustdesk", n, ours)
    peer_n = n if args.peer_n is None else args.peer_n
    peer = None
    if not args.skip_peer:
        peer = bench_peer(make_corpus(peer_n, args.queries, seed=1), min(args.single, 500), args.repeat)
        report("threatexchange", peer_n, peer)
    qps = min(ours.batch_qps, ours.single_qps)
    peer_qps = peer.single_qps if peer else float("nan")
    print(
        f"n={n} peer_n={peer_n if peer else 0} qps={qps:.0f} batch_qps={ours.batch_qps:.0f} "
        f"single_qps={ours.single_qps:.0f} peer_qps={peer_qps:.0f} "
        f"peer_batch_qps={peer.batch_qps if peer else float('nan'):.0f} ratio={qps / peer_qps:.1f} "
        f"recall={ours.recall:.4f} false_positives={ours.false_positives} "
        f"peer_recall={peer.recall if peer else float('nan'):.4f} bytes_per_hash={ours.bytes_per_hash:.1f} "
        f"rss_bytes_per_hash={ours.rss_per_hash:.1f} peer_rss_bytes_per_hash={peer.rss_per_hash if peer else float('nan'):.1f} "
        f"build_s={ours.build_s:.2f} peer_build_s={peer.build_s if peer else float('nan'):.1f} "
        f"add10k_s={ours.add10k_s:.4f} peer_add10k_s={peer.add10k_s if peer else float('nan'):.3f} "
        f"batch_per_query_qps={ours.batch_per_query_qps:.0f} dihedral_uploads_per_s={ours.dihedral_uploads_per_s:.0f}"
    )


if __name__ == "__main__":
    main()
