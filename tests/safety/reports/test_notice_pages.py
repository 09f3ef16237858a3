"""The public notice form and its receipt over HTTP: a notice by @handle, a field error for a
username the platform does not know (nothing stored), and the receipt's reply form."""

from __future__ import annotations

from sqlalchemy import func, select

from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review.models import Case, CaseEvent

FORM = {
    "reason": "harassment",
    "subject_kind": "account",
    "explanation": "He sends me threats every night.",
    "notifier_name": "Tom",
    "notifier_email": "tom@example.de",
    "good_faith": "1",
}


def test_the_form_takes_a_handle_and_the_receipt_takes_a_reply(client, db, cast) -> None:
    page = client.get("/report")
    assert "username" in page.text and "message, account or chat id" not in page.text
    filed = client.post("/report", data={**FORM, "subject_id": "@Lena_Berlin"}, follow_redirects=False)
    assert filed.status_code == 303, filed.text[:500]
    receipt = filed.headers["location"]
    with db.transaction() as s:
        [notice] = s.scalars(select(Notice)).all()
        assert (notice.subject_kind, notice.subject_id) == ("account", cast.accounts["lena"])
    shown = client.get(receipt)
    assert shown.status_code == 200 and f'action="{receipt}/reply"' in shown.text
    empty = client.post(f"{receipt}/reply", data={"text": " "}, follow_redirects=False)
    assert empty.status_code == 422 and 'id="reply-error"' in empty.text
    replied = client.post(f"{receipt}/reply", data={"text": "He wrote again tonight."}, follow_redirects=False)
    assert replied.status_code == 303 and replied.headers["location"] == f"{receipt}#replies"
    assert "He wrote again tonight." in client.get(receipt).text
    with db.transaction() as s:
        [event] = s.scalars(select(CaseEvent).where(CaseEvent.kind == "notifier_reply")).all()
        assert event.case_id == notice.case_id and event.detail["reason"] == "He wrote again tonight."
    assert client.post("/report/not-a-receipt/reply", data={"text": "hi"}).status_code == 404


def test_an_unknown_username_is_a_field_error_and_stores_nothing(client, db, cast) -> None:
    refused = client.post("/report", data={**FORM, "subject_id": "@nobody_here"})
    assert refused.status_code == 422
    assert 'id="subject_id-error"' in refused.text and "found no account" in refused.text
    assert 'value="@nobody_here"' in refused.text
    with db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Notice)) == 0
        assert s.scalar(select(func.count()).select_from(Case)) == 0
