"""The banks and lookup API as a client uses it: a bank fetched from an exchange matches
uploads, old platform media are found when entries arrive, bad input is a clear problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from trustdesk.core.identity.permissions import Permission
from trustdesk.platform.demo import imagery
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.safety.signals.hashing import hash_media

ALL = (Permission.BANKS_MANAGE, Permission.MATCH_LOOKUP, Permission.SAFETY_READ)


@pytest.fixture
def api(client, staff):  # type: ignore[no-untyped-def]
    client.headers["Authorization"] = f"Bearer {staff.token(*ALL)}"
    return client


def _bank(api, **body) -> dict:  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/banks", json={"name": "Terror propaganda", "policy": "terrorism", **body})
    assert response.status_code == 201, response.text
    return response.json()


def _lookup(api, data: bytes) -> dict:  # type: ignore[no-untyped-def]
    response = api.post("/api/v1/match/lookup", files={"file": ("upload.jpg", data, "image/jpeg")})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_bank_fetched_from_an_exchange_matches_uploads_through_the_lookup_api(api, tmp_path: Path) -> None:
    bank = _bank(api)
    signals = tmp_path / "partner.txt"
    signals.write_text(f"pdq {hash_media(imagery.poster_original()[1]).pdq}\n")
    created = api.post(
        "/api/v1/exchanges",
        json={"name": "partner", "api": "local_file", "bank_id": bank["id"], "config": {"filename": str(signals)}},
    )
    assert created.status_code == 201, created.text
    fetched = api.post("/api/v1/exchanges/partner/fetch").json()
    assert fetched["added"] == 1 and fetched["error"] is None
    body = _lookup(api, imagery.poster_cropped()[1])
    assert body["hashes"]["pdq"] and body["hashes"]["pdq_quality"] >= 50 and len(body["hashes"]["sha256"]) == 64
    [match] = body["matches"]
    assert match["bank"] == "Terror propaganda" and match["exchange"] == "partner" and 0 < match["distance"] <= 31
    assert match["dsa_category"] == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
    assert _lookup(api, imagery.cat()[1])["matches"] == []
    [exchange] = api.get("/api/v1/exchanges").json()
    assert exchange["state"] == "ok" and exchange["last_added"] == 1


def test_entries_added_later_find_platform_media_seen_before(api, platform) -> None:
    cast = seed_demo(platform)
    for name in ("poster", "poster_resized", "poster_cropped", "cat"):
        response = api.post("/api/v1/match/lookup", data={"media_id": cast.media[name]})
        assert response.status_code == 200 and response.json()["media_hash_id"] and response.json()["matches"] == []
    bank = _bank(api)
    added = api.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={"entries": [{"signal_type": "pdq", "value": hash_media(imagery.poster_original()[1]).pdq, "notes": "demo"}]},
    )
    assert added.status_code == 201, added.text
    assert added.json()["retroaction"] == {
        "entries": 1,
        "media_scanned": 4,
        "matches": 3,
        "cases": 3,
        "removed": 0,
    }  # not an automation bank


def test_raw_lookup_and_status(api) -> None:
    bank = _bank(api)
    md5 = hash_media(imagery.poster_original()[1]).md5
    api.post(f"/api/v1/banks/{bank['id']}/entries", json={"entries": [{"signal_type": "md5", "value": md5}]})
    found = api.get("/api/v1/match/raw", params={"signal_type": "md5", "value": md5.upper()}).json()
    assert [m["signal_type"] for m in found["matches"]] == ["md5"]
    status = api.get("/api/v1/match/status").json()
    assert status["exact_entries"] == 1 and status["total_bytes"] > 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"signal_type": "pdq", "value": "abc"}, "64 hex digits"),
        ({"signal_type": "pdq", "value": "z" * 64}, "0-9 and a-f"),
        ({"signal_type": "phash", "value": "a" * 16}, "Unknown signal type"),
    ],
)
def test_a_bad_hash_is_a_problem(api, params: dict, message: str) -> None:
    response = api.get("/api/v1/match/raw", params=params)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert message in response.json()["detail"]


def test_bad_uploads_and_unknown_banks_are_problems_that_change_nothing(api) -> None:
    corrupt = api.post("/api/v1/match/lookup", files={"file": ("x.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")})
    assert corrupt.status_code == 422 and "could not be read" in corrupt.json()["detail"]
    neither = api.post("/api/v1/match/lookup", data={})
    assert neither.status_code == 422 and "either a file or a media_id" in neither.json()["detail"]
    assert api.post("/api/v1/match/lookup", data={"media_id": "nope"}).status_code == 404
    assert api.get("/api/v1/banks/999").status_code == 404
    assert api.post("/api/v1/banks/999/entries", json={"entries": [{"signal_type": "md5", "value": "a" * 32}]}).status_code == 404
    bank = _bank(api)
    empty = api.post(f"/api/v1/banks/{bank['id']}/import", files={"file": ("e.csv", b"", "text/csv")}, data={"format": "csv"})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    bad = api.post(
        f"/api/v1/banks/{bank['id']}/entries",
        json={"entries": [{"signal_type": "md5", "value": "a" * 32}, {"signal_type": "pdq", "value": "a" * 63}]},
    )
    assert bad.status_code == 422 and "Entry 2" in bad.json()["detail"]
    assert api.get(f"/api/v1/banks/{bank['id']}").json()["entries"] == 0


def test_import_export_and_disable(api) -> None:
    bank = _bank(api, threshold=20)
    csv = f"signal_type,value,notes\npdq,{'a' * 64},one\nmd5,{'b' * 32},two\n".encode()
    imported = api.post(f"/api/v1/banks/{bank['id']}/import", files={"file": ("l.csv", csv, "text/csv")}, data={"format": "csv"})
    assert imported.status_code == 201 and imported.json()["added"] == 2
    exported = api.get(f"/api/v1/banks/{bank['id']}/export", params={"format": "threatexchange"})
    assert exported.text == f"pdq {'a' * 64}\n"
    first = imported.json()["entry_ids"][0]
    disabled = api.post(f"/api/v1/banks/{bank['id']}/entries/disable", json={"entry_ids": [first], "reason": "false positive"})
    assert disabled.status_code == 200 and disabled.json()[0]["enabled"] is False
    summary = api.get(f"/api/v1/banks/{bank['id']}").json()
    assert summary["entries"] == 2 and summary["enabled_entries"] == 1 and summary["threshold"] == 20


def test_permissions(client, staff) -> None:
    client.headers["Authorization"] = f"Bearer {staff.token(Permission.SAFETY_READ)}"
    assert client.get("/api/v1/banks").status_code == 200
    assert client.post("/api/v1/banks", json={"name": "x", "policy": "terrorism"}).status_code == 403
    assert client.get("/api/v1/match/raw", params={"signal_type": "md5", "value": "a" * 32}).status_code == 403


def test_the_signal_types_are_the_instances_registry_not_a_fixed_list(api) -> None:
    """An instance that uses only PDQ and SHA-256 refuses an MD5 entry and an MD5 filter, naming
    the types it has; the defaults take MD5 again (issue #15: a new type is its file and a
    setting value, with no enum to extend)."""
    from tests.safety.signals.test_signal_types import installed

    bank = _bank(api, name="Registry check")
    md5 = {"entries": [{"signal_type": "md5", "value": "a" * 32}]}
    with installed(["pdq", "sha256"]):
        refused = api.post(f"/api/v1/banks/{bank['id']}/entries", json=md5)
        assert refused.status_code == 422 and "Unknown signal type 'md5'. Valid: pdq, sha256." in refused.json()["detail"]
        listed = api.get(f"/api/v1/banks/{bank['id']}/entries", params={"signal_type": "md5"})
        assert listed.status_code == 422 and "Valid: pdq, sha256" in listed.json()["detail"]
        assert api.get(f"/api/v1/banks/{bank['id']}/entries").json() == []
    assert api.post(f"/api/v1/banks/{bank['id']}/entries", json=md5).status_code == 201
    found = api.get(f"/api/v1/banks/{bank['id']}/entries", params={"signal_type": "MD5"}).json()
    assert [(e["signal_type"], e["value"]) for e in found] == [("md5", "a" * 32)]
