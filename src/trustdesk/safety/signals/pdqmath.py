"""PDQ from an image decoded at 1/2, 1/4 or 1/8 of its size, as if from the full image.

PDQ (Meta's `pdqhash`) turns an image's luma into a 64x64 buffer with two passes of box
filters along each axis (Jarosz's tent filter, a window of ceil(side / 128) pixels) and
one sample at the centre of each 64th; the hash is then the signs of a 16x16 DCT of that
buffer against its median. Every step up to the buffer is linear and separable, so the
buffer is `Ry @ luma @ Rx.T` for one 64 x side matrix per axis, which this module builds
from the reference C++ (`pdq/cpp/hashing/pdqhashing.cpp`, `box1DFloat`, `decimateFloat`).
At scale 1 this reproduces pdqhash bit for bit (tests/safety/signals/test_pdqmath.py).

The point is the other scales. A JPEG decoded in its DCT domain at 1/s (Pillow's `draft`,
libjpeg-turbo's scaled IDCT) gives, per output pixel, about the mean of an s x s block of
the full image. Summing each matrix's weights over the pixels of a block gives the matrix
that maps those block means to the same 64x64 buffer: exact where a block is flat, and
off only by the tent's slope within a block elsewhere, which is small while the block is
a fraction of the tent's window. So a 12-megapixel photo is hashed from a 500x375 decode
as closely as from its 3000x4000 pixels, where handing the small image to pdqhash itself
would hash it with a window 8 times narrower (tens of bits away on detailed images).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

PDQ_BUFFER = 64  # side of PDQ's downsample
PDQ_WINDOW_DIVISOR = 128  # window of one box pass = ceil(side / 128)
PDQ_PASSES = 2  # box passes per axis
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # pdqhash's luma from RGB

_DCT = (np.sqrt(2 / 64) * np.cos(np.pi / 128 * np.outer(np.arange(1, 17), 2 * np.arange(64) + 1))).astype(np.float32)


def jarosz_window(side: int) -> int:
    """The width of one of PDQ's box passes along an axis of `side` pixels."""
    return (side + PDQ_WINDOW_DIVISOR - 1) // PDQ_WINDOW_DIVISOR


def _box(rows: np.ndarray, side: int) -> np.ndarray:
    """`rows @ B` for PDQ's box filter B along an axis (box1DFloat: output o is the mean of
    inputs max(0, o + half - w) .. min(side, o + half) - 1, half = (w + 2) // 2)."""
    w = jarosz_window(side)
    half = (w + 2) // 2
    out = np.arange(side)
    lo, hi = np.maximum(0, out + half - w), np.minimum(side, out + half)
    weights = rows / (hi - lo)
    steps = np.zeros((side + 1, rows.shape[0]))
    np.add.at(steps, lo, weights.T)
    np.add.at(steps, hi, -weights.T)
    return np.cumsum(steps, axis=0)[:side].T


def full_operator(side: int) -> np.ndarray:
    """The 64 x side matrix from a full-resolution axis to PDQ's 64 samples along it."""
    sample = ((np.arange(PDQ_BUFFER) + 0.5) * side / PDQ_BUFFER).astype(int)  # decimateFloat
    rows = np.zeros((PDQ_BUFFER, side))
    rows[np.arange(PDQ_BUFFER), sample] = 1.0
    for _ in range(PDQ_PASSES):
        rows = _box(rows, side)  # (S @ B) @ B: the operator is symmetric in the passes
    return rows


@lru_cache(maxsize=512)
def reduced_operator(side: int, scale: int, reverse: bool = False) -> np.ndarray:
    """The 64 x ceil(side / scale) matrix from an axis reduced by `scale` (each pixel the mean
    of `scale` full pixels, the last block shorter) to PDQ's samples of the full axis.

    `reverse`: the reduced axis runs the other way to the one its blocks were cut along (a
    flipped or rotated decode: the short block is then first)."""
    weights = full_operator(side)
    if reverse:
        weights = weights[:, ::-1]
    starts = np.arange(0, side, scale)
    summed = np.add.reduceat(weights, starts, axis=1)
    if reverse:
        summed = summed[:, ::-1]
    return np.ascontiguousarray(summed, dtype=np.float32)


def luma(pixels: np.ndarray) -> np.ndarray:
    """float32 luma of an (h, w, 3) RGB or (h, w) grey uint8 array, as pdqhash computes it."""
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    return pixels.astype(np.float32) @ LUMA


def buffer64(
    luma_reduced: np.ndarray, full_size: tuple[int, int], scale: int, *, reverse: tuple[bool, bool] = (False, False)
) -> np.ndarray:
    """PDQ's 64x64 buffer of the full image (`full_size` = (height, width)) from its luma at
    1/scale; `reverse` per axis (rows, columns) as in `reduced_operator`."""
    (height, width), (rows, cols) = full_size, luma_reduced.shape
    ry, rx = reduced_operator(height, scale, reverse[0]), reduced_operator(width, scale, reverse[1])
    if ry.shape[1] != rows or rx.shape[1] != cols:
        raise ValueError(f"a {cols}x{rows} image is not {width}x{height} at 1/{scale}")
    return (ry @ luma_reduced) @ rx.T


def quality(buf: np.ndarray) -> int:
    """PDQ's quality metric (pdqImageDomainQualityMetric): neighbour differences of the
    64x64 buffer, each truncated to an integer percentage of 255."""
    scale = np.float32(100) / np.float32(255)
    down = np.trunc((buf[:-1, :] - buf[1:, :]) * scale)
    across = np.trunc((buf[:, :-1] - buf[:, 1:]) * scale)
    return min(100, int(np.abs(down).sum() + np.abs(across).sum()) // 90)


def dct16(buf: np.ndarray) -> np.ndarray:
    """The 16x16 DCT coefficients PDQ keeps (dct64To16)."""
    return _DCT @ buf.astype(np.float32) @ _DCT.T


def bits(coefficients: np.ndarray) -> np.ndarray:
    """The 256 hash bits as pdqhash returns them: coefficient > median (torben: the 128th
    smallest), last coefficient first."""
    flat = coefficients.ravel()
    median = np.partition(flat, 127)[127]
    return (flat > median)[::-1].astype(np.uint8)


def pdq_of_buffer(buf: np.ndarray) -> tuple[np.ndarray, int]:
    """(256 bits, quality) of a 64x64 buffer: the rest of pdqhash.compute."""
    return bits(dct16(buf)), quality(buf)


DIHEDRAL = ("original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1")


def dihedral(coefficients: np.ndarray) -> dict[str, np.ndarray]:
    """The bits of all eight rotations and flips of the image from its one 16x16 DCT, as
    pdqhash.compute_dihedral gives them (pdqhashing.cpp, dct16OriginalTo*): a turned or
    flipped image only changes the signs of odd frequencies and swaps the axes."""
    a = np.asarray(coefficients, dtype=np.float32)
    odd = np.arange(16) % 2 == 1
    odd_i, odd_j, odd_sum = odd[:, None], odd[None, :], (odd[:, None] ^ odd[None, :])
    turned = {
        "original": a,
        "rotate90": np.where(odd_j, a, -a).T,
        "rotate180": np.where(odd_sum, -a, a),
        "rotate270": np.where(odd_i, a, -a).T,
        "flipx": np.where(odd_i, a, -a),
        "flipy": np.where(odd_j, a, -a),
        "flipplus1": a.T,
        "flipminus1": np.where(odd_sum, -a, a).T,
    }
    return {name: bits(turned[name]) for name in DIHEDRAL}
