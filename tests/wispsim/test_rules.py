"""The simulator's checks on the provider's calls: each rule can fail, and a call that keeps
them all is acknowledged."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.wispsim import calls
from trustdesk_wispsim import messages, rules
from trustdesk_wispsim.ledger import OrderState

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


def order_state(**overrides: object) -> OrderState:
    fields: dict[str, object] = {
        "authorisation_id": str(uuid.uuid4()),
        "transaction_id": str(uuid.uuid4()),
        "legal_type": "EPOC",
        "kind": "Form1",
        "sent_at": NOW - timedelta(hours=1),
        "priority": "TenDaysASAP",
        "task_ids": [str(uuid.uuid4())],
        "categories": ["SubscriberData", "TrafficData"],
    }
    return OrderState(**(fields | overrides))  # type: ignore[arg-type]


def verdict(path: str, body: bytes, *orders: OrderState, seen: dict[str, str] | None = None, verify=None) -> list[str]:  # type: ignore[no-untyped-def]
    ctx = rules.Context(
        me=(calls.ME.country, calls.ME.identifier),
        provider=("IE", "TRUSTDESK"),
        orders={o.authorisation_id: o for o in orders},
        seen=seen or {},
        now=NOW,
        verify_pdf=verify,
    )
    return rules.check(path, body, hashlib.sha256(body).hexdigest(), ctx)[1]


def test_an_outcome_for_a_plain_order_is_acknowledged() -> None:
    order = order_state()
    assert verdict("outcome", calls.outcome(order.authorisation_id, order.task_ids[0]), order) == []


def test_an_outcome_inside_the_enforcing_window_is_refused_until_no_grounds() -> None:
    order = order_state(priority="TenDaysSubjectToEA")
    body = calls.outcome(order.authorisation_id, order.task_ids[0])
    assert any("window" in p for p in verdict("outcome", body, order))
    order.refusal = "NoGroundsForRefusal"
    assert verdict("outcome", body, order) == []
    lapsed = order_state(priority="TenDaysSubjectToEA", sent_at=NOW - timedelta(days=10, minutes=1))
    assert verdict("outcome", calls.outcome(lapsed.authorisation_id, lapsed.task_ids[0]), lapsed) == []


def test_an_outcome_after_a_full_refusal_or_a_withdrawal_is_refused() -> None:
    refused = order_state(refusal="FullGroundsForRefusal")
    assert any("refused the whole order" in p for p in verdict("outcome", calls.outcome(refused.authorisation_id, "x"), refused))
    withdrawn = order_state(withdrawn=True)
    assert any("withdrawn" in p for p in verdict("outcome", calls.outcome(withdrawn.authorisation_id, "x"), withdrawn))


def test_a_partial_refusal_keeps_the_refused_categories_out() -> None:
    order = order_state(refusal="PartialGroundsForRefusal", refused=["TrafficData"])
    ok = calls.outcome(order.authorisation_id, order.task_ids[0], categories=("SubscriberData",))
    assert verdict("outcome", ok, order) == []
    bad = calls.outcome(order.authorisation_id, order.task_ids[0], categories=("SubscriberData", "TrafficData"))
    assert any("refused categories" in p for p in verdict("outcome", bad, order))
    silent = calls.outcome(order.authorisation_id, order.task_ids[0], categories=())
    assert any("which categories" in p for p in verdict("outcome", silent, order))


def test_an_outcome_for_a_preservation_order_or_an_unknown_one_is_refused() -> None:
    preservation = order_state(legal_type="EPOC-PR")
    assert any("preservation" in p for p in verdict("outcome", calls.outcome(preservation.authorisation_id, "x"), preservation))
    assert any("no order WISP sent" in p for p in verdict("outcome", calls.outcome(str(uuid.uuid4()), "x")))


@pytest.mark.parametrize(
    "body, finding",
    [
        (b"<HI1Message", "not well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "DOCTYPE"),
        (b'<HI1Message xmlns="urn:wrong"/>', "not {http://uri.etsi.org/03120/common/2019/10/Core}HI1Message"),
        (b'<HI1Message xmlns="http://uri.etsi.org/03120/common/2019/10/Core"/>', "no Header"),
    ],
)
def test_malformed_bodies_are_named(body: bytes, finding: str) -> None:
    found = verdict("outcome", body)
    assert len(found) == 1 and finding in found[0]


def test_the_header_must_name_both_sides_and_a_fresh_transaction() -> None:
    order = order_state()
    body = calls.outcome(order.authorisation_id, order.task_ids[0])
    transaction = rules.Inbound.of(rules.parse(body)).transaction_id
    assert verdict("outcome", body, order, seen={transaction: hashlib.sha256(body).hexdigest()}) == []  # a retry
    assert any("used before" in p for p in verdict("outcome", body, order, seen={transaction: "0" * 64}))
    wrong = body.replace(b"<UniqueIdentifier>FR-TJ-PARIS<", b"<UniqueIdentifier>ELSEWHERE<")
    assert any("ReceiverIdentifier" in p for p in verdict("outcome", wrong, order))
    assert verdict("nowhere", body, order) == ["WISP has no endpoint 'nowhere'"]


SIGNED = b"%PDF-1.7\n/Type /Sig /ByteRange [0 1 2 3]\n%%EOF"


def test_form_3_needs_a_known_reason_and_a_signed_pdf() -> None:
    order = order_state()
    assert verdict("nonexecution", calls.nonexecution(order.authorisation_id, "DataNotHeld", SIGNED), order) == []
    assert any(
        "ten of Annex III" in p
        for p in verdict("nonexecution", calls.nonexecution(order.authorisation_id, "Busy", SIGNED), order)
    )
    unsigned = calls.nonexecution(order.authorisation_id, "DataNotHeld", b"%PDF-1.7\n%%EOF")
    assert any("no signature" in p for p in verdict("nonexecution", unsigned, order))
    text = calls.nonexecution(order.authorisation_id, "DataNotHeld", SIGNED, content_type="text/plain")
    assert any("application/pdf" in p for p in verdict("nonexecution", text, order))
    broken = verdict(
        "nonexecution", calls.nonexecution(order.authorisation_id, "DataNotHeld", SIGNED), order, verify=lambda pdf: ["bad"]
    )
    assert broken == ["bad"]


def test_a_conflict_of_law_needs_its_structured_fields() -> None:
    order = order_state()
    bare = calls.nonexecution(order.authorisation_id, "ConflictOfLaw", SIGNED)
    assert any("structured fields" in p for p in verdict("nonexecution", bare, order))
    full = calls.nonexecution(order.authorisation_id, "ConflictOfLaw", SIGNED, fields=rules.CONFLICT_OF_LAW_FIELDS)
    assert verdict("nonexecution", full, order) == []


def test_preservation_withdrawal_and_correspondence_rules() -> None:
    epoc, epoc_pr = order_state(), order_state(legal_type="EPOC-PR", priority=None)
    assert verdict("datapreserved", calls.simple(epoc_pr.authorisation_id), epoc_pr) == []
    assert any("not an EPOC-PR" in p for p in verdict("datapreserved", calls.simple(epoc.authorisation_id), epoc))
    assert any("never sent" in p for p in verdict("confirmwithdrawal", calls.simple(epoc.authorisation_id), epoc))
    epoc.withdrawn = True
    assert verdict("confirmwithdrawal", calls.simple(epoc.authorisation_id), epoc) == []
    asks = calls.simple(epoc.authorisation_id, document_type="RequestAdditionalInformation")
    assert verdict("correspondence", asks, epoc) == []
    claims = calls.simple(epoc.authorisation_id, document_type="EnforcementProceduresInitiated")
    assert any("a provider sends only" in p for p in verdict("correspondence", claims, epoc))


def test_lookups_need_only_a_good_header() -> None:
    assert verdict("authorities", calls.simple(str(uuid.uuid4()))) == []
    assert verdict("enforcingauthorityId", calls.simple(str(uuid.uuid4()))) == []


def test_the_builders_messages_are_not_provider_calls() -> None:
    sent = messages.production(
        messages.Order(
            "EPOC",
            "R",
            "A",
            messages.ApproverRole.JUDGE,
            [messages.Target("ServiceAccessIdentifier", "u")],
            [messages.RequestType.SUBSCRIBER],
        ),
        sender=calls.ME,
        receiver=calls.PROVIDER,
        at=NOW,
    )
    assert any("SenderIdentifier" in p for p in verdict("outcome", sent.body))


def test_an_outcome_without_data_is_refused() -> None:
    order = order_state()
    body = calls.outcome(order.authorisation_id, order.task_ids[0]).replace(b"Contents>", b"Reference>")
    assert any("carries no data" in p for p in verdict("outcome", body, order))
