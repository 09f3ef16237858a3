"""PDQ's downsample as matrices (safety/signals/pdqmath.py): at scale 1 it is pdqhash, bit
for bit; at 1/2..1/8 it stays near the full image's hash where hashing the small image
with pdqhash itself does not."""

import numpy as np
import pdqhash
import pytest
from PIL import Image

from trustdesk.safety.signals import pdqmath


def _photo(size: tuple[int, int], seed: int) -> np.ndarray:
    """A photo-like RGB array: smooth waves, a few hard-edged blocks, fine noise."""
    rng = np.random.default_rng(seed)
    h, w = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([127 + 90 * np.sin(x / w * rng.uniform(2, 9) + y / h * rng.uniform(2, 9) + k) for k in range(3)], axis=2)
    for _ in range(12):
        y0, x0 = int(rng.integers(0, h - h // 6)), int(rng.integers(0, w - w // 6))
        rgb[y0 : y0 + int(rng.integers(h // 20, h // 6)), x0 : x0 + int(rng.integers(w // 20, w // 6))] = rng.integers(0, 256, 3)
    return np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)


def _distance(a: np.ndarray, b: np.ndarray) -> int:
    return int((np.asarray(a, dtype=np.uint8) != np.asarray(b, dtype=np.uint8)).sum())


@pytest.mark.parametrize("size", [(64, 64), (100, 160), (251, 400), (777, 1003), (1004, 1600)])
def test_scale_one_is_pdqhash_bit_for_bit(size: tuple[int, int]) -> None:
    pixels = _photo(size, seed=size[1])
    want_bits, want_quality = pdqhash.compute(pixels)
    luma = (pixels[:, :, 0] * 0.299 + pixels[:, :, 1] * 0.587 + pixels[:, :, 2] * 0.114).astype(np.float32)
    got_bits, got_quality = pdqmath.pdq_of_buffer(pdqmath.buffer64(luma, size, 1))
    assert _distance(got_bits, want_bits) == 0
    assert got_quality == want_quality


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_block_means_hash_like_the_full_image(scale: int) -> None:
    size = (1203, 1601)  # neither side a multiple of 8: the last blocks are short
    pixels = _photo(size, seed=scale)
    full, _ = pdqhash.compute(pixels)
    small = Image.fromarray(pixels).reduce(scale)  # box means, as the JPEG DCT scaling gives
    assert small.size == (-(-size[1] // scale), -(-size[0] // scale))
    ours, _ = pdqmath.pdq_of_buffer(pdqmath.buffer64(pdqmath.luma(np.asarray(small)), size, scale))
    naive, _ = pdqhash.compute(np.asarray(small))  # the small image as if it were the photo
    assert _distance(ours, full) <= 6
    assert _distance(ours, full) < _distance(naive, full)


def test_a_reversed_axis_cuts_its_short_block_first() -> None:
    pixels = _photo((603, 901), seed=7)
    flipped = np.ascontiguousarray(pixels[::-1, ::-1])
    full, _ = pdqhash.compute(flipped)
    small = np.asarray(Image.fromarray(pixels).reduce(4))[::-1, ::-1]  # blocks cut on the upright image
    buf = pdqmath.buffer64(pdqmath.luma(small), (603, 901), 4, reverse=(True, True))
    assert _distance(pdqmath.pdq_of_buffer(buf)[0], full) <= 6


def test_a_size_that_is_not_the_scaled_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not 1601x1203 at 1/4"):
        pdqmath.buffer64(np.zeros((300, 400), np.float32), (1203, 1601), 4)


def test_the_eight_dihedral_hashes_are_pdqhashs() -> None:
    pixels = _photo((300, 451), seed=3)
    want, _ = pdqhash.compute_dihedral(pixels)
    luma = (pixels[:, :, 0] * 0.299 + pixels[:, :, 1] * 0.587 + pixels[:, :, 2] * 0.114).astype(np.float32)
    got = pdqmath.dihedral(pdqmath.dct16(pdqmath.buffer64(luma, (300, 451), 1)))
    assert [_distance(got[name], w) for name, w in zip(pdqmath.DIHEDRAL, want, strict=True)] == [0] * 8
