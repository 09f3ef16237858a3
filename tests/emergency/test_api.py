"""The emergency API: the overview, a person's removal and confirmation, threat-to-life
cases; problem details on bad input, and nothing for callers without the permission."""

from __future__ import annotations

from tests.emergency.conftest import file_tco
from trustdesk.core.identity.permissions import Permission
from trustdesk.legal.intake import Channel


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_order_the_lane_removed_shows_up_for_confirmation_then_leaves_the_overview(client, staff, legal, world) -> None:
    headers = _auth(staff.token(Permission.EMERGENCY_HANDLE))
    order = file_tco(legal, world)  # committed: the lane installed by create_app takes it in
    rows = client.get("/api/v1/emergency", headers=headers).json()["removals"]
    assert [(r["reference"], r["removal"]["state"]) for r in rows] == [(order.reference, "auto_removed")]
    confirmed = client.post(
        f"/api/v1/emergency/removals/{rows[0]['removal']['id']}/confirm", json={"note": "ok"}, headers=headers
    )
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    assert client.get("/api/v1/emergency", headers=headers).json()["removals"] == []


def test_a_waiting_order_shows_its_clock_and_a_removal_without_a_reason_is_refused(client, staff, legal, world) -> None:
    headers = _auth(staff.token(Permission.EMERGENCY_HANDLE, Permission.REQUESTS_HANDLE, Permission.REQUESTS_READ))
    file_tco(legal, world, channel=Channel.STAFF)
    row = client.get("/api/v1/emergency", headers=headers).json()["removals"][0]
    assert row["removal"]["state"] == "awaiting_person" and row["time_left"] == "1h 00m left"
    refused = client.post(f"/api/v1/emergency/removals/{row['removal']['id']}/remove", json={"reason": " "}, headers=headers)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")


def test_threat_cases_over_the_api(client, staff) -> None:
    headers = _auth(staff.token(Permission.EMERGENCY_HANDLE))
    bad = client.post("/api/v1/emergency/threats", json={"summary": "x", "place": "France"}, headers=headers)
    assert bad.status_code == 422 and "two-letter" in bad.json()["detail"]
    case = client.post(
        "/api/v1/emergency/threats", json={"summary": "Threat to shoot a teacher", "suspect": "PL"}, headers=headers
    ).json()
    assert [r["key"] for r in case["recipients"]] == ["PL"]
    sent = client.post(f"/api/v1/emergency/threats/{case['id']}/send", json={"note": "sent"}, headers=headers)
    assert sent.json()["state"] == "sent"


def test_callers_without_the_permission_get_nothing(client, staff) -> None:
    assert client.get("/api/v1/emergency", headers=_auth(staff.token(Permission.SAFETY_READ))).status_code == 403
