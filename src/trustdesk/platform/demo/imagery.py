"""Small synthetic images for the demo's media: gradients and shapes drawn with numpy and
Pillow, so the repository ships no photographs and the bytes are the same on every run.

The 'poster' comes in three versions: the original PNG and two slight edits (resized and
recompressed; cropped and recompressed), the way re-shared propaganda drifts from its
source. Exact hashes tell them apart; perceptual hashes (PDQ) should find them together."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from trustdesk.platform.demo.posting import MediaUpload


def _encode(image: Image.Image, *, fmt: str, quality: int = 90) -> MediaUpload:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, format="JPEG", quality=quality)
        return "image/jpeg", out.getvalue()
    image.save(out, format="PNG", optimize=False)
    return "image/png", out.getvalue()


def _gradient(*, width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    """A vertical blend from `top` to `bottom`, plus a faint horizontal ramp so that the image
    has structure in both directions (a flat image hashes badly)."""
    t = np.linspace(0.0, 1.0, height)[:, None, None]
    ramp = np.linspace(-12.0, 12.0, width)[None, :, None]
    pixels = (1 - t) * np.array(top) + t * np.array(bottom) + ramp
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB")


def poster() -> Image.Image:
    """A fictional movement's emblem: a black sun, a white blade and gold bars on a rippled
    dark red field. The ripple and the off-centre shapes matter: a flat or symmetric image
    leaves PDQ's coefficients near their median, and then a mere resize flips many bits."""
    y = np.linspace(0.0, 1.0, 240)[:, None]
    x = np.linspace(0.0, 1.0, 320)[None, :]
    red = 40 + 120 * (1 - y) * (0.6 + 0.4 * x) + 40 * np.sin(6 * x + 3 * y) * np.cos(4 * y)
    pixels = np.stack([red, red * 0.2, red * 0.15], axis=-1)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 40, 170, 150), fill=(0, 0, 0), outline=(230, 200, 40), width=6)
    draw.polygon([(200, 20), (290, 120), (230, 215), (180, 110)], fill=(245, 245, 245))
    for step, top in enumerate(range(170, 230, 18)):
        draw.rectangle((20 + step * 15, top, 200 - step * 10, top + 8), fill=(230, 200, 40))
    return image


def poster_original() -> MediaUpload:
    return _encode(poster(), fmt="PNG")


def poster_resized() -> MediaUpload:
    """Edit one: scaled down and saved as a fairly lossy JPEG, as a messenger does on forward."""
    return _encode(poster().resize((256, 192), Image.Resampling.BILINEAR), fmt="JPEG", quality=70)


def poster_cropped() -> MediaUpload:
    """Edit two: a thin border (about 1%) trimmed, then recompressed. PDQ tolerates little
    cropping; this stays within the usual match distance of 31 bits."""
    return _encode(poster().crop((3, 3, 317, 237)), fmt="JPEG", quality=85)


def price_list() -> MediaUpload:
    """A 'menu' of coloured rows, the shape of a dealer's price list without any words."""
    image = _gradient(width=240, height=320, top=(20, 60, 30), bottom=(5, 25, 10))
    draw = ImageDraw.Draw(image)
    for row, y in enumerate(range(30, 300, 45)):
        draw.rounded_rectangle((20, y, 220, y + 32), radius=8, fill=(60 + row * 25, 180, 90))
        draw.ellipse((185, y + 6, 205, y + 26), fill=(250, 250, 250))
    return _encode(image, fmt="PNG")


def sunset() -> MediaUpload:
    image = _gradient(width=320, height=200, top=(250, 150, 60), bottom=(90, 40, 120))
    draw = ImageDraw.Draw(image)
    draw.ellipse((130, 110, 190, 170), fill=(255, 220, 120))
    draw.rectangle((0, 150, 320, 200), fill=(20, 40, 80))
    return _encode(image, fmt="JPEG", quality=88)


def mountains() -> MediaUpload:
    image = _gradient(width=300, height=200, top=(120, 180, 240), bottom=(220, 235, 250))
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 200), (80, 70), (150, 200)], fill=(70, 90, 80))
    draw.polygon([(90, 200), (200, 50), (300, 200)], fill=(50, 70, 60))
    draw.polygon([(180, 78), (200, 50), (220, 78)], fill=(250, 250, 250))
    return _encode(image, fmt="JPEG", quality=90)


def cat() -> MediaUpload:
    """Two triangles for ears and a circle: the internet's favourite subject, abstracted."""
    image = _gradient(width=200, height=200, top=(240, 230, 210), bottom=(200, 190, 170))
    draw = ImageDraw.Draw(image)
    draw.polygon([(50, 80), (70, 20), (100, 70)], fill=(230, 140, 40))
    draw.polygon([(100, 70), (130, 20), (150, 80)], fill=(230, 140, 40))
    draw.ellipse((40, 55, 160, 175), fill=(240, 150, 50))
    draw.ellipse((70, 100, 85, 115), fill=(20, 20, 20))
    draw.ellipse((115, 100, 130, 115), fill=(20, 20, 20))
    return _encode(image, fmt="PNG")


def bar_chart() -> MediaUpload:
    image = Image.new("RGB", (240, 160), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for i, height in enumerate((40, 90, 65, 120, 100)):
        draw.rectangle((20 + i * 42, 150 - height, 50 + i * 42, 150), fill=(40, 90 + i * 30, 200))
    return _encode(image, fmt="PNG")


IMAGES = {
    "poster": poster_original,
    "poster_resized": poster_resized,
    "poster_cropped": poster_cropped,
    "price_list": price_list,
    "sunset": sunset,
    "mountains": mountains,
    "cat": cat,
    "bar_chart": bar_chart,
}
