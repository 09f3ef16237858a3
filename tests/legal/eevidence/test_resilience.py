"""An eight-hour order pages on-call; a message whose processing fails stays stored and the
job processes it; nothing accepted is lost."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from tests.conftest import StaffFactory
from tests.legal.eevidence import hi1
from tests.legal.eevidence.conftest import Wisp
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging import PageUrgency
from trustdesk.core.paging.twins import InMemoryPager
from trustdesk.legal.eevidence import inbox, service
from trustdesk.legal.eevidence.models import InboundMessage, InboxState, Order


def test_eight_hours_pages_on_call_at_receipt(wisp: Wisp, staff: StaffFactory) -> None:
    staff.create(Role.ON_CALL, username="oncall1")
    pager = InMemoryPager()
    wisp.ctx = replace(wisp.ctx, pager=pager)
    wisp.send("production", hi1.OrderMessage(priority="EightHours").bytes())
    assert len(pager.sent) == 1
    message, recipient = pager.sent[0]
    assert message.urgency is PageUrgency.EMERGENCY and recipient.username == "oncall1" and "8 hours" in message.subject


def test_a_ten_day_order_pages_nobody(wisp: Wisp, staff: StaffFactory) -> None:
    staff.create(Role.ON_CALL, username="oncall1")
    pager = InMemoryPager()
    wisp.ctx = replace(wisp.ctx, pager=pager)
    wisp.send("production", hi1.OrderMessage().bytes())
    assert pager.sent == []


def test_a_failure_after_storage_loses_nothing_and_the_job_finishes_it(wisp: Wisp, monkeypatch: pytest.MonkeyPatch) -> None:
    form = hi1.OrderMessage()
    body = form.bytes()
    real = service.create_order

    def broken(*args: object, **kwargs: object) -> Order:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(service, "create_order", broken)
    answer = wisp.send("production", body)
    assert answer.status == 202 and wisp.problem(answer)["transaction_id"] == form.transaction_id
    with wisp.db.read() as session:
        row = session.scalar(select(InboundMessage))
        assert row is not None and row.state == InboxState.RECEIVED and row.attempts == 1 and row.body == body
        assert session.scalar(select(func.count(Order.id))) == 0
    monkeypatch.setattr(service, "create_order", real)
    assert inbox.retry_pending(wisp.db, ctx=wisp.ctx) == 1
    assert inbox.retry_pending(wisp.db, ctx=wisp.ctx) == 0
    with wisp.db.read() as session:
        row = session.scalar(select(InboundMessage))
        assert row is not None and row.state == InboxState.PROCESSED
        assert session.scalar(select(func.count(Order.id))) == 1
    again = wisp.send("production", body)  # the WISP's own retry now gets the answer
    assert again.status == 200 and form.auth_id.encode() in again.body


def test_the_timeline_shows_both_ways(wisp: Wisp) -> None:
    from tests.conftest import TEST_ACTOR
    from trustdesk.legal.eevidence import outbox

    form = hi1.OrderMessage(legal_type="EPOC-PR")
    wisp.send("preservation", form.bytes())
    order, _ = wisp.order(form.auth_id)
    with wisp.db.transaction() as session:
        outbox.queue_datapreserved(session, actor=TEST_ACTOR, clock=wisp.ctx.clock, identities=wisp.identities, order_id=order.id)
        entries = inbox.timeline(session, order_id=order.id)
    assert [(e.direction, e.kind) for e in entries] == [("in", "preservation"), ("out", "datapreserved")]
