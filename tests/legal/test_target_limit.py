"""The number of targets one lawful request may name is the lawful_request_max_targets
setting, on the API as in intake."""

from __future__ import annotations

import pytest

from tests.legal.test_api import _agency_token, _body, _count
from trustdesk.core.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:  # the client fixture builds its app from this
    return load_settings(data_dir=tmp_path, database_url=database_url, session_cookie_secure=False, lawful_request_max_targets=2)


def test_more_targets_than_the_setting_is_an_order_refused_at_once_and_recorded(client, db, clock, legal, world) -> None:
    headers = _agency_token(db, clock, legal.agency())
    before = _count(db)
    targets = [{"value": "@" + world.username}, {"value": world.account_id}, {"value": world.phone}]
    response = client.post("/api/v1/lawful-requests", json=_body(world, targets=targets), headers=headers)
    assert response.status_code == 201 and response.json()["request"]["state"] == "refused"
    assert _count(db) == before + 1, "an overbroad order is recorded, refused (issue #16)"
    assert client.post("/api/v1/lawful-requests", json=_body(world, targets=targets[:2]), headers=headers).status_code == 201
