"""Form 1 and Form 2 become cases of the one lawful-request model; replays never make a second."""

from __future__ import annotations

from datetime import timedelta

from lxml import etree
from sqlalchemy import func, select

from tests.legal.eevidence import hi1
from tests.legal.eevidence.conftest import Wisp
from trustdesk.legal.eevidence.models import EaState, InboundMessage, InboxState, Order
from trustdesk.legal.models import LawfulRequest, RequestState


def test_form1_becomes_an_epoc_with_its_clock(wisp: Wisp) -> None:
    form = hi1.OrderMessage()
    answer = wisp.send("production", form.bytes())
    assert answer.status == 200 and answer.media_type == "application/xml"
    ack = etree.fromstring(answer.body)
    assert ack.findtext(f"{{{hi1.CORE}}}Header/{{{hi1.CORE}}}TransactionIdentifier") == form.transaction_id
    ids = [e.text for e in ack.iter(f"{{{hi1.CORE}}}Identifier")]
    assert ids == [form.auth_id, *form.task_ids]
    order, request = wisp.order(form.auth_id)
    assert request.instrument == "eu_epoc" and request.channel == "wisp" and request.state == RequestState.RECEIVED
    assert request.categories == ["subscriber"] and not request.held and not request.emergency
    assert request.due_at == request.received_at + timedelta(days=10)
    assert request.not_before is None and order.ea_state == EaState.NOT_NOTIFIED
    assert request.verdict == "pass", request.checklist


def test_form2_becomes_an_epoc_pr_preserved_60_days(wisp: Wisp) -> None:
    form = hi1.OrderMessage(legal_type="EPOC-PR", request_types=["TrafficData"])
    assert wisp.send("preservation", form.bytes()).status == 200
    order, request = wisp.order(form.auth_id)
    assert request.instrument == "eu_epoc_pr" and order.form == "form2"
    assert request.expires_at == request.received_at + timedelta(days=60)


def test_a_replay_returns_the_same_answer_and_makes_no_second_case(wisp: Wisp) -> None:
    body = hi1.OrderMessage().bytes()
    first, second = wisp.send("production", body), wisp.send("production", body)
    assert first == second
    with wisp.db.read() as session:
        assert session.scalar(select(func.count(Order.id))) == 1
        assert session.scalar(select(func.count(InboundMessage.id))) == 1


def test_the_same_transaction_id_with_other_content_is_refused(wisp: Wisp) -> None:
    form = hi1.OrderMessage()
    wisp.send("production", form.bytes())
    other = hi1.OrderMessage(transaction_id=form.transaction_id, target="+33612000009")
    answer = wisp.send("production", other.bytes())
    assert answer.status == 409 and wisp.problem(answer)["transaction_id"] == form.transaction_id


def test_eight_hours_is_an_emergency_on_top_of_the_queue(wisp: Wisp) -> None:
    form = hi1.OrderMessage(priority="EightHours")
    wisp.send("production", form.bytes())
    _, request = wisp.order(form.auth_id)
    assert request.emergency and request.due_at == request.received_at + timedelta(hours=8)


def test_ten_days_subject_to_ea_waits_for_the_enforcing_state(wisp: Wisp) -> None:
    form = hi1.OrderMessage(priority="TenDaysSubjectToEA", request_types=["TrafficData"])
    wisp.send("production", form.bytes())
    order, request = wisp.order(form.auth_id)
    assert request.enforcing_state_notified and request.not_before == request.received_at + timedelta(days=10)
    assert order.ea_state == EaState.WINDOW and order.ea_window_ends_at == request.not_before


def test_a_prosecutor_may_not_order_content(wisp: Wisp) -> None:
    """Art. 4(2): the check of the legal room fails the order, it is not silently accepted."""
    form = hi1.OrderMessage(role="PublicProsecutor", request_types=["StoredContentData"])
    wisp.send("production", form.bytes())
    _, request = wisp.order(form.auth_id)
    assert request.verdict == "fail"


def test_a_preservation_sent_to_production_is_refused_and_changes_nothing(wisp: Wisp) -> None:
    answer = wisp.send("production", hi1.OrderMessage(legal_type="EPOC-PR").bytes())
    assert answer.status == 422 and wisp.problem(answer)["type"].endswith("legal-type")
    with wisp.db.read() as session:
        assert session.scalar(select(func.count(LawfulRequest.id))) == 0
        row = session.scalar(select(InboundMessage))
        assert row is not None and row.state == InboxState.REFUSED  # stored as received, answered


def test_each_identity_feeds_the_one_queue(wisp: Wisp) -> None:
    nl = wisp.identities.get("nl-amsterdam")
    ie_form, nl_form = hi1.OrderMessage(), hi1.OrderMessage()
    wisp.send("production", ie_form.bytes())
    body = nl_form.bytes().replace(hi1.RECEIVER.encode(), b"CSP-NL-1")
    assert wisp.send("production", body, identity=nl).status == 200
    (ie_order, ie_req), (nl_order, nl_req) = wisp.order(ie_form.auth_id), wisp.order(nl_form.auth_id)
    assert (ie_order.identity_id, nl_order.identity_id) == ("ie-dublin", "nl-amsterdam")
    assert nl_req.language == "nl" and ie_req.language == "en"


def test_a_message_for_another_identity_is_refused(wisp: Wisp) -> None:
    body = hi1.OrderMessage().bytes().replace(hi1.RECEIVER.encode(), b"CSP-NL-1")
    answer = wisp.send("production", body)
    assert answer.status == 422 and wisp.problem(answer)["type"].endswith("receiver")
