"""Every order is recorded, even one refused at once (issue #16, item 11): an order that names
no identifier, names more targets than a request may, or (filed by the authority itself)
lacks a required element is stored refused with its reason, audited, in the queue and in the
government-request numbers. Input that is not an order at all stays a 4xx that stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.legal.conftest import EPOC_ELEMENTS, staff_principal
from tests.legal.test_api import _agency_token, _body, _count
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.errors import InvalidInput
from trustdesk.legal import service
from trustdesk.legal.disclosure.numbers import government_numbers
from trustdesk.legal.intake import Channel
from trustdesk.legal.models import LawfulRequest, RequestState, RequestTransition
from trustdesk.legal.registry import officer_principal
from trustdesk.legal.targets import MAX_TARGETS

REFUSED_AT_ONCE = [
    ({"targets": []}, "incomplete", "at least one target"),
    ({"targets": [("username", f"user_{i:05d}") for i in range(MAX_TARGETS + 1)]}, "other", "At most"),
    ({"elements": {k: v for k, v in EPOC_ELEMENTS.items() if k != "grounds"}}, "incomplete", "missing: Grounds"),
]


def _transitions(db, request_id):
    with db.transaction() as session:
        rows = session.scalars(select(RequestTransition).where(RequestTransition.request_id == request_id))
        return [(t.from_state, t.to_state, t.refusal_reason) for t in rows]


@pytest.mark.parametrize(("overrides", "reason", "words"), REFUSED_AT_ONCE, ids=[r[2] for r in REFUSED_AT_ONCE])
def test_an_order_refused_at_once_is_stored_refused_with_its_reason(overrides, reason, words, db, clock, legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    request = legal.file(officer_principal(officer), legal.submission(world, **overrides))
    assert request.state == RequestState.REFUSED and request.reference.startswith("LR-") and request.due_at is None
    assert _transitions(db, request.id) == [(None, "received", None), ("received", "refused", reason)]
    with db.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "request.refuse_at_intake")).one()
        assert entry.object_id == str(request.id) and words in (entry.reason or "")
        queue = service.list_requests(session, principal=staff_principal())
        assert request.id in [r.id for r in queue], "the queue shows it"
        rows = government_numbers(
            session, principal=staff_principal(), start=clock.now() - timedelta(days=1), end=clock.now() + timedelta(days=1)
        )
        assert sum(int(r["received"]) for r in rows) == 1 and sum(int(r["refused"]) for r in rows) == 1


def test_not_an_order_is_still_a_clear_error_that_stores_nothing(db, legal, world) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    with db.transaction() as session:
        before = session.scalar(select(func.count(LawfulRequest.id)))
    for overrides in ({"instrument": "fbi_letter"}, {"categories": ["location"]}, {"targets": [("account_id", "x y")]}):
        with pytest.raises(InvalidInput):
            legal.file(officer_principal(officer), legal.submission(world, **overrides))
    with db.transaction() as session:
        assert session.scalar(select(func.count(LawfulRequest.id))) == before


def test_staff_may_still_enter_an_incomplete_order_which_waits_for_its_element(legal, world) -> None:
    agency = legal.agency()
    elements = {k: v for k, v in EPOC_ELEMENTS.items() if k != "grounds"}
    request = legal.file(
        staff_principal(), legal.submission(world, elements=elements), channel=Channel.STAFF, agency_id=agency.id
    )
    assert request.state == RequestState.RECEIVED


def test_over_the_api_a_refused_order_is_201_refused_and_malformed_json_a_422_that_stores_nothing(
    client, db, clock, legal, world
) -> None:
    headers = _agency_token(db, clock, legal.agency())
    before = _count(db)
    refused = client.post("/api/v1/lawful-requests", json=_body(world, targets=[]), headers=headers)
    assert refused.status_code == 201 and refused.json()["request"]["state"] == "refused"
    assert _count(db) == before + 1
    broken = client.post("/api/v1/lawful-requests", content=b"{not json", headers={**headers, "content-type": "application/json"})
    assert broken.status_code == 422
    anonymous = client.post("/api/v1/lawful-requests", json=_body(world, targets=[]))
    assert anonymous.status_code == 401
    assert _count(db) == before + 1
