"""Video banks: a vPDQ list matches an uploaded clip and a re-encoded, resized copy of it,
never an unrelated clip, through every path images take (lookup, raw lookup, the API,
retroaction, negative banks, import/export, exchanges). Clips: tests/safety/clips.py."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.safety.banks.conftest import make_bank
from tests.safety.banks.test_api import ALL
from tests.safety.clips import clip
from trustdesk.core.errors import InvalidInput
from trustdesk.core.identity.permissions import Role
from trustdesk.safety.banks import service, transfer
from trustdesk.safety.banks.flows import add_entries_flow
from trustdesk.safety.banks.lookup import check_upload, lookup_file, lookup_raw
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.banks.models import BankEntry, MediaHash
from trustdesk.safety.banks.service import NewEntry
from trustdesk.safety.exchanges import service as exchanges
from trustdesk.safety.review.models import Case
from trustdesk.safety.signals import video


@cache
def _signal(name: str) -> str:
    return video.format_features(video.hash_video(clip(name)))


def _video_bank(session, clock, name: str = "Terror videos", **options):  # type: ignore[no-untyped-def]
    bank = make_bank(session, clock, name=name, **options)
    [entry] = service.add_entries(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("vpdq", _signal("original"))]
    ).added
    return bank, entry


def _lookup(session, matcher, name: str):  # type: ignore[no-untyped-def]
    return lookup_file(session, matcher=matcher, data=clip(name), content_type="video/mp4").result


def test_a_video_list_matches_the_clip_and_a_reencoded_resized_copy_not_an_unrelated_one(session, clock, matcher) -> None:
    bank, entry = _video_bank(session, clock)
    assert entry.signal_data == _signal("original") and entry.value == video.digest(entry.signal_data)
    for name in ("original", "reencoded"):
        [match] = _lookup(session, matcher, name).matches
        assert (match.bank, match.entry_id, match.signal_type) == (bank.name, entry.id, "vpdq")
        assert match.query_match_percent == 100.0 and match.compared_match_percent == 100.0
        assert match.distance == (0 if name == "original" else match.distance) and match.distance <= 31
    assert _lookup(session, matcher, "unrelated").matches == []


def test_the_banks_threshold_is_the_frame_distance(session, clock, matcher) -> None:
    _video_bank(session, clock, threshold=0)
    assert len(_lookup(session, matcher, "original").matches) == 1
    assert _lookup(session, matcher, "reencoded").matches == []  # its frames are 16-24 bits away


def test_raw_lookup_of_a_signal_and_a_disabled_entry(session, clock, matcher) -> None:
    bank, entry = _video_bank(session, clock)
    [match] = lookup_raw(session, matcher=matcher, signal_type="vpdq", value=_signal("reencoded")).matches
    assert match.entry_id == entry.id
    service.set_entries_enabled(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id], enabled=False, reason="test"
    )
    assert _lookup(session, matcher, "original").matches == []
    with pytest.raises(InvalidInput, match="Not a vPDQ signal"):
        lookup_raw(session, matcher=matcher, signal_type="vpdq", value="[1, 2]")


def test_a_running_matcher_follows_video_entries_added_and_disabled(session, clock, matcher) -> None:
    assert _lookup(session, matcher, "original").matches == []  # loaded, empty
    bank, entry = _video_bank(session, clock)  # applied from the change log, not reloaded
    assert [m.entry_id for m in _lookup(session, matcher, "reencoded").matches] == [entry.id]
    assert matcher.stats().index_bytes > 0
    service.set_entries_enabled(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id], enabled=False, reason="test"
    )
    assert _lookup(session, matcher, "reencoded").matches == []
    service.set_entries_enabled(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entry_ids=[entry.id], enabled=True, reason="test"
    )
    assert len(_lookup(session, matcher, "original").matches) == 1


def test_the_same_signal_twice_is_one_entry(session, clock) -> None:
    bank, _ = _video_bank(session, clock)
    again = service.add_entries(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("vpdq", _signal("original"))]
    )
    assert again.added == [] and again.skipped == 1


def test_a_negative_video_bank_suppresses_the_match(session, clock, matcher) -> None:
    _video_bank(session, clock)
    _video_bank(session, clock, name="cleared", kind="negative")
    result = _lookup(session, matcher, "reencoded")
    assert result.matches == [] and [m.bank for m in result.negatives] == ["cleared"] and len(result.suppressed) == 1


def test_a_new_video_entry_finds_earlier_uploads_and_opens_review_cases(session, clock, matcher) -> None:
    for name in ("original", "reencoded", "unrelated"):
        check_upload(
            session, matcher=matcher, actor=TEST_ACTOR, clock=clock, platform_name="demo", media_id=name, data=clip(name)
        )
    stored = session.scalars(select(MediaHash).order_by(MediaHash.id)).all()
    assert [(m.kind, m.vpdq is not None) for m in stored] == [("video", True)] * 3
    clock.advance(days=2)
    bank = make_bank(session, clock)
    run = add_entries_flow(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("vpdq", _signal("original"))], trigger="list"
    ).retroaction
    assert run is not None and run.matches == 2 and run.cases == 2 and run.media_scanned == 3
    cases = session.scalars(select(Case).where(Case.source == "hash_match").order_by(Case.subject_id)).all()
    assert [c.subject_id for c in cases] == ["original", "reencoded"]


def test_retroaction_respects_a_negative_video_bank(session, clock, matcher) -> None:
    check_upload(
        session, matcher=matcher, actor=TEST_ACTOR, clock=clock, platform_name="demo", media_id="v", data=clip("reencoded")
    )
    _video_bank(session, clock, name="cleared", kind="negative")
    bank = make_bank(session, clock)
    run = add_entries_flow(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("vpdq", _signal("original"))]
    )
    assert run.retroaction is not None and run.retroaction.matches == 0


def test_threatexchange_and_csv_export_carry_the_whole_signal_and_import_again(session, clock, tmp_path: Path) -> None:
    bank, _ = _video_bank(session, clock)
    exported = "".join(transfer.export(session, bank_id=bank.id, fmt="threatexchange"))
    assert exported == f"vpdq {_signal('original')}\n"
    # python-threatexchange's own local-file exchange reads it and its vPDQ type accepts it
    file_api = pytest.importorskip("threatexchange.exchanges.impl.file_api")
    vpdq_signal = pytest.importorskip("threatexchange.extensions.vpdq.vpdq").VPDQSignal
    (tmp_path / "list.txt").write_text(exported)
    api = file_api.LocalFileSignalExchangeAPI.for_collab(
        file_api.FileCollaborationConfig(name="x", api="local_file", enabled=True, filename=str(tmp_path / "list.txt"))
    )
    [(kind, value)] = [key for delta in api.fetch_iter([], None) for key in delta.updates]
    assert kind == "vpdq" and vpdq_signal.validate_signal_str(value) == _signal("original")
    for fmt in ("threatexchange", "csv"):
        copy = make_bank(session, clock, name=f"copy {fmt}")
        text = "".join(transfer.export(session, bank_id=bank.id, fmt=fmt))
        [entry] = service.add_entries(
            session, actor=TEST_ACTOR, clock=clock, bank_id=copy.id, entries=transfer.parse(text.encode(), fmt=fmt)
        ).added
        assert (entry.signal_type, entry.signal_data) == ("vpdq", _signal("original"))


def test_an_exchanges_vpdq_list_fills_a_bank_that_matches_uploads(db, clock, tmp_path: Path) -> None:
    signals = tmp_path / "partner.txt"
    signals.write_text(f"vpdq {_signal('original')}\nvideo_md5 {'ab' * 16}\n")
    with db.transaction() as session:
        bank = make_bank(session, clock, name="Partner videos")
        exchanges.create_exchange(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            bank_id=bank.id,
            name="partner",
            api="local_file",
            config={"filename": str(signals)},
        )
    report = exchanges.run_fetch(db.transaction, actor=TEST_ACTOR, clock=clock, name="partner", credentials={})
    assert report.error is None and report.added == 2 and report.skipped_invalid == 0
    with db.transaction() as session:
        assert sorted(session.scalars(select(BankEntry.signal_type))) == ["video_md5", "vpdq"]
        external = session.scalar(select(BankEntry.external_id).where(BankEntry.signal_type == "vpdq"))
        assert external is not None and external.startswith("sha256:") and len(external) == 71  # the line is kilobytes
        [match] = lookup_file(session, matcher=MatchService(refresh_seconds=0), data=clip("reencoded")).result.matches
        assert match.exchange == "partner" and match.signal_type == "vpdq"


def test_the_lookup_api_matches_an_uploaded_video_and_refuses_a_bad_one(client, staff) -> None:
    client.headers["Authorization"] = f"Bearer {staff.token(*ALL)}"
    bank = client.post("/api/v1/banks", json={"name": "Videos", "policy": "terrorism"}).json()
    added = client.post(
        f"/api/v1/banks/{bank['id']}/entries", json={"entries": [{"signal_type": "vpdq", "value": _signal("original")}]}
    )
    assert added.status_code in (200, 201), added.text
    body = client.post("/api/v1/match/lookup", files={"file": ("clip.avi", clip("reencoded"), "video/x-msvideo")}).json()
    assert body["hashes"]["kind"] == "video" and body["hashes"]["vpdq"] == _signal("reencoded")
    [match] = body["matches"]
    assert match["signal_type"] == "vpdq" and match["query_match_percent"] == 100.0 and match["compared_match_percent"] == 100.0
    unrelated = client.post("/api/v1/match/lookup", files={"file": ("u.mp4", clip("unrelated"), "video/mp4")}).json()
    assert unrelated["matches"] == []
    bad = client.post("/api/v1/match/lookup", files={"file": ("t.mp4", clip("truncated"), "video/mp4")})
    assert bad.status_code == 422 and "could not be read as a video" in bad.json()["detail"]
    assert "cannot decode its frames" in bad.json()["detail"]


def test_the_console_adds_a_vpdq_entry_and_shows_a_video_lookups_percentages(client, staff) -> None:
    client.app.state.container.matcher = MatchService(refresh_seconds=0)
    csrf = staff.sign_in(client, staff.create(Role.ADMIN))
    created = client.post(
        "/console/safety/banks", data={"csrf_token": csrf, "name": "Clips", "policy": "terrorism", "kind": "positive"}
    )
    added = client.post(
        str(created.url) + "/entries", data={"csrf_token": csrf, "signal_type": "vpdq", "value": _signal("original")}
    )
    assert "1 added" in added.text and "4 frames, SHA-256" in added.text
    found = client.post(
        "/console/safety/banks/lookup",
        files={"file": ("c.avi", clip("reencoded"), "video/x-msvideo")},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    matches = found.text.split('id="lookup-matches"')[1]
    assert "Clips" in matches and "100 % of the video, 100 % of the entry" in matches and "4 frames (one a second)" in found.text
    bad = client.post(
        "/console/safety/banks/lookup",
        files={"file": ("a.mp4", clip("audio_only"), "video/mp4")},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert "could not be read as a video" in bad.text and "no video stream" in bad.text
