"""The parser refuses what is not an HI-1 message with a clear error, never a crash, and
never expands an entity or reads a DTD."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.legal.eevidence import hi1
from tests.legal.eevidence.conftest import Wisp
from trustdesk.legal.eevidence import wire

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<HI1Message xmlns="http://uri.etsi.org/03120/common/2019/10/Core">&lol3;</HI1Message>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<HI1Message xmlns="http://uri.etsi.org/03120/common/2019/10/Core">&xxe;</HI1Message>"""


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_never_crash_the_parser(body: bytes) -> None:
    try:
        wire.parse(body)
    except wire.WireError as exc:
        assert exc.code and exc.detail


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_arbitrary_text_inside_an_envelope_gives_a_clear_error(text: str) -> None:
    body = hi1.message([text]).replace(b"<ActionRequests>", b"<ActionRequests>")
    try:
        wire.parse(body)
    except wire.WireError as exc:
        assert exc.detail


@given(st.integers(min_value=0, max_value=len(hi1.OrderMessage().bytes()) - 1))
@settings(max_examples=200, deadline=None)
def test_a_truncated_message_is_refused(cut: int) -> None:
    with pytest.raises(wire.WireError):
        wire.parse(hi1.OrderMessage().bytes()[:cut])


@pytest.mark.parametrize("body", [BOMB, EXTERNAL, BOMB.replace(b"DOCTYPE", b"doctype")])
def test_a_doctype_is_refused_outright(body: bytes) -> None:
    with pytest.raises(wire.WireError) as exc:
        wire.parse(body)
    assert exc.value.code == "doctype"


def test_a_wrong_namespace_is_refused(wisp: Wisp) -> None:
    body = hi1.message([], root_ns="http://uri.etsi.org/03120/common/2017/07/Core")
    answer = wisp.send("production", body)
    assert answer.status == 422 and wisp.problem(answer)["type"].endswith("namespace")


def test_malformed_xml_is_refused_and_nothing_is_stored(wisp: Wisp) -> None:
    from sqlalchemy import func, select

    from trustdesk.core.audit.models import AuditEntry
    from trustdesk.legal.eevidence.models import InboundMessage

    answer = wisp.send("production", b"<HI1Message><unclosed>")
    assert answer.status == 422 and wisp.problem(answer)["type"].endswith("malformed")
    assert wisp.send("production", BOMB).status == 400
    with wisp.db.read() as session:
        assert session.scalar(select(func.count(InboundMessage.id))) == 0
        refused = session.scalar(select(func.count(AuditEntry.seq)).where(AuditEntry.action == "eevidence.inbox.refuse"))
        assert refused == 2  # on the audit chain all the same


def test_an_unknown_priority_is_refused_with_the_transaction_id(wisp: Wisp) -> None:
    form = hi1.OrderMessage(priority="Whenever")
    answer = wisp.send("production", form.bytes())
    problem = wisp.problem(answer)
    assert answer.status == 422 and problem["transaction_id"] == form.transaction_id and "EPOCPriority" in problem["detail"]


def test_an_ack_round_trips_through_the_parser_of_the_tests() -> None:
    from datetime import UTC, datetime

    from lxml import etree

    envelope = wire.parse(hi1.OrderMessage().bytes())
    ack = etree.fromstring(wire.build_ack(envelope=envelope, timestamp=datetime.now(UTC)))
    assert ack.tag == f"{{{hi1.CORE}}}HI1Message"
    header = ack.find(f"{{{hi1.CORE}}}Header")
    assert (
        header is not None and header.findtext(f"{{{hi1.CORE}}}SenderIdentifier/{{{hi1.CORE}}}UniqueIdentifier") == hi1.RECEIVER
    )
