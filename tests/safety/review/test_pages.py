"""Console and public pages through the real app: what a reviewer, a filer and a member of
the public see, and that refusals are shown on the page and change nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.safety.review.factories import TEST_ACTOR
from trustdesk.core.identity.permissions import Role
from trustdesk.platform.port import MessageState
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review import service as review


@pytest.fixture
def setup(db, clock):  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        review.ensure_queues(s, actor=TEST_ACTOR, clock=clock)
        review.add_member(s, actor=TEST_ACTOR, clock=clock, queue="illegal_goods", username="rita")


def open_cases(db, clock, cast, *keys):  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        return [
            review.open_case(
                s,
                actor=TEST_ACTOR,
                clock=clock,
                subject_kind="message",
                subject_id=cast.messages[k],
                queue="illegal_goods",
                priority=30,
                source="notice",
                reason="reported",
            ).id
            for k in keys
        ]


def test_the_public_form_explains_a_refusal_and_stores_nothing(client, db, setup, cast) -> None:
    page = client.post(
        "/report",
        data={
            "reason": "drugs_weapons",
            "subject_kind": "message",
            "subject_id": cast.messages["drug_ad"],
            "explanation": "Drugs.",
            "notifier_name": "",
            "notifier_email": "",
            "good_faith": "1",
        },
    )
    assert page.status_code == 422 and "Give your name" in page.text and "Drugs." in page.text
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Notice)) == 0
    ok = client.post(
        "/report",
        data={
            "reason": "drugs_weapons",
            "subject_kind": "message",
            "subject_id": cast.messages["drug_ad"],
            "explanation": "Drugs.",
            "notifier_name": "Tom",
            "notifier_email": "t@example.de",
            "good_faith": "1",
        },
        follow_redirects=True,
    )
    assert ok.status_code == 200 and "We received your report" in ok.text


def test_bulk_decisions_preview_then_confirm_in_the_console(client, staff, db, clock, platform, setup, cast) -> None:
    ids = open_cases(db, clock, cast, "drug_ad", "drug_price_list")
    csrf = staff.sign_in(client, staff.create(Role.REVIEWER, username="rita"))
    form = {
        "csrf_token": csrf,
        "queue": "illegal_goods",
        "case_ids": [str(i) for i in ids],
        "outcome": "action",
        "action": "remove_message",
        "policy": "illegal_goods",
        "reason": "Drug sales network.",
    }
    preview = client.post("/console/review/bulk", data=form)
    assert preview.status_code == 200 and "Confirm 2 decisions" in preview.text
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE
    digest = re.search(r'name="confirm" value="([0-9a-f]{64})"', preview.text)[1]
    done = client.post("/console/review/bulk", data={**form, "confirm": digest})
    assert done.status_code == 200 and "2 cases decided" in done.text
    assert platform.get_message(cast.messages["drug_price_list"]).state is MessageState.REMOVED
    account = client.get(f"/console/review/accounts/{cast.accounts['dealer']}", params={"purpose": f"case:{ids[0]}"})
    assert "points now" in account.text and "remove message" in account.text


def test_a_refused_decision_is_shown_on_the_case_page(client, staff, db, clock, platform, setup, cast) -> None:
    [case_id] = open_cases(db, clock, cast, "drug_ad")
    csrf = staff.sign_in(client, staff.create(Role.REVIEWER, username="rita"))
    client.post(f"/console/review/cases/{case_id}/claim", data={"csrf_token": csrf})
    page = client.post(
        f"/console/review/cases/{case_id}/decide",
        data={
            "csrf_token": csrf,
            "outcome": "action",
            "action": "geo_restrict",
            "policy": "illegal_goods",
            "reason": "x",
            "until": "2026-13-01",
        },
    )
    assert page.status_code == 422 and "YYYY-MM-DD" in page.text
    assert platform.get_message(cast.messages["drug_ad"]).state is MessageState.VISIBLE
    assert "You hold this case" in page.text


def test_preferences_are_the_reviewers_own(client, staff, setup) -> None:
    csrf = staff.sign_in(client, staff.create(Role.REVIEWER, username="rita"))
    bad = client.post(
        "/console/review/preferences", data={"csrf_token": csrf, "blur_media": "1", "daily_sensitive_limit": "many"}
    )
    assert bad.status_code == 422 and "whole number" in bad.text
    saved = client.post(
        "/console/review/preferences",
        data={"csrf_token": csrf, "greyscale_media": "1", "daily_sensitive_limit": "20"},
        follow_redirects=True,
    )
    assert "Saved." in saved.text and 'value="20"' in saved.text


def test_the_cybertipline_queue_is_for_the_legal_team(client, staff, db, clock, platform, setup, cast) -> None:
    with db.transaction() as s:
        enforcement.take_action(
            s,
            actor=TEST_ACTOR,
            clock=clock,
            platform=platform,
            subject_kind="message",
            subject_id=cast.messages["drug_price_list"],
            action="remove_message",
            policy="child_sexual_exploitation",
            automated=False,
            source="hash_match",
            reason="Known material.",
            legal_ground="Directive 2011/93/EU Art. 5",
        )
    csrf = staff.sign_in(client, staff.create(Role.LEGAL_OFFICER, username="lena"))
    page = client.get("/console/review/cybertipline")
    assert page.status_code == 200 and "greenleaf_delivery" in page.text and "1 media preserved" in page.text
    report_id = re.search(r"/cybertipline/(\d+)/filed", page.text)[1]
    refused = client.post(f"/console/review/cybertipline/{report_id}/filed", data={"csrf_token": csrf, "ncmec_report_id": "abc"})
    assert refused.status_code == 422 and "digits only" in refused.text
    filed = client.post(
        f"/console/review/cybertipline/{report_id}/filed",
        data={"csrf_token": csrf, "ncmec_report_id": "987654"},
        follow_redirects=True,
    )
    assert "No drafts waiting" in filed.text


def test_a_reviewer_cannot_open_the_filing_queue(client, staff, setup) -> None:
    staff.sign_in(client, staff.create(Role.REVIEWER, username="rita"))
    assert client.get("/console/review/cybertipline").status_code == 403
