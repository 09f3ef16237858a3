"""Small deterministic video clips made with ffmpeg for the vPDQ tests, cached in the temp
folder (each a few seconds at 160x120, under 60 kB, made once per machine): an original,
the same re-encoded with another codec at a smaller size, an unrelated clip, and bad ones
(truncated, audio only, an unknown codec, not a video at all).

Tests that need them take `clip(name)`; without ffmpeg or the vpdq package (the set-up
installs both where apt is possible) they are skipped, saying why."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import pytest

from trustdesk.safety.signals import video

CACHE = Path(tempfile.gettempdir()) / "trustdesk-test-clips-v1"
_LAVFI = {
    "original": ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=4"],
    "unrelated": ["-f", "lavfi", "-i", "mandelbrot=size=160x120:rate=10", "-t", "4"],
}
_X264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-threads", "1", "-bitexact", "-movflags", "+faststart"]


def needs_vpdq() -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (the set-up installs it with FFmpeg's libraries where apt is possible)")
    if not video.available():
        pytest.skip(
            "the vpdq package is not installed (it needs FFmpeg's libraries: `make install` builds it where apt is possible)"
        )


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=60)


@cache
def clip(name: str) -> bytes:
    """The bytes of one named clip (see the module docstring)."""
    needs_vpdq()
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{name}.bin"
    if not path.exists():
        tmp = CACHE / f"{name}.partial{Path(tempfile.mktemp()).name}"
        _make(name, tmp)
        tmp.replace(path)  # atomic: a concurrent test run never reads half a clip
    return path.read_bytes()


def _make(name: str, out: Path) -> None:
    if name in _LAVFI:
        _ffmpeg(*_LAVFI[name], *_X264, "-f", "mp4", str(out))
    elif name == "reencoded":  # another codec and container, 60 % of the size
        source = CACHE / "original.src.mp4"
        source.write_bytes(clip("original"))
        _ffmpeg("-i", str(source), "-vf", "scale=96:72", "-c:v", "mpeg4", "-q:v", "6", "-f", "avi", str(out))
    elif name == "truncated":
        data = clip("original")
        out.write_bytes(data[: len(data) // 2])
    elif name == "audio_only":
        _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", "-f", "mp4", str(out))
    elif name == "unknown_codec":  # an AVI whose video stream's codec tag names no codec
        out.write_bytes(clip("reencoded").replace(b"FMP4", b"ZZZZ"))
    elif name == "not_a_video":
        out.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 8)
    else:
        raise KeyError(name)
