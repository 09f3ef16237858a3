"""The simulator's builders: every message is a well-formed HI1Message with the header, the
objects and the values the reading in docs/e-evidence.md names."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk_wispsim import messages, rules
from trustdesk_wispsim import namespaces as ns

SIM = messages.Party("XX", "WISP")
PROVIDER = messages.Party("IE", "TRUSTDESK")
AT = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
PARTIES = {"sender": SIM, "receiver": PROVIDER, "at": AT}


def order(**overrides: object) -> messages.Order:
    fields: dict[str, object] = {
        "legal_type": "EPOC",
        "reference": "JI-2026-0042",
        "issuing_authority": "Juge d'instruction, TJ Paris",
        "approver_role": messages.ApproverRole.JUDGE,
        "targets": [messages.Target("ServiceAccessIdentifier", "u1001")],
        "categories": [messages.RequestType.SUBSCRIBER],
        "priority": messages.Priority.TEN_DAYS_SUBJECT_TO_EA,
    }
    return messages.Order(**(fields | overrides))  # type: ignore[arg-type]


def inbound(message: messages.Message) -> rules.Inbound:
    return rules.Inbound.of(rules.parse(message.body))


def test_a_production_order_carries_header_authorisation_tasks_and_form() -> None:
    epoc = order().with_tasks()
    message = messages.production(epoc, **PARTIES)
    parsed = inbound(message)
    assert message.path == "production"
    assert parsed.sender == ("XX", "WISP") and parsed.receiver == ("IE", "TRUSTDESK")
    assert uuid.UUID(parsed.transaction_id) and parsed.timestamp == "2026-12-08T10:00:00Z"
    assert [o.get(f"{{{ns.XSI}}}type") for o in parsed.objects] == [
        "auth:AuthorisationObject",
        "task:LDTaskObject",
        "doc:DocumentObject",
    ]
    assert parsed.dictionary_values("EPOCPriority") == ["TenDaysSubjectToEA"]
    assert parsed.dictionary_values("EPOCLegalType") == ["EPOC"]
    assert parsed.dictionary_values("EPOCAuthorisationFlag") == ["EnforcingAuthorityNotified"]
    assert parsed.dictionary_values("EPOCDocumentType") == ["Form1"]
    assert parsed.references() >= {epoc.authorisation_id, *epoc.task_ids}
    contents = parsed.root.find(f".//{{{ns.DOC}}}Contents")
    assert contents is not None and base64.b64decode(contents.text or "").startswith(b"<?xml")


def test_an_emergency_is_flagged_and_eight_hours() -> None:
    parsed = inbound(messages.production(order(priority=messages.Priority.EIGHT_HOURS, emergency=True), **PARTIES))
    assert parsed.dictionary_values("EPOCPriority") == ["EightHours"]
    assert parsed.dictionary_values("AuthorisationFlag") == ["IsEmergency"]


def test_a_preservation_order_has_preservation_tasks_and_no_priority() -> None:
    parsed = inbound(messages.preservation(order(legal_type="EPOC-PR", priority=None), **PARTIES))
    assert parsed.of_type("LPTaskObject") and not parsed.of_type("LDTaskObject")
    assert parsed.dictionary_values("EPOCPriority") == []
    assert parsed.dictionary_values("EPOCDocumentType") == ["Form2"]


def test_form_5_names_the_preservation_it_follows() -> None:
    linked = str(uuid.uuid4())
    parsed = inbound(messages.subsequent_production(order(), linked_transaction_id=linked, **PARTIES))
    assert parsed.dictionary_values("EPOCDocumentProperty") == ["LinkedEPOCPRTransactionId"]
    value = parsed.root.find(f".//{{{ns.DOC}}}PropertyValue")
    assert value is not None and value.text == linked


def test_decisions_and_updates_name_their_order() -> None:
    aid = str(uuid.uuid4())
    built = [
        messages.preservation_extension(aid, days=30, **PARTIES),
        messages.grounds_for_refusal(aid, messages.Refusal.NONE, **PARTIES),
        messages.end_preservation(aid, **PARTIES),
        messages.new_deadline(aid, datetime(2026, 12, 20, tzinfo=UTC), **PARTIES),
        messages.withdraw(aid, **PARTIES),
        messages.delivery_status(aid, "t-1", messages.Delivery.ERROR, details="hash mismatch", **PARTIES),
        messages.correspondence(aid, "RequestAdditionalInformation", "Which account?", **PARTIES),
    ]
    assert [m.path for m in built] == [
        "preservationextension",
        "groundsforrefusal",
        "endpreservation",
        "newdeadline",
        "withdraw",
        "deliverystatus",
        "correspondence",
    ]
    for message in built:
        assert aid in inbound(message).references()
    assert inbound(built[4]).dictionary_values("AuthorisationDesiredStatus") == ["Cancelled"]
    assert inbound(built[5]).dictionary_values("DeliveryStatus") == ["Error"]


def test_a_partial_refusal_names_its_categories_and_only_it_does() -> None:
    aid = str(uuid.uuid4())
    partial = messages.grounds_for_refusal(aid, messages.Refusal.PARTIAL, refused=[messages.RequestType.CONTENT], **PARTIES)
    assert inbound(partial).dictionary_values("EPOCDocumentType") == ["PartialGroundsForRefusal"]
    with pytest.raises(ValueError):
        messages.grounds_for_refusal(aid, messages.Refusal.PARTIAL, **PARTIES)
    with pytest.raises(ValueError):
        messages.grounds_for_refusal(aid, messages.Refusal.FULL, refused=[messages.RequestType.CONTENT], **PARTIES)


def test_a_provider_only_correspondence_type_is_not_sent_by_an_authority() -> None:
    with pytest.raises(ValueError):
        messages.correspondence(str(uuid.uuid4()), "Form3", "x", **PARTIES)


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.text(min_size=1, max_size=30).filter(lambda s: s.isprintable()), min_size=1, max_size=4, unique=True),
    categories=st.lists(st.sampled_from(list(messages.RequestType)), min_size=1, max_size=4, unique=True),
    reference=st.text(min_size=1, max_size=40).filter(lambda s: s.isprintable() and s.strip() == s),
)
def test_any_order_survives_the_wire(values: list[str], categories: list[messages.RequestType], reference: str) -> None:
    epoc = order(
        targets=[messages.Target("ServiceAccessIdentifier", v) for v in values], categories=categories, reference=reference
    )
    epoc = epoc.with_tasks()
    parsed = inbound(messages.production(epoc, **PARTIES))
    assert len(parsed.of_type("LDTaskObject")) == len(values)
    assert parsed.dictionary_values("RequestType") == [c.value for c in categories] * len(values)
    got = [v.text for v in parsed.root.iter(f"{{{ns.TASK}}}Value")]
    assert got == values
    ref = parsed.root.find(f".//{{{ns.AUTH}}}AuthorisationReference")
    assert ref is not None and ref.text == reference
