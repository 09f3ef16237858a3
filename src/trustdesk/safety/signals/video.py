"""vPDQ, Meta's video hash: one PDQ hash per second of video (with its quality and time),
computed by the `vpdq` package (Meta's C++ over FFmpeg's libraries), and matched frame by
frame with the per-video percentages that python-threatexchange defines.

The signal string is python-threatexchange's (`VPDQSignal`, `vpdq_util.vpdq_to_json`): a
JSON list of `"<64 hex PDQ>,<quality>,<timestamp>"` strings, byte for byte as it writes them,
so what we export its tools read and what they export we import.

Matching (python-threatexchange's `VPDQIndex`, `match_VPDQ_hash_brute`): both videos' frames
are filtered to quality >= 50 and deduplicated; a query frame matches when some frame of the
other video is within the distance threshold (31). The *query match percent* is the share of
the query's frames that match one of the entry's; the *compared match percent* the share of
the entry's frames that match one of the query's. A video matches an entry when the first is
at least 80 and the second at least 0 (python-threatexchange's defaults).

Hashing runs in a child process with a time limit and a memory limit: FFmpeg decodes
whatever the upload is (truncated files, absurd frame sizes, codecs it half supports) and a
C++ call cannot be interrupted from Python, so a bad video costs at most the limit and never
holds a worker thread or the server. FFmpeg's own words about the failure become the error.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from trustdesk.safety.signals.hashing import InvalidHash, UnreadableMedia
from trustdesk.safety.signals.index import PDQIndex

QUALITY_THRESHOLD = 50  # python-threatexchange's VPDQ_QUALITY_THRESHOLD
DISTANCE_THRESHOLD = 31  # VPDQ_DISTANCE_THRESHOLD: frames this close match
QUERY_MATCH_PERCENT = 80.0  # VPDQ_QUERY_MATCH_THRESHOLD_PERCENT
COMPARED_MATCH_PERCENT = 0.0  # VPDQ_INDEX_MATCH_THRESHOLD_PERCENT
SECONDS_PER_HASH = 1.0  # python-threatexchange's VPDQSignal.hash_from_file default
HASH_TIMEOUT_SECONDS = 120.0  # one video's hashing, at most (the child is killed past it)
HASH_MEMORY_BYTES = 4 * 1024**3  # address space the hashing child may take
MAX_FEATURES = 100_000  # frames one signal may list (a day of video at one per second)
_HEX = frozenset("0123456789abcdef")
_TIMESTAMP_PRECISION = 3  # as python-threatexchange formats it (`:.3`, three significant digits)


class UnreadableVideo(UnreadableMedia):
    """A video that FFmpeg cannot open or decode, or that has no frames to hash."""


class VpdqUnavailable(RuntimeError):
    """The `vpdq` package is not installed (it is built against FFmpeg's libraries by the
    set-up; see docs/hash-matching.md)."""


class Feature(NamedTuple):
    """One hashed frame: python-threatexchange's `VpdqCompactFeature`."""

    pdq_hex: str
    quality: int
    timestamp: float


def available() -> bool:
    """Whether vPDQ hashing is possible here (the `vpdq` package is installed)."""
    return importlib.util.find_spec("vpdq") is not None


# -- the signal string --------------------------------------------------------------------


def parse(text: str) -> list[Feature]:
    """The features of a vPDQ signal string; InvalidHash naming the first bad frame."""
    try:
        items = json.loads(text) if text.strip() else []
    except (ValueError, RecursionError):
        raise InvalidHash('a vPDQ signal is a JSON list of "pdq_hex,quality,timestamp" strings') from None
    if not isinstance(items, list):
        raise InvalidHash('a vPDQ signal is a JSON list of "pdq_hex,quality,timestamp" strings')
    if len(items) > MAX_FEATURES:
        raise InvalidHash(f"a vPDQ signal lists at most {MAX_FEATURES:,} frames, this one {len(items):,}")
    return [_feature(item, number) for number, item in enumerate(items, start=1)]


def _feature(item: object, number: int) -> Feature:
    parts = item.split(",") if isinstance(item, str) else []
    if len(parts) != 3:
        raise InvalidHash(f'frame {number} is not a "pdq_hex,quality,timestamp" string')
    pdq_hex = parts[0].strip().lower()
    if len(pdq_hex) != 64 or not _HEX.issuperset(pdq_hex):
        raise InvalidHash(f"frame {number}: the PDQ hash is not 64 hex digits")
    try:
        quality, timestamp = int(parts[1]), float(parts[2])
    except ValueError:
        raise InvalidHash(f"frame {number}: the quality is not an integer or the timestamp not a number") from None
    if not 0 <= quality <= 100:
        raise InvalidHash(f"frame {number}: the quality {quality} is not within 0-100")
    if not 0 <= timestamp < float("inf"):
        raise InvalidHash(f"frame {number}: the timestamp is negative or not a finite number")
    return Feature(pdq_hex, quality, timestamp)


def format_features(features: Iterable[Feature]) -> str:
    """The signal string, exactly as python-threatexchange's `vpdq_to_json` writes it."""
    return json.dumps([f"{f.pdq_hex},{f.quality},{f.timestamp:.{_TIMESTAMP_PRECISION}}" for f in features])


def normalise(text: str) -> str:
    """The canonical signal string (what a bank stores): parsed and written again. A signal
    with no frame of quality >= 50 is refused, as python-threatexchange's index refuses it:
    it could never match anything."""
    features = parse(text)
    if not prepared(features):
        raise InvalidHash(f"a vPDQ signal needs at least one frame of quality >= {QUALITY_THRESHOLD}; this one has none")
    return format_features(features)


def digest(signal: str) -> str:
    """What identifies a stored vPDQ signal in 64 hex digits (the SHA-256 of its canonical
    string): the bank's `value`, whose column is too short for the signal itself."""
    return hashlib.sha256(signal.encode()).hexdigest()


def prepared(features: Sequence[Feature], quality: int = QUALITY_THRESHOLD) -> list[str]:
    """The distinct PDQ hashes of the frames of at least `quality`, first seen first
    (python-threatexchange's `prepare_vpdq_feature`: the frames that take part in matching)."""
    seen: dict[str, None] = {}
    for f in features:
        if f.quality >= quality:
            seen.setdefault(f.pdq_hex, None)
    return list(seen)


def as_rows(hexes: Sequence[str]) -> np.ndarray:
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), np.uint8).reshape(-1, 32)


# -- matching ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VideoMatch:
    """How one query video matched one entry: the two percentages and the nearest frame."""

    query_match_percent: float
    compared_match_percent: float
    distance: int

    def matches(self, query_percent: float = QUERY_MATCH_PERCENT, compared_percent: float = COMPARED_MATCH_PERCENT) -> bool:
        return self.query_match_percent >= query_percent and self.compared_match_percent >= compared_percent


def compare(query: Sequence[Feature], compared: Sequence[Feature], threshold: int = DISTANCE_THRESHOLD) -> VideoMatch | None:
    """python-threatexchange's `match_VPDQ_hash_brute` between two videos (None where no
    frame matches at all, or either has no usable frame)."""
    index = VideoIndex()
    index.add(1, compared)
    return index.query(query, threshold).get(1)


class VideoIndex:
    """Frame-level index of vPDQ entries: every entry's distinct usable frames in one exact
    `PDQIndex` (each frame row knows its entry), so a query video costs one batched search
    of its frames, whatever the number of entries. Enable/disable act on an entry's rows."""

    def __init__(self) -> None:
        self._index = PDQIndex()
        self._entry_of: list[int] = []  # frame row -> entry id
        self._frames: dict[int, range] = {}  # entry id -> its frame rows

    @classmethod
    def build(cls, entries: Iterable[tuple[int, Sequence[Feature], bool]]) -> VideoIndex:
        """An index of (entry id, features, enabled) at once: one `PDQIndex.build` over every
        frame, as the matcher loads the banks (adding entry by entry is for changes)."""
        index, hexes, disabled = cls(), list[str](), list[int]()
        for entry_id, features, enabled in entries:
            frames = prepared(features)
            if entry_id in index._frames or not frames:
                continue
            start = len(index._entry_of)
            index._frames[entry_id] = range(start, start + len(frames))
            index._entry_of.extend([entry_id] * len(frames))
            hexes.extend(frames)
            if not enabled:
                disabled.extend(index._frames[entry_id])
        if hexes:
            index._index = PDQIndex.build(as_rows(hexes), np.arange(len(hexes), dtype=np.int64))
            index._index.disable(disabled)
        return index

    def add(self, entry_id: int, features: Sequence[Feature], *, enabled: bool = True) -> None:
        if entry_id in self._frames:
            return
        hexes = prepared(features)
        if not hexes:
            return
        start = len(self._entry_of)
        rows = range(start, start + len(hexes))
        self._index.add(as_rows(hexes), list(rows))
        self._entry_of.extend([entry_id] * len(hexes))
        self._frames[entry_id] = rows
        if not enabled:
            self.disable(entry_id)

    def disable(self, entry_id: int) -> None:
        if entry_id in self._frames:
            self._index.disable(list(self._frames[entry_id]))

    def enable(self, entry_id: int) -> None:
        if entry_id in self._frames:
            self._index.enable(list(self._frames[entry_id]))

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def frames(self) -> int:
        return len(self._entry_of)

    def memory_bytes(self) -> int:
        return self._index.memory_bytes() + 8 * len(self._entry_of)

    def query(self, features: Sequence[Feature], threshold: int = DISTANCE_THRESHOLD) -> dict[int, VideoMatch]:
        """entry id -> its match with this video, for every entry at least one frame of
        which is within `threshold` of one of the video's (percentages not yet checked)."""
        found = ((e, h.at(threshold)) for e, h in self.hits(features, threshold).items())
        return {entry: match for entry, match in found if match is not None}

    def hits(self, features: Sequence[Feature], threshold: int = DISTANCE_THRESHOLD) -> dict[int, FrameHits]:
        """entry id -> the frame pairs within `threshold`, from one batched search, for a
        caller that applies a smaller threshold per entry afterwards (a bank's own)."""
        hexes = prepared(features)
        if not hexes or not self._frames:
            return {}
        found = self._index.query_batch_arrays(as_rows(hexes), threshold)
        if not len(found.ids):
            return {}
        entries = np.asarray(self._entry_of, dtype=np.int64)[found.ids]
        order = np.argsort(entries, kind="stable")
        entries, query, rows, distances = entries[order], found.query[order], found.ids[order], found.distances[order]
        bounds = np.flatnonzero(np.diff(entries)) + 1
        result = {}
        for start, stop in zip([0, *bounds.tolist()], [*bounds.tolist(), len(entries)], strict=True):
            entry = int(entries[start])
            result[entry] = FrameHits(
                query[start:stop], rows[start:stop], distances[start:stop], len(hexes), len(self._frames[entry])
            )
        return result


@dataclass(frozen=True, slots=True)
class FrameHits:
    """The frame pairs (query frame, entry frame row, distance) of one query and one entry."""

    query: np.ndarray
    rows: np.ndarray
    distances: np.ndarray
    query_frames: int
    entry_frames: int

    def at(self, threshold: int) -> VideoMatch | None:
        """The percentages counting only pairs within `threshold`; None if none is."""
        near = self.distances <= threshold
        if not near.any():
            return None
        return VideoMatch(
            len(np.unique(self.query[near])) * 100 / self.query_frames,
            len(np.unique(self.rows[near])) * 100 / self.entry_frames,
            int(self.distances[near].min()),
        )


# -- hashing ----------------------------------------------------------------------------

# What the child runs: vpdq only (no Trustdesk import), its own memory limit, one thread (the
# CPU pool decides how many hash at once). Prints the features, or FFmpeg's reason and exit 3.
_CHILD = r"""
import json, resource, sys
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import vpdq
try:
    found = vpdq.computeHash(sys.argv[1], seconds_per_hash=float(sys.argv[2]), thread_count=1)
except Exception as exc:
    sys.stderr.write("\n" + str(exc))
    sys.exit(3)
json.dump([[f.hex, f.quality, f.timestamp] for f in found], sys.stdout)
"""


def hash_video(
    data: bytes,
    *,
    seconds_per_hash: float = SECONDS_PER_HASH,
    timeout: float = HASH_TIMEOUT_SECONDS,
    memory_bytes: int = HASH_MEMORY_BYTES,
) -> list[Feature]:
    """The vPDQ features of a video file's bytes. Raises UnreadableVideo (saying why: FFmpeg
    could not open it, found no video stream, could not decode it, or it has no frames; or
    it took longer than `timeout`) and VpdqUnavailable where vpdq is not installed."""
    if not available():
        raise VpdqUnavailable("vPDQ hashing needs the vpdq package, which is not installed here")
    with tempfile.TemporaryDirectory(prefix="trustdesk-video-") as tmp:
        path = os.path.join(tmp, "upload")
        with open(path, "wb") as out:
            out.write(data)
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-c", _CHILD, path, repr(float(seconds_per_hash)), str(int(memory_bytes))],
                capture_output=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise UnreadableVideo(f"hashing the video took longer than {timeout:g} s; it was stopped") from None
    if done.returncode != 0:
        raise UnreadableVideo(_reason(done.stderr.decode("utf-8", "replace"), done.returncode))
    features = [Feature(h, int(q), float(t)) for h, q, t in json.loads(done.stdout)]
    if not features:
        raise UnreadableVideo("the video has no frames to hash")
    return features


def _reason(stderr: str, returncode: int) -> str:
    """FFmpeg's (vpdq's) own sentence, made readable."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if "MemoryError" in stderr or returncode < 0 and not lines:
        return "decoding the video needed more memory than allowed"
    said = " ".join(line.removeprefix("Error while attempting to read video file: ") for line in lines if "VPDQ hash" not in line)
    known = {
        "Cannot open video": "FFmpeg cannot open it (truncated, corrupt or not a video container)",
        "No video stream found": "it has no video stream (no frames)",
        "Cannot send packet to decoder": "FFmpeg cannot decode its frames (truncated or corrupt)",
        "Video codec id not found": "its video codec is not supported here",
        "Failed to open video codec context": "its video codec is not supported here",
        "Width or height equals 0": "its frames have no size",
        "framerate was detected to be zero": "its frame rate is zero",
    }
    for needle, meaning in known.items():
        if needle.lower() in said.lower():
            return f"cannot hash the video: {meaning}"
    return f"cannot hash the video: {said[:300] or f'the hasher stopped with status {returncode}'}"
