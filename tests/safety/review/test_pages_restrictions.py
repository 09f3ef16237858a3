"""The decision form's restrictions of visibility: offered only where the platform can carry
them out, a territory picker with EU/EEA shortcuts, an end date, and the result on the
platform."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.identity.permissions import Role
from trustdesk.legal.policy.jurisdictions import eu_countries
from trustdesk.platform.port import MessageState
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.review import service as review


@pytest.fixture
def case_id(db, clock, cast) -> int:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        review.ensure_queues(s, actor=TEST_ACTOR, clock=clock)
        review.add_member(s, actor=TEST_ACTOR, clock=clock, queue="illegal_goods", username="rita")
        return review.open_case(
            s,
            actor=TEST_ACTOR,
            clock=clock,
            subject_kind="message",
            subject_id=cast.messages["drug_ad"],
            queue="illegal_goods",
            priority=30,
            source="notice",
            reason="reported",
        ).id


@pytest.fixture
def csrf(client, staff, case_id) -> str:  # type: ignore[no-untyped-def]
    token = staff.sign_in(client, staff.create(Role.REVIEWER, username="rita"))
    client.post(f"/console/review/cases/{case_id}/claim", data={"csrf_token": token})
    return token


def decide(client, case_id, csrf, **fields):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf,
        "outcome": "action",
        "action": "geo_restrict",
        "policy": "illegal_goods",
        "reason": "Illegal drug sales in the EU.",
        **fields,
    }
    return client.post(f"/console/review/cases/{case_id}/decide", data=data, follow_redirects=True)


def test_the_form_offers_restrictions_with_countries_by_name(client, case_id, csrf) -> None:
    page = client.get(f"/console/review/cases/{case_id}")
    assert '<option value="geo_restrict"' in page.text and '<option value="restrict_visibility"' in page.text
    assert 'name="territorial_region"' in page.text and "all 27 EU countries" in page.text and "all 30 EEA countries" in page.text
    assert "Germany" in page.text and "Liechtenstein" in page.text


def test_a_geo_restriction_for_the_whole_eu_until_a_date(client, db, platform, cast, case_id, csrf) -> None:
    page = decide(client, case_id, csrf, territorial_region="EU", until="2026-06-30")
    assert page.status_code == 200
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.RESTRICTED
    with db.transaction() as s:
        action = s.query(EnforcementAction).filter_by(action="geo_restrict").one()
        assert action.territorial_scope == sorted(eu_countries()) and "NO" not in action.territorial_scope
        assert action.until == datetime(2026, 6, 30, 23, 59, tzinfo=UTC)
        assert action.statement.payload["end_date_visibility_restriction"] == "2026-06-30"


def test_ticked_countries_and_no_country_for_a_geo_restriction(client, platform, cast, case_id, csrf) -> None:
    refused = decide(client, case_id, csrf)
    assert refused.status_code == 422 and "needs the countries" in refused.text
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE
    done = decide(client, case_id, csrf, territorial_scope=["DE", "AT"])
    assert done.status_code == 200 and platform.get_message(cast.messages["drug_ad"]).state is MessageState.RESTRICTED


def test_an_unknown_region_is_refused(client, platform, cast, case_id, csrf) -> None:
    page = decide(client, case_id, csrf, territorial_region="Europe")
    assert page.status_code == 422 and "Choose a region" in page.text
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE


def test_a_platform_that_cannot_restrict_is_not_offered_it(client, platform, case_id, csrf, monkeypatch) -> None:
    monkeypatch.setattr(platform, "capabilities", frozenset())
    page = client.get(f"/console/review/cases/{case_id}")
    assert '<option value="geo_restrict"' not in page.text and '<option value="restrict_visibility"' not in page.text
    assert '<option value="remove_message"' in page.text
