"""PDQ hashing speed and fidelity: Trustdesk's fast path against plain pdqhash on the fully
decoded image, against the fast path before issue 20, and against the decode alone.

Photos are generated here, deterministically (seeded): smooth gradients with blurred
shapes and sensor-like noise, and the PDQ conformance photos resized with added noise; as
JPEGs of a messenger's size (1280 px long side, quality 82, landscape and portrait) and of a
12-megapixel camera (4000x3000, quality 92). Four ways to hash each, timed side by side on
one core, interleaved image by image, each image's best of `--repeat` CPU times:

- `pdqhash`: decode to RGB, then pdqhash.compute (python-threatexchange's pdq_hasher);
- `before`: the fast path as it was before issue 20 (reproduced below: a JPEG of 1024 px
  or more a side drafted to >= 512 px, box-reduced to 512-1023 px, then pdqhash);
- `ours`: `hashing._open_image` + `hashing._pdq` (the fast path; PDQ only);
- `decode`: what `ours` decodes, and nothing else (the limit: hashing can be no faster).

`hash_media` (ours with MD5 and SHA-256 of the file) is timed beside them. Fidelity is the
Hamming distance of `ours` from `pdqhash` on the full decode, over the conformance images as
they are and over the generated photos; means count images whose full hash is usable
(quality >= 50; lower-quality hashes are never matched on), `_all` every image. The table
ends with a pass/fail line per goal of issue 20 and one `key=value` line.

    .venv/bin/python benchmarks/hash.py
    .venv/bin/python benchmarks/hash.py --quick     # fewer photos, 2 repeats
"""

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import csv
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageFilter, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from trustdesk.safety.signals import hashing  # noqa: E402
from trustdesk.safety.signals.hashing import hash_media, pdq_distance  # noqa: E402

CONFORMANCE = next(
    (p for p in (ROOT.parent / "shared" / "conformance" / "pdq", ROOT / "shared" / "conformance" / "pdq") if p.is_dir()),
    ROOT.parent / "shared" / "conformance" / "pdq",
)
SETS = {  # name: (sizes, JPEG quality)
    "messenger": (((1280, 960), (960, 1280)), 82),
    "12mp": (((4000, 3000),), 92),
}
GOAL_MESSENGER = 5.0  # ours / pdqhash on messenger photos
GOAL_12MP = 2.5  # ours / before on 12 MP photos
GOAL_DISTANCE = 4.0  # mean bits from the full-resolution hash


def jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def noisy(img: Image.Image, rng: np.random.Generator, sigma: float = 2.5) -> Image.Image:
    """Sensor-like noise, so the JPEG carries real high-frequency detail to decode."""
    pixels = np.asarray(img, dtype=np.float32) + rng.normal(0, sigma, (img.height, img.width, 1)).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def synthetic(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Smooth gradients plus blurred shapes: the low-frequency structure PDQ keys on."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    channels = [127 + 100 * np.sin(x / w * rng.uniform(1, 6) + y / h * rng.uniform(1, 6) + k) for k in range(3)]
    img = Image.fromarray(np.stack(channels, axis=2).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(25):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        box = [x0, y0, x0 + int(rng.integers(w // 20, w // 3)), y0 + int(rng.integers(h // 20, h // 3))]
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return noisy(img.filter(ImageFilter.GaussianBlur(max(1, w // 800))), rng)


def conformance_images() -> list[tuple[str, bytes]]:
    with open(CONFORMANCE / "expected.csv", newline="") as f:
        paths = [row["path"] for row in csv.DictReader(f)]
    paths += [f"bridge-mods/{p.name}" for p in sorted((CONFORMANCE / "images" / "bridge-mods").glob("*.jpg"))]
    return [(p, (CONFORMANCE / "images" / p).read_bytes()) for p in paths]


def resized(data: bytes, size: tuple[int, int], quality: int, rng: np.random.Generator) -> bytes:
    img = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    return jpeg(noisy(img.resize(size, Image.Resampling.BICUBIC), rng), quality)


def photos_for(
    sizes: tuple[tuple[int, int], ...], quality: int, sources: list[bytes], n_synthetic: int, rng: np.random.Generator
) -> list[bytes]:
    out = []
    for size in sizes:
        out += [jpeg(synthetic(size, rng), quality) for _ in range(n_synthetic)]
        out += [resized(d, size, quality, rng) for d in sources]
    return out


# -- the four ways -------------------------------------------------------------------------


def plain_pdqhash(data: bytes) -> tuple[str, int]:
    """The peer: full decode to RGB, then Meta's pdqhash (python-threatexchange's pdq_hasher)."""
    bits, quality = pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def before(data: bytes) -> str:
    """The fast path before issue 20 (hashing.py at daccec5), PDQ only."""
    img = Image.open(io.BytesIO(data))
    if img.format == "JPEG" and min(img.size) >= 1024:
        img.draft(img.mode, (512, 512))
    img.load()
    img = hashing._to_8bit(ImageOps.exif_transpose(img))
    if min(img.size) >= 1024:
        img = img.reduce(min(img.size) // 512)
    pixels = np.asarray(img)
    if pixels.ndim == 2:
        pixels = np.broadcast_to(pixels[:, :, None], (*pixels.shape, 3))
    return np.packbits(pdqhash.compute(pixels)[0].astype(np.uint8)).tobytes().hex()


def ours(data: bytes) -> str:
    """The fast path, PDQ only (hash_media adds MD5 and SHA-256; timed separately)."""
    img, full_size, scale = hashing._open_image(io.BytesIO(data), fast=True, max_pixels=hashing.MAX_PIXELS)
    return hashing._pdq(img, full_size, scale, fast=True)[0]


def decode_only(data: bytes) -> Image.Image:
    """What `ours` decodes (a JPEG at 1/fast_scale), and nothing more."""
    img = Image.open(io.BytesIO(data))
    scale = hashing.fast_scale(*img.size)
    if scale > 1:
        img.draft(img.mode, (img.width // scale, img.height // scale))
    img.load()
    return img


WAYS: dict[str, Callable[[bytes], object]] = {
    "pdqhash": plain_pdqhash,
    "before": before,
    "ours": ours,
    "decode": decode_only,
    "hash_media": hash_media,
}


def timed(images: list[bytes], repeat: int) -> dict[str, float]:
    """Images per CPU second of each way: per image the best of `repeat` runs, the ways
    interleaved so that a slow spell of the shared machine hits them alike."""
    best = {name: [float("inf")] * len(images) for name in WAYS}
    for fn in WAYS.values():
        fn(images[0])  # warm: operator cache, imports
    for _ in range(repeat):
        for i, data in enumerate(images):
            for name, fn in WAYS.items():
                start = time.process_time()
                fn(data)
                best[name][i] = min(best[name][i], time.process_time() - start)
    return {name: len(images) / sum(times) for name, times in best.items()}


def distances(images: list[bytes]) -> list[tuple[int, bool]]:
    """(ours-vs-full distance, whether the full hash is usable: quality >= 50) per image."""
    out = []
    for data in images:
        full, quality = plain_pdqhash(data)
        out.append((pdq_distance(ours(data), full), quality >= hashing.PDQ_MIN_QUALITY))
    return out


def summary(pairs: list[tuple[int, bool]]) -> dict[str, float]:
    usable = [d for d, ok in pairs if ok] or [0]
    every = [d for d, _ in pairs]
    return {
        "mean": float(np.mean(usable)),
        "max": max(usable),
        "mean_all": float(np.mean(every)),
        "max_all": max(every),
        "n": len(pairs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer photos, 2 repeats")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per image (default 5, --quick 2)")
    args = parser.parse_args()
    repeat = args.repeat or (2 if args.quick else 5)
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = np.random.default_rng(20)
    conformance = conformance_images()
    photo_sources = [d for p, d in conformance if not p.startswith("dih/")]  # the dih set is the bridge again
    timing_sources = [
        d for p, d in conformance if p in ("bridge-mods/aaa-orig.jpg", "labelme-subset/q0746.jpg", "labelme-subset/q2821.jpg")
    ]
    figures: dict[str, float] = {}
    rows = []
    fidelity: dict[str, dict[str, float]] = {"conformance": summary(distances([d for _, d in conformance]))}
    for label, (sizes, quality) in SETS.items():
        n_syn = 1 if args.quick else 2
        timing = photos_for(sizes, quality, timing_sources[: 1 if args.quick else 3], n_syn, rng)
        rates = timed(timing, repeat)
        megabytes = sum(len(d) for d in timing) / len(timing) / 1e6
        rows.append((label, len(timing), megabytes, rates))
        figures |= {f"{name}_ips_{label}": rate for name, rate in rates.items()}
        fidelity[label] = summary(distances(photos_for(sizes, quality, photo_sources[:: 3 if args.quick else 1], 2 * n_syn, rng)))
        print(f"{label}: timed {len(timing)} photos, {rates}", flush=True)

    print()
    print(
        "| photos | n | mean MB | pdqhash img/s | before img/s | ours img/s | decode-only img/s | hash_media img/s | ours / pdqhash | ours / before | ours / decode-only |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, n, mb, r in rows:
        print(
            f"| {label} | {n} | {mb:.2f} | {r['pdqhash']:.1f} | {r['before']:.1f} | {r['ours']:.1f} | {r['decode']:.1f} | "
            f"{r['hash_media']:.1f} | {r['ours'] / r['pdqhash']:.1f}x | {r['ours'] / r['before']:.2f}x | {r['ours'] / r['decode']:.2f} |"
        )
    print()
    print("| distance from the full-resolution hash | images | mean (usable) | max (usable) | mean (all) | max (all) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, f in fidelity.items():
        print(f"| {label} | {f['n']} | {f['mean']:.2f} | {f['max']} | {f['mean_all']:.2f} | {f['max_all']} |")
    messenger, big = rows[0][3], rows[1][3]
    goals = [
        (
            f"messenger photos: ours >= {GOAL_MESSENGER:g}x pdqhash",
            messenger["ours"] / messenger["pdqhash"],
            GOAL_MESSENGER,
            ">=",
        ),
        (f"12 MP photos: ours >= {GOAL_12MP:g}x before", big["ours"] / big["before"], GOAL_12MP, ">="),
    ] + [
        (f"mean distance on {label} <= {GOAL_DISTANCE:g} bits (usable)", f["mean"], GOAL_DISTANCE, "<=")
        for label, f in fidelity.items()
    ]
    print()
    for text, value, goal, op in goals:
        met = value >= goal if op == ">=" else value <= goal
        print(f"{'PASS' if met else 'FAIL'}  {text}: {value:.2f}")
    for label, f in fidelity.items():
        figures |= {f"distance_{label}": f["mean"], f"distance_{label}_all": f["mean_all"], f"max_distance_{label}": f["max"]}
    figures |= {
        "speedup_messenger": messenger["ours"] / messenger["pdqhash"],
        "speedup_12mp_vs_before": big["ours"] / big["before"],
        "speedup_12mp_vs_pdqhash": big["ours"] / big["pdqhash"],
        "ours_of_decode_12mp": big["ours"] / big["decode"],
    }
    print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
