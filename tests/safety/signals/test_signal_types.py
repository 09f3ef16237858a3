"""The contract every signal type keeps, and the registry that the `signal_types` setting
names (installed by the container's builder, at start; here by `installed`). A new type's test is a subclass of `SignalTypeContract` naming its class (and, for a
type that does not hash arbitrary bytes, how to make a file for it)."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.conftest import TEST_ACTOR
from tests.safety.banks import conftest as banks_fixtures
from tests.safety.banks.conftest import make_bank
from tests.safety.clips import clip
from trustdesk.core.errors import InvalidInput
from trustdesk.core.settings import Settings
from trustdesk.safety.banks import service
from trustdesk.safety.banks.lookup import lookup_file, lookup_raw
from trustdesk.safety.banks.matcher import MatchQuery, MatchService
from trustdesk.safety.banks.models import MediaHash
from trustdesk.safety.banks.signals import normalise
from trustdesk.safety.exchanges.service import LIBRARY_SIGNAL_TYPES
from trustdesk.safety.signals import video
from trustdesk.safety.signals.hashing import MediaHashes, hash_media
from trustdesk.safety.signals.types import registry
from trustdesk.safety.signals.types.base import IndexKind, SignalKind
from trustdesk.safety.signals.types.md5 import Md5Kind
from trustdesk.safety.signals.types.pdq import PdqKind
from trustdesk.safety.signals.types.sha256 import Sha256Kind
from trustdesk.safety.signals.types.video_md5 import VideoMd5Kind
from trustdesk.safety.signals.types.vpdq import VpdqKind
from trustdesk.web.app import create_app

session, poster = banks_fixtures.session, banks_fixtures.poster  # the banks' fixtures, for the matcher test
MATCHER_INDEX_KINDS = {IndexKind.PDQ_INDEX, IndexKind.EXACT, IndexKind.VPDQ}  # what MatchService holds
WHITESPACE = st.text(" \t\r\n", max_size=3)


class SignalTypeContract:
    """Inherited by every type's test; `kind` is the class under test, `hex_digits` the
    length of its normalised value."""

    kind: ClassVar[type[SignalKind]]
    hex_digits: ClassVar[int]

    @classmethod
    def files(cls) -> st.SearchStrategy[bytes]:
        """Files this type hashes."""
        return st.binary(max_size=4096)

    @classmethod
    def values(cls) -> st.SearchStrategy[str]:
        """Valid normalised values."""
        return st.binary(min_size=cls.hex_digits // 2, max_size=cls.hex_digits // 2).map(bytes.hex)

    @classmethod
    def garbage(cls) -> st.SearchStrategy[str]:
        n = cls.hex_digits
        wrong_length = (
            st.integers(0, 2 * n)
            .filter(lambda k: k != n)
            .flatmap(lambda k: st.text("0123456789abcdefABCDEF", min_size=k, max_size=k))
        )
        not_hex = st.text(max_size=2 * n).filter(lambda s: not re.fullmatch(rf"[0-9a-fA-F]{{{n}}}", s.strip()))
        return st.one_of(wrong_length, not_hex)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.differing_executors])
    @given(data=st.data(), before=WHITESPACE, after=WHITESPACE, upper=st.booleans())
    def test_normalise_round_trips(self, data: st.DataObject, before: str, after: str, upper: bool) -> None:
        value = data.draw(self.values())
        written = before + (value.upper() if upper else value) + after
        assert self.kind.normalise(written) == value
        assert self.kind.normalise(self.kind.normalise(written)) == value

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.differing_executors])
    @given(data=st.data())
    def test_normalise_refuses_garbage(self, data: st.DataObject) -> None:
        text = data.draw(self.garbage())
        with pytest.raises(InvalidInput) as refused:
            self.kind.normalise(text)
        assert refused.value.extensions["field"] == "value"

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.differing_executors])
    @given(data=st.data())
    def test_hashing_bytes_gives_a_normalised_value(self, data: st.DataObject) -> None:
        value = self.kind.hash_bytes(data.draw(self.files()))
        assert self.kind.normalise(value) == value
        assert len(value) == self.hex_digits

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.differing_executors])
    @given(data=st.data())
    def test_distance_to_itself_is_zero(self, data: st.DataObject) -> None:
        value = data.draw(self.values())
        assert self.kind.distance(value, value) == 0

    def test_exchange_name_is_a_python_threatexchange_type_that_agrees(self) -> None:
        if self.kind.exchange_name is None:
            pytest.skip(f"{self.kind.name} has no python-threatexchange type")
        library = LIBRARY_SIGNAL_TYPES[self.kind.exchange_name]
        assert library.get_name() == self.kind.exchange_name
        for value in library.get_examples()[:1]:
            assert self.kind.normalise(value) == library.validate_signal_str(value)

    def test_index_kind_and_media_field_are_ones_the_matcher_knows(self) -> None:
        assert self.kind.index_kind in MATCHER_INDEX_KINDS
        assert 0 <= self.kind.default_threshold <= 256
        assert self.kind.media_field in {f.name for f in dataclasses.fields(MatchQuery)}
        assert self.kind.media_field in {f.name for f in dataclasses.fields(MediaHashes)}
        assert self.kind.media_field in MediaHash.__table__.columns

    def test_is_in_the_catalogue_under_its_stored_name(self) -> None:
        assert registry.CATALOGUE[self.kind.name] is self.kind
        assert len(self.kind.name) <= 16  # safety_bank_entries.signal_type is String(16)


class TestPdq(SignalTypeContract):
    kind = PdqKind
    hex_digits = 64

    @classmethod
    def files(cls) -> st.SearchStrategy[bytes]:
        return st.integers(0, 2**32 - 1).map(_noise_png)

    def test_distance_is_hamming(self) -> None:
        assert PdqKind.distance("0" * 64, "f" + "0" * 63) == 4
        assert PdqKind.distance("0" * 64, "f" * 64) == 256


class TestMd5(SignalTypeContract):
    kind = Md5Kind
    hex_digits = 32

    def test_hash_is_the_file_md5(self) -> None:
        assert Md5Kind.hash_bytes(b"") == "d41d8cd98f00b204e9800998ecf8427e"


class TestSha256(SignalTypeContract):
    kind = Sha256Kind
    hex_digits = 64


class TestVideoMd5(SignalTypeContract):
    kind = VideoMd5Kind
    hex_digits = 32

    def test_matches_videos_only(self) -> None:
        assert VideoMd5Kind.applies_to("video") and not VideoMd5Kind.applies_to("image")
        assert MatchQuery(md5="a" * 32, video=True).exact_value(VideoMd5Kind) == "a" * 32
        assert MatchQuery(md5="a" * 32).exact_value(VideoMd5Kind) is None


class TestVpdq(SignalTypeContract):
    """vPDQ's values are python-threatexchange's JSON lists of frames, not hex of a fixed
    length: its strategies say so, and hashing takes a real clip (tests/safety/clips.py)."""

    kind = VpdqKind
    hex_digits = 64  # a frame's PDQ

    @classmethod
    def values(cls) -> st.SearchStrategy[str]:
        frame = st.tuples(st.binary(min_size=32, max_size=32).map(bytes.hex), st.integers(50, 100))
        frames = st.lists(frame, min_size=1, max_size=6)
        return frames.map(lambda fs: video.format_features(video.Feature(h, q, float(t)) for t, (h, q) in enumerate(fs)))

    @classmethod
    def garbage(cls) -> st.SearchStrategy[str]:
        frame_like = st.text("0123456789abcdef,.", max_size=80).map(lambda t: json.dumps([t]))
        return st.one_of(st.text(max_size=80).filter(lambda t: not t.strip().startswith("[")), frame_like)

    def test_exchange_name_is_a_python_threatexchange_type_that_agrees(self) -> None:
        if "vpdq" not in LIBRARY_SIGNAL_TYPES:  # python-threatexchange's VPDQSignal imports the vpdq package
            pytest.skip("the vpdq package is not installed, so python-threatexchange has no vPDQ type here")
        super().test_exchange_name_is_a_python_threatexchange_type_that_agrees()

    def test_hashing_bytes_gives_a_normalised_value(self) -> None:  # type: ignore[override]
        value = VpdqKind.hash_bytes(clip("original"))
        assert VpdqKind.normalise(value) == value and len(video.parse(value)) == 4
        assert len(VpdqKind.stored_value(value)) == 64  # what the entry's value column holds

    def test_a_copy_matches_and_an_unrelated_clip_does_not(self) -> None:
        original = VpdqKind.hash_bytes(clip("original"))
        distance = VpdqKind.distance(VpdqKind.hash_bytes(clip("reencoded")), original)
        assert distance is not None and 0 < distance <= VpdqKind.default_threshold
        assert VpdqKind.distance(VpdqKind.hash_bytes(clip("unrelated")), original) is None


def test_every_catalogued_type_has_a_contract_test() -> None:
    tested = {c.kind for c in SignalTypeContract.__subclasses__()}
    assert set(registry.CATALOGUE.values()) <= tested


@contextmanager
def installed(names: list[str]) -> Iterator[registry.SignalRegistry]:
    """The registry of these `signal_types` for the block, as the container's builder installs
    it at start; the defaults again after."""
    try:
        yield registry.install(Settings(signal_types=names).signal_types)
    finally:
        registry.install(registry.DEFAULT_SIGNAL_TYPES)


def test_the_default_setting_is_every_shipped_type() -> None:
    assert Settings().signal_types == list(registry.DEFAULT_SIGNAL_TYPES) == list(registry.CATALOGUE)
    assert registry.active().names() == list(registry.DEFAULT_SIGNAL_TYPES)


@pytest.mark.parametrize("names", [["pdq", "sha1"], ["PDQ"], [], ["md5", "md5"]])
def test_an_unknown_or_repeated_signal_type_is_refused_at_start(names: list[str], tmp_path: Path) -> None:
    with pytest.raises(registry.UnknownSignalType, match="signal_types"):
        create_app(Settings(signal_types=names, data_dir=tmp_path))
    assert registry.active().names() == list(registry.DEFAULT_SIGNAL_TYPES)  # nothing installed
    assert list(tmp_path.iterdir()) == []  # refused before the container opened anything


def test_an_unknown_signal_type_is_named_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(registry.UnknownSignalType) as refused:
        create_app(Settings(signal_types=["pdq", "sha1"], data_dir=tmp_path))
    assert str(refused.value) == "Unknown signal type(s) in signal_types: 'sha1'. Known: pdq, md5, sha256, video_md5, vpdq."


def test_the_settings_alone_install_nothing() -> None:
    Settings(signal_types=["pdq"])  # core names no signal type: the top installs the registry
    assert registry.active().names() == list(registry.DEFAULT_SIGNAL_TYPES)


def test_the_setting_decides_which_types_banks_accept() -> None:
    with installed(["pdq", "sha256"]):
        assert normalise("sha256", "A" * 64) == "a" * 64
        with pytest.raises(InvalidInput, match="Unknown signal type 'md5'. Valid: pdq, sha256"):
            normalise("md5", "a" * 32)
        assert registry.active().exchange_names() == {"pdq": PdqKind, "video_sha256": Sha256Kind}
    assert registry.active().names() == list(registry.DEFAULT_SIGNAL_TYPES)


def test_the_matcher_holds_and_matches_only_the_types_in_use(session, clock, poster) -> None:  # type: ignore[no-untyped-def]
    hashes = hash_media(poster)
    bank = make_bank(session, clock)
    entries = [service.NewEntry(k, v) for k, v in (("md5", hashes.md5), ("video_md5", hashes.md5), ("sha256", hashes.sha256))]
    service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=entries)
    every = MatchService(refresh_seconds=0)
    assert sorted(m.signal_type for m in lookup_file(session, matcher=every, data=poster).result.matches) == ["md5", "sha256"]
    as_video = lookup_raw(session, matcher=every, signal_type="video_md5", value=hashes.md5).matches
    assert sorted(m.signal_type for m in as_video) == ["md5", "video_md5"]
    with installed(["pdq", "sha256"]):
        fewer = MatchService(refresh_seconds=0)
        assert [m.signal_type for m in lookup_file(session, matcher=fewer, data=poster).result.matches] == ["sha256"]
        assert fewer.stats().exact_entries == 1


def _noise_png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (48, 40, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "PNG")
    return out.getvalue()
