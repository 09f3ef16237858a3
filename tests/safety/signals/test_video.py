"""vPDQ: hashing real clips (made by ffmpeg, tests/safety/clips.py), the signal string in
python-threatexchange's format, frame-level matching with its percentages, and bad video
refused with a clear reason, within a time limit."""

from __future__ import annotations

import json
from functools import cache

import pytest

from tests.safety.clips import clip
from trustdesk.safety.signals import video
from trustdesk.safety.signals.hashing import InvalidHash, MediaKind, hash_media

FRAME = "f" * 64


@cache
def _features(name: str) -> list[video.Feature]:
    return video.hash_video(clip(name))


def test_a_clip_hashes_to_one_frame_a_second_as_python_threatexchange_writes_it() -> None:
    features = _features("original")
    assert [f.timestamp for f in features] == [0.0, 1.0, 2.0, 3.0]
    assert all(f.quality >= video.QUALITY_THRESHOLD for f in features)
    signal = video.format_features(features)
    assert video.normalise(signal) == signal
    vpdq_util = pytest.importorskip("threatexchange.extensions.vpdq.vpdq_util")
    assert signal == vpdq_util.vpdq_to_json([vpdq_util.VpdqCompactFeature(*f) for f in features])
    assert video.parse(signal) == features


def test_a_reencoded_smaller_copy_matches_and_an_unrelated_clip_does_not() -> None:
    original = _features("original")
    found = video.compare(_features("reencoded"), original)
    assert found is not None and found.matches()
    assert (found.query_match_percent, found.compared_match_percent) == (100.0, 100.0) and 0 < found.distance <= 31
    assert video.compare(_features("unrelated"), original) is None


def test_percentages_are_python_threatexchanges() -> None:
    a, b, c, d = ("0" * 64, "f" * 64, "0" * 32 + "f" * 32, "f" * 32 + "0" * 32)  # pairwise far apart
    entry = [video.Feature(a, 100, 0.0), video.Feature(b, 100, 1.0)]
    query = [video.Feature(a, 100, 0.0), video.Feature(c, 100, 1.0), video.Feature(d, 100, 2.0), video.Feature(a, 100, 3.0)]
    found = video.compare(query, entry)
    # the query's distinct usable frames: a, c, d (a repeated counts once); a matches: 1/3.
    # the entry's frames: a, b; a is matched: 1/2.
    assert found is not None and found.query_match_percent == pytest.approx(100 / 3) and found.compared_match_percent == 50.0
    assert not found.matches()  # under 80 % of the query
    vpdq_signal = pytest.importorskip("threatexchange.extensions.vpdq.vpdq").VPDQSignal
    theirs = vpdq_signal.compare_hash(video.format_features(query), video.format_features(entry))
    assert (theirs.match, theirs.distance.query_match_percent, theirs.distance.compared_match_percent) == (
        False,
        found.query_match_percent,
        found.compared_match_percent,
    )
    low = [video.Feature(c, 10, 0.0), video.Feature(d, 10, 1.0), video.Feature(a, 100, 2.0)]  # low-quality frames take no part
    assert video.compare(low, entry) == video.VideoMatch(100.0, 50.0, 0)


def test_a_frame_index_applies_a_smaller_threshold_per_entry_afterwards() -> None:
    near = "0" * 63 + "f"  # 4 bits from "0" * 64
    index = video.VideoIndex()
    index.add(7, [video.Feature("0" * 64, 100, 0.0)])
    [(entry, hits)] = index.hits([video.Feature(near, 100, 0.0)], threshold=31).items()
    assert entry == 7 and hits.at(31) == video.VideoMatch(100.0, 100.0, 4) and hits.at(3) is None
    index.disable(7)
    assert index.hits([video.Feature(near, 100, 0.0)]) == {}
    index.enable(7)
    assert 7 in index.query([video.Feature(near, 100, 0.0)])


def test_an_index_built_at_once_answers_as_one_added_to() -> None:
    a, b = [video.Feature("0" * 64, 100, 0.0)], [video.Feature("f" * 64, 100, 0.0), video.Feature("0" * 64, 100, 1.0)]
    built = video.VideoIndex.build([(1, a, True), (2, b, True), (3, a, False), (4, [video.Feature("0" * 64, 5, 0.0)], True)])
    added = video.VideoIndex()
    for entry, features, enabled in ((1, a, True), (2, b, True), (3, a, False)):
        added.add(entry, features, enabled=enabled)
    assert len(built) == 3 and built.frames == 4  # entry 4 has no usable frame
    assert built.query(a) == added.query(a) == {1: video.VideoMatch(100.0, 100.0, 0), 2: video.VideoMatch(100.0, 50.0, 0)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "JSON list"),
        ('{"0": 1}', "JSON list"),
        (f'["{FRAME},100"]', "frame 1 is not"),
        (f'["{FRAME},100,0.0", "{"g" * 64},100,1.0"]', "frame 2: the PDQ hash"),
        (f'["{FRAME},101,0.0"]', "not within 0-100"),
        (f'["{FRAME},100,-1"]', "negative"),
        (f'["{FRAME},100,nan"]', "negative or not a finite"),
        (f'["{FRAME},10,0.0"]', "at least one frame of quality >= 50"),
        ("[]", "at least one frame"),
    ],
)
def test_bad_signals_are_refused_naming_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(InvalidHash, match=message):
        video.normalise(text)


def test_upper_case_and_spacing_normalise_to_the_canonical_string() -> None:
    signal = json.dumps([f"{FRAME},100,0.0", f"{'a' * 64},90,1.0"])
    assert video.normalise("  " + signal.upper().replace(", ", " ,\n ") + "\n") == signal


def test_an_uploaded_video_gets_vpdq_besides_its_file_hashes() -> None:
    hashes = hash_media(clip("original"), content_type="video/mp4")
    assert hashes.kind is MediaKind.VIDEO and hashes.pdq is None and hashes.vpdq is not None
    assert hashes.vpdq == video.format_features(_features("original"))
    assert hash_media(clip("reencoded")).kind is MediaKind.VIDEO  # recognised by its bytes (AVI)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("truncated", "cannot decode its frames"),
        ("audio_only", "no video stream"),
        ("unknown_codec", "codec is not supported"),
        ("not_a_video", "cannot open it"),
    ],
)
def test_bad_video_is_a_clear_error(name: str, reason: str) -> None:
    with pytest.raises(video.UnreadableVideo, match=reason):
        hash_media(clip(name), content_type="video/mp4")


def test_a_video_that_takes_too_long_is_stopped_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    clip("original")  # skips without vpdq
    monkeypatch.setattr(video, "_CHILD", "import time; time.sleep(60)")
    with pytest.raises(video.UnreadableVideo, match="longer than 0.5 s"):
        video.hash_video(clip("original"), timeout=0.5)
