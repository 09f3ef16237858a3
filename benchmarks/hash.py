"""PDQ hashing speed: Trustdesk's fast path against plain pdqhash on the fully decoded image.

Photos are synthetic (gradients, shapes, sensor-like noise) and the PDQ conformance images
upscaled with added noise, at 1024x768 and 12 megapixels (4000x3000), JPEG quality 90.
The peer is what python-threatexchange's pdq_hasher does: decode to RGB, then
pdqhash.compute. Fidelity is the Hamming distance of the fast path from the full-resolution
hash on the conformance images, upscaled to 12 MP (where the fast path engages) and as
they are. Pinned to one core; the last line printed is `key=value` pairs.

    .venv/bin/python benchmarks/hash.py
"""

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import csv
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from trustdesk.safety.signals import hashing  # noqa: E402
from trustdesk.safety.signals.hashing import hash_media, pdq_distance  # noqa: E402

CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "pdq"
SIZES = {"1024x768": (1024, 768), "12mp": (4000, 3000)}


def jpeg(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def noisy(img: Image.Image, rng: np.random.Generator, sigma: float = 4.0) -> Image.Image:
    """Sensor-like noise, so the JPEG carries real high-frequency detail to decode."""
    pixels = np.asarray(img, dtype=np.float32) + rng.normal(0, sigma, (img.height, img.width, 1))
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


def upscaled(data: bytes, pixels: int, rng: np.random.Generator) -> bytes:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    scale = (pixels / (img.width * img.height)) ** 0.5
    big = img.resize((round(img.width * scale), round(img.height * scale)), Image.Resampling.BICUBIC)
    return jpeg(noisy(big, rng))


def plain_pdqhash(data: bytes) -> str:
    """The peer: full decode to RGB, then Meta's pdqhash (python-threatexchange's pdq_hasher)."""
    bits, _ = pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def fast_pdq(data: bytes) -> str:
    """Ours, PDQ only (hash_media also computes MD5 and SHA-256; timed separately)."""
    return hashing.pdq_from_image(hashing._open_image(data, fast=True), fast=True)[0]


def per_second(fn: Callable[[bytes], object], images: list[bytes], rounds: int = 2) -> float:
    fn(images[0])
    start = time.perf_counter()
    for _ in range(rounds):
        for data in images:
            fn(data)
    return rounds * len(images) / (time.perf_counter() - start)


def distances(images: list[bytes]) -> list[tuple[int, bool]]:
    """(fast-vs-full distance, whether the full hash is usable: quality >= 50) per image."""
    pairs = [(hash_media(d, fast=True), hash_media(d, fast=False)) for d in images]
    return [(pdq_distance(fast.pdq, full.pdq), full.pdq_usable) for fast, full in pairs]


def main() -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = np.random.default_rng(1)
    conformance = conformance_images()
    big_conformance = [upscaled(d, 12_000_000, rng) for _, d in conformance]
    figures: dict[str, float] = {}
    for label, size in SIZES.items():
        photos = [jpeg(synthetic(size, rng)) for _ in range(3)]
        photos += [upscaled(d, size[0] * size[1], rng) for _, d in conformance[9:12]]  # bridge photos
        peer, ours = per_second(plain_pdqhash, photos), per_second(fast_pdq, photos)
        with_files = per_second(hash_media, photos)
        figures |= {
            f"pdqhash_ips_{label}": peer,
            f"fast_ips_{label}": ours,
            f"hash_media_ips_{label}": with_files,
            f"speedup_{label}": ours / peer,
        }
        print(
            f"{label}: pdqhash {peer:.1f} img/s, fast path {ours:.1f} img/s ({ours / peer:.1f}x), "
            f"hash_media incl. MD5+SHA-256 {with_files:.1f} img/s",
            flush=True,
        )
    big, native = distances(big_conformance), distances([d for _, d in conformance])
    usable = [d for d, ok in big if ok]
    print(f"fast vs full on {len(big)} conformance images upscaled to 12 MP (distance, usable): {big}")
    print(f"fast vs full on the conformance images as they are: {native}")
    figures |= {
        "mean_distance": float(np.mean(usable)),
        "max_distance": max(usable),
        "mean_distance_all": float(np.mean([d for d, _ in big])),
        "max_distance_all": max(d for d, _ in big),
        "native_mean_distance": float(np.mean([d for d, _ in native])),
        "native_max_distance": max(d for d, _ in native),
    }
    print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
