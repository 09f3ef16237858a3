"""Dihedral matching: a bank of hashes computed on the raw pixel grid (a rotated or flipped
copy, as tools that ignore EXIF orientation hash it) matches the upright upload, says which
orientation matched, and only where the bank's `all_orientations` setting is on."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import TEST_ACTOR
from tests.safety.banks.conftest import make_bank
from trustdesk.core.identity.permissions import Permission
from trustdesk.safety.banks import service
from trustdesk.safety.banks.lookup import lookup_file
from trustdesk.safety.banks.service import NewEntry
from trustdesk.safety.signals.hashing import ORIENTATIONS

DIH = next(
    (
        p / "shared" / "conformance" / "pdq"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "conformance" / "pdq").is_dir()
    ),
    None,
)
pytestmark = pytest.mark.skipif(DIH is None, reason="no conformance data (shared/conformance/pdq)")

# Meta's dihedral reference images: the same photo in each orientation, and what that file
# is of the original (the transpose that, applied to the original, gives the file).
FILES = {
    "bridge-1-original.jpg": "original",
    "bridge-2-rotate-90.jpg": "rotate_90",
    "bridge-3-rotate-180.jpg": "rotate_180",
    "bridge-4-rotate-270.jpg": "rotate_270",
    "bridge-5-flipx.jpg": "flip_top_bottom",
    "bridge-6-flipy.jpg": "flip_left_right",
    "bridge-7-flip-plus-1.jpg": "transpose",
    "bridge-8-flip-minus-1.jpg": "transverse",
}


def _reference() -> dict[str, str]:
    """Meta's reference PDQ of each dihedral file: the raw-grid hashes an exchange carries."""
    assert DIH is not None
    with open(DIH / "expected.csv", newline="") as f:
        return {row["path"].removeprefix("dih/"): row["pdq_hex"] for row in csv.DictReader(f) if row["path"].startswith("dih/")}


def _image(name: str) -> bytes:
    assert DIH is not None
    return (DIH / "images" / "dih" / name).read_bytes()


def _raw_grid_bank(session, clock, **options):  # type: ignore[no-untyped-def]
    """A bank holding the hashes of the seven rotated and flipped files (not the upright one)."""
    bank = make_bank(session, clock, **options)
    reference = _reference()
    entries = [NewEntry("pdq", reference[name], notes=FILES[name]) for name in FILES if FILES[name] != "original"]
    added = service.add_entries(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=entries).added
    return bank, {e.id: e.notes for e in added}


def test_orientations_are_in_pdqhash_dihedral_order() -> None:
    assert ORIENTATIONS == tuple(dict.fromkeys(FILES.values()))


def test_raw_grid_hashes_match_the_upright_upload_and_say_which_orientation(session, clock, matcher) -> None:
    bank, orientation_of = _raw_grid_bank(session, clock)
    assert bank.all_orientations  # the default of a positive bank
    found = lookup_file(session, matcher=matcher, data=_image("bridge-1-original.jpg")).result.matches
    assert {m.entry_id: m.orientation for m in found} == orientation_of  # every one of the seven, each its own way
    assert all(m.distance <= 16 for m in found)


def test_an_upload_rotated_by_a_sender_matches_an_upright_entry(session, clock, matcher) -> None:
    bank = make_bank(session, clock)
    [entry] = service.add_entries(
        session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, entries=[NewEntry("pdq", _reference()["bridge-1-original.jpg"])]
    ).added
    found = lookup_file(session, matcher=matcher, data=_image("bridge-2-rotate-90.jpg")).result.matches
    # turning the upload a further 270 degrees counter-clockwise gives the entry's image
    assert [(m.entry_id, m.orientation) for m in found] == [(entry.id, "rotate_270")]


def test_with_the_setting_off_only_the_upload_as_it_is_matches(session, clock, matcher) -> None:
    bank, _ = _raw_grid_bank(session, clock, all_orientations=False)
    assert lookup_file(session, matcher=matcher, data=_image("bridge-1-original.jpg")).result.matches == []
    # the same upload as one of the files, it is an upright match
    found = lookup_file(session, matcher=matcher, data=_image("bridge-3-rotate-180.jpg")).result.matches
    assert [(m.orientation, m.distance <= 16) for m in found] == [("original", True)]
    # turned on, the other orientations match from the next lookup
    service.update_bank(session, actor=TEST_ACTOR, clock=clock, bank_id=bank.id, all_orientations=True)
    assert len(lookup_file(session, matcher=matcher, data=_image("bridge-1-original.jpg")).result.matches) == 7


def test_a_negative_bank_is_upright_only_by_default(session, clock) -> None:
    assert not make_bank(session, clock, name="cleared", kind="negative").all_orientations
    assert make_bank(session, clock, name="partner list").all_orientations


def test_the_api_sets_the_bank_setting_and_reports_the_orientation(client, staff) -> None:
    client.headers["Authorization"] = f"Bearer {staff.token(Permission.BANKS_MANAGE, Permission.MATCH_LOOKUP)}"
    created = client.post("/api/v1/banks", json={"name": "partner", "policy": "terrorism", "all_orientations": False})
    assert created.status_code == 201, created.text
    bank = created.json()
    assert bank["all_orientations"] is False
    rotated = _reference()["bridge-2-rotate-90.jpg"]
    added = client.post(f"/api/v1/banks/{bank['id']}/entries", json={"entries": [{"signal_type": "pdq", "value": rotated}]})
    assert added.status_code in (200, 201), added.text

    def lookup() -> list[dict]:
        response = client.post("/api/v1/match/lookup", files={"file": ("u.jpg", _image("bridge-1-original.jpg"), "image/jpeg")})
        assert response.status_code == 200, response.text
        return response.json()["matches"]

    assert lookup() == []
    updated = client.patch(f"/api/v1/banks/{bank['id']}", json={"all_orientations": True})
    assert updated.status_code == 200 and updated.json()["all_orientations"] is True, updated.text
    assert [m["orientation"] for m in lookup()] == ["rotate_90"]


@pytest.mark.parametrize("fast", [False, True], ids=["full", "fast"])
def test_the_eight_hashes_of_an_upload_are_those_of_its_rotated_and_flipped_files(fast: bool) -> None:
    from trustdesk.safety.signals.hashing import hash_media, pdq_distance

    hashes = hash_media(_image("bridge-1-original.jpg"), fast=fast, dihedral=True)
    assert (
        hashes.pdq_dihedral is not None
        and hashes.pdq_dihedral[0] == hashes.pdq == hash_media(_image("bridge-1-original.jpg"), fast=fast).pdq
    )
    reference = _reference()
    by_orientation = {orientation: reference[name] for name, orientation in FILES.items()}
    distances = [pdq_distance(h, by_orientation[o]) for h, o in zip(hashes.pdq_dihedral, ORIENTATIONS, strict=True)]
    assert max(distances) <= 16, distances  # the conformance tolerance; the other orientations are ~100-130 bits away
