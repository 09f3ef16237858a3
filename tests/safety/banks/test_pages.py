"""The banks console pages, over the real sign-in."""

from __future__ import annotations

from trustdesk.core.identity.permissions import Role
from trustdesk.platform.demo import imagery
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.signals.hashing import hash_media


def test_admin_creates_a_bank_adds_an_entry_and_looks_up_a_file(client, staff) -> None:
    client.app.state.container.matcher = MatchService(refresh_seconds=0)  # see changes at once
    admin = staff.create(Role.ADMIN)
    csrf = staff.sign_in(client, admin)
    page = client.get("/console/safety/banks")
    assert page.status_code == 200 and "No banks yet" in page.text
    created = client.post(
        "/console/safety/banks", data={"csrf_token": csrf, "name": "Posters", "policy": "terrorism", "kind": "positive"}
    )
    assert created.status_code == 200 and "Posters" in created.text  # followed to the bank page
    bank_url = str(created.url)
    bad = client.post(bank_url + "/entries", data={"csrf_token": csrf, "signal_type": "pdq", "value": "xyz"})
    assert bad.status_code == 422 and "PDQ" in bad.text and "This bank is empty" in bad.text
    pdq = hash_media(imagery.poster_original()[1]).pdq
    added = client.post(bank_url + "/entries", data={"csrf_token": csrf, "signal_type": "pdq", "value": pdq, "notes": "poster"})
    assert "1 added" in added.text and "Retroaction" in added.text
    found = client.post(
        "/console/safety/banks/lookup",
        files={"file": ("p.jpg", imagery.poster_resized()[1], "image/jpeg")},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert found.status_code == 200 and "Posters" in found.text.split('id="lookup-matches"')[1]
    assert "quality 100" in found.text and hash_media(imagery.poster_resized()[1]).sha256 in found.text
    corrupt = client.post(
        "/console/safety/banks/lookup",
        files={"file": ("x.jpg", b"\xff\xd8\xffjunk", "image/jpeg")},
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    assert "could not be read" in corrupt.text


def test_a_triage_member_sees_banks_but_cannot_change_them(client, staff) -> None:
    triage = staff.create(Role.TRIAGE)
    csrf = staff.sign_in(client, triage)
    page = client.get("/console/safety/banks")
    assert page.status_code == 200 and "New bank" not in page.text and "Look up a file" not in page.text
    refused = client.post("/console/safety/banks", data={"csrf_token": csrf, "name": "x", "policy": "terrorism"})
    assert refused.status_code == 403
