"""Every later message changes the one case: the enforcing State's decision, Form 5 and 6,
end of preservation, a new deadline, withdrawal, delivery status, correspondence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from tests.legal.conftest import staff_principal
from tests.legal.eevidence import hi1
from tests.legal.eevidence.conftest import Wisp
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.clock import FrozenClock
from trustdesk.core.errors import Conflict
from trustdesk.legal.eevidence import outbox, service
from trustdesk.legal.eevidence.models import (
    EaState,
    InboundMessage,
    InboxState,
    Order,
    OrderTask,
    OutboundMessage,
    TaskState,
    Withdrawal,
)
from trustdesk.legal.models import LawfulRequest, RequestMessage, RequestState


def _order(wisp: Wisp, **kw: object) -> hi1.OrderMessage:
    form = hi1.OrderMessage(**kw)  # type: ignore[arg-type]
    endpoint = "preservation" if form.legal_type == "EPOC-PR" else "production"
    assert wisp.send(endpoint, form.bytes()).status == 200
    return form


def _releasable(wisp: Wisp, auth_id: str, now: datetime) -> frozenset[str]:
    with wisp.db.read() as session:
        order = session.scalar(select(Order).where(Order.authorisation_id == auth_id))
        assert order is not None
        return service.releasable_categories(session, order=order, now=now)


def test_partial_refusal_then_the_window_lapses(wisp: Wisp, clock: FrozenClock) -> None:
    form = _order(wisp, priority="TenDaysSubjectToEA", request_types=["SubscriberData", "TrafficData"])
    assert _releasable(wisp, form.auth_id, clock.now()) == frozenset()  # nothing before day 10
    answer = wisp.send(
        "groundsforrefusal",
        hi1.document(form.auth_id, "PartialGroundsForRefusal", properties=[("RefusedDataCategory", "TrafficData")]),
    )
    assert answer.status == 200
    order, _ = wisp.order(form.auth_id)
    assert order.ea_state == EaState.PARTIAL and order.refused_categories == ["traffic"]
    clock.advance(days=10, seconds=1)
    with wisp.db.transaction() as session:
        assert [o.id for o in service.lapse_windows(session, clock=clock)] == [order.id]
        assert service.lapse_windows(session, clock=clock) == []  # once
    order, _ = wisp.order(form.auth_id)
    assert order.ea_state == EaState.PARTIAL and order.ea_lapsed_at is not None  # the refusal stands, the rest lapsed
    assert _releasable(wisp, form.auth_id, clock.now()) == {"subscriber"}
    with wisp.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "eevidence.ea_window_lapsed"))
        assert entry is not None and "lapsed, not cleared" in (entry.reason or "")


def test_a_window_without_any_decision_is_lapsed_never_cleared(wisp: Wisp, clock: FrozenClock) -> None:
    form = _order(wisp, priority="TenDaysSubjectToEA", request_types=["TrafficData"])
    clock.advance(days=11)
    with wisp.db.transaction() as session:
        service.lapse_windows(session, clock=clock)
    order, _ = wisp.order(form.auth_id)
    assert order.ea_state == EaState.LAPSED and order.ea_state != EaState.NO_GROUNDS


def test_no_grounds_releases_before_day_ten(wisp: Wisp, clock: FrozenClock) -> None:
    form = _order(wisp, priority="TenDaysSubjectToEA", request_types=["TrafficData"])
    wisp.send("groundsforrefusal", hi1.document(form.auth_id, "NoGroundsForRefusal"))
    assert _releasable(wisp, form.auth_id, clock.now()) == {"traffic"}


def test_full_refusal_blocks_everything_and_stops_the_clock(wisp: Wisp, clock: FrozenClock) -> None:
    form = _order(wisp, priority="TenDaysSubjectToEA", request_types=["TrafficData"])
    wisp.send("groundsforrefusal", hi1.document(form.auth_id, "FullGroundsForRefusal"))
    order, request = wisp.order(form.auth_id)
    assert order.ea_state == EaState.FULL and request.due_at is None and order.paused_due_at is not None
    clock.advance(days=20)
    assert _releasable(wisp, form.auth_id, clock.now()) == frozenset()
    again = wisp.send("groundsforrefusal", hi1.document(form.auth_id, "NoGroundsForRefusal"))
    assert again.status == 409  # decided: a second decision is refused and changes nothing


def test_a_partial_refusal_must_name_its_categories(wisp: Wisp) -> None:
    form = _order(wisp, priority="TenDaysSubjectToEA", request_types=["TrafficData"])
    answer = wisp.send("groundsforrefusal", hi1.document(form.auth_id, "PartialGroundsForRefusal"))
    assert answer.status == 422
    order, _ = wisp.order(form.auth_id)
    assert order.ea_state == EaState.WINDOW


def test_a_decision_on_an_unknown_order_is_refused(wisp: Wisp) -> None:
    answer = wisp.send("groundsforrefusal", hi1.document(hi1.uid(), "NoGroundsForRefusal"))
    assert answer.status == 404 and wisp.problem(answer)["transaction_id"]


def test_form5_links_to_its_epoc_pr(wisp: Wisp) -> None:
    pr = _order(wisp, legal_type="EPOC-PR", request_types=["TrafficData"])
    form5 = hi1.OrderMessage(request_types=["TrafficData"], linked_pr=pr.transaction_id)
    assert wisp.send("subsequentproduction", form5.bytes()).status == 200
    (order5, request5), (order_pr, _) = wisp.order(form5.auth_id), wisp.order(pr.auth_id)
    assert order5.form == "form5" and order5.linked_order_id == order_pr.id and request5.instrument == "eu_epoc"
    assert order_pr.subsequent_production
    wisp.send("endpreservation", hi1.document(pr.auth_id, "EndPreservation"))
    _, request_pr = wisp.order(pr.auth_id)
    assert request_pr.expires_at is not None and request_pr.expires_at > request_pr.received_at + timedelta(
        days=59
    )  # held for the Form 5


def test_form5_without_its_epoc_pr_is_marked_for_form3(wisp: Wisp) -> None:
    body = hi1.OrderMessage(linked_pr=hi1.uid()).bytes()
    answer = wisp.send("subsequentproduction", body)
    assert answer.status == 422 and wisp.problem(answer)["type"].endswith("no-linked-epoc-pr")
    assert wisp.send("subsequentproduction", body) == answer  # the same answer on a retry
    with wisp.db.read() as session:
        assert session.scalar(select(func.count(LawfulRequest.id))) == 0
        row = session.scalar(select(InboundMessage))
        assert row is not None and row.state == InboxState.NEEDS_FORM3


def test_form6_extends_once_by_30_days(wisp: Wisp) -> None:
    pr = _order(wisp, legal_type="EPOC-PR")
    assert wisp.send("preservationextension", hi1.document(pr.auth_id, "EPOCPRForm6")).status == 200
    _, request = wisp.order(pr.auth_id)
    assert request.expires_at == request.received_at + timedelta(days=90)
    assert wisp.send("preservationextension", hi1.document(pr.auth_id, "EPOCPRForm6")).status == 409


def test_end_preservation_ends_it_now(wisp: Wisp, clock: FrozenClock) -> None:
    pr = _order(wisp, legal_type="EPOC-PR")
    clock.advance(days=3)
    wisp.send("endpreservation", hi1.document(pr.auth_id, "EndPreservation"))
    order, request = wisp.order(pr.auth_id)
    assert order.preservation_ended_at == clock.now() and request.expires_at == clock.now()


def test_new_deadline(wisp: Wisp, clock: FrozenClock) -> None:
    form = _order(wisp)
    due = (clock.now() + timedelta(days=20)).astimezone(UTC)
    answer = wisp.send(
        "newdeadline",
        hi1.document(form.auth_id, "NewDeadline", properties=[("NewDeadline", due.isoformat().replace("+00:00", "Z"))]),
    )
    assert answer.status == 200
    _, request = wisp.order(form.auth_id)
    assert request.due_at == due


def test_withdrawal_waits_for_a_person_then_cancels_the_tasks(wisp: Wisp, clock: FrozenClock) -> None:
    form = _order(wisp, task_ids=[hi1.uid(), hi1.uid()])
    assert wisp.send("withdraw", hi1.document(form.auth_id, "Withdrawal")).status == 200
    order, request = wisp.order(form.auth_id)
    assert order.withdrawal == Withdrawal.REQUESTED and request.state == RequestState.RECEIVED  # not yet acted on
    with wisp.db.transaction() as session:
        row = outbox.confirm_withdrawal(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            identities=wisp.identities,
            order_id=order.id,
            reason="the issuer withdrew",
        )
        assert row.call == "confirmwithdrawal"
        assert {t.state for t in service.tasks_of(session, order_id=order.id)} == {TaskState.CANCELLED}
    order, request = wisp.order(form.auth_id)
    assert order.withdrawal == Withdrawal.CONFIRMED and request.state == RequestState.WITHDRAWN
    answer = wisp.send("correspondence", hi1.document(form.auth_id, "ProvideAdditionalInformation", text="more"))
    assert answer.status == 409  # nothing can be added afterwards
    with wisp.db.transaction() as session, pytest.raises(Conflict):
        outbox.queue_datapreserved(session, actor=TEST_ACTOR, clock=clock, identities=wisp.identities, order_id=order.id)


def test_withdrawal_after_delivery_keeps_the_delivered_task(wisp: Wisp, clock: FrozenClock) -> None:
    form = _order(wisp)
    order, _ = wisp.order(form.auth_id)
    with wisp.db.transaction() as session:
        outbox.queue_outcome(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            identities=wisp.identities,
            order_id=order.id,
            task_id=form.task_ids[0],
            content=b"PK package",
        )
    assert wisp.send("deliverystatus", hi1.delivery_status(form.task_ids[0], "Received")).status == 200
    assert wisp.send("withdraw", hi1.document(form.auth_id, "Withdrawal")).status == 200
    with wisp.db.transaction() as session:
        outbox.confirm_withdrawal(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            principal=staff_principal(),
            identities=wisp.identities,
            order_id=order.id,
            reason="withdrawn late",
        )
        task = session.scalar(select(OrderTask).where(OrderTask.task_id == form.task_ids[0]))
        assert task is not None and task.state == TaskState.RECEIVED  # delivered stays delivered, on the record
        with pytest.raises(Conflict):
            outbox.queue_outcome(
                session,
                actor=TEST_ACTOR,
                clock=clock,
                identities=wisp.identities,
                order_id=order.id,
                task_id=form.task_ids[0],
                content=b"again",
            )


def test_a_failed_delivery_can_be_delivered_again(wisp: Wisp, clock: FrozenClock) -> None:
    form = _order(wisp)
    order, _ = wisp.order(form.auth_id)
    with wisp.db.transaction() as session:
        outbox.queue_outcome(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            identities=wisp.identities,
            order_id=order.id,
            task_id=form.task_ids[0],
            content=b"PK",
        )
    wisp.send("deliverystatus", hi1.delivery_status(form.task_ids[0], "Error", "checksum mismatch"))
    with wisp.db.transaction() as session:
        task = session.scalar(select(OrderTask).where(OrderTask.task_id == form.task_ids[0]))
        assert task is not None and task.state == TaskState.DELIVERY_ERROR
        outbox.queue_outcome(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            identities=wisp.identities,
            order_id=order.id,
            task_id=form.task_ids[0],
            content=b"PK",
        )
        assert task.deliveries == 2
        assert session.scalar(select(func.count(OutboundMessage.id))) == 2


def test_outcome_is_refused_before_the_enforcing_state_may_object(wisp: Wisp, clock: FrozenClock) -> None:
    form = _order(wisp, priority="TenDaysSubjectToEA", request_types=["TrafficData"])
    order, _ = wisp.order(form.auth_id)
    with wisp.db.transaction() as session, pytest.raises(Conflict):
        outbox.queue_outcome(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            identities=wisp.identities,
            order_id=order.id,
            task_id=form.task_ids[0],
            content=b"PK",
        )


def test_correspondence_is_threaded_on_the_case(wisp: Wisp) -> None:
    form = _order(wisp)
    wisp.send("correspondence", hi1.document(form.auth_id, "EnforcementProceduresInitiated", text="Proceedings opened."))
    _, request = wisp.order(form.auth_id)
    with wisp.db.read() as session:
        message = session.scalar(select(RequestMessage).where(RequestMessage.request_id == request.id))
        assert message is not None and message.from_authority and "Proceedings opened." in message.body
    assert "enforcement_proceedings" in request.flags


def test_form3_answers_an_order_and_an_orphan_form5(wisp: Wisp, clock: FrozenClock) -> None:
    from trustdesk.core.errors import InvalidInput

    form = _order(wisp)
    order, _ = wisp.order(form.auth_id)
    orphan = hi1.OrderMessage(linked_pr=hi1.uid())
    wisp.send("subsequentproduction", orphan.bytes())
    with wisp.db.transaction() as session:
        with pytest.raises(InvalidInput):
            outbox.queue_nonexecution(
                session,
                actor=TEST_ACTOR,
                clock=clock,
                identities=wisp.identities,
                order_id=order.id,
                reason="ConflictOfLaw",
                signed_pdf=b"%PDF-1.7",
            )
        row = outbox.queue_nonexecution(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            identities=wisp.identities,
            order_id=order.id,
            reason="DataNotHeld",
            signed_pdf=b"%PDF-1.7 signed",
        )
        assert row.call == "nonexecution" and form.auth_id.encode() in row.body and b"DataNotHeld" in row.body
        stored = session.scalar(select(InboundMessage).where(InboundMessage.state == InboxState.NEEDS_FORM3))
        assert stored is not None
        answer = outbox.queue_nonexecution(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            identities=wisp.identities,
            inbox_id=stored.id,
            reason="Incomplete",
            signed_pdf=b"%PDF-1.7 signed",
        )
        assert orphan.auth_id.encode() in answer.body and answer.order_id is None
        assert stored.state == InboxState.ANSWERED_FORM3
