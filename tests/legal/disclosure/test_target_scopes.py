"""Targets bound the answer (issue #16 item 5): a target that names a message, a chat or a
time window yields only that, never the sender's whole account; on the demo platform and
through the console's own steps."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from tests.legal.conftest import LegalFactory
from tests.legal.disclosure.desk import Desk
from trustdesk.core.errors import InvalidInput
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.intake import Submission
from trustdesk.legal.registry import officer_principal
from trustdesk.legal.targets import TargetScope
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.port import ChatKind

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 28, tzinfo=UTC)
ELEMENTS = {
    "issuing_authority": "Juge d'instruction, TJ Paris",
    "case_reference": "JI-2026-0311",
    "offence": "Extorsion (art. 312-1 code pénal)",
    "grounds": "The message carried the threat.",
}


@dataclass(frozen=True)
class Sender:
    account: str
    threat: str  # the one message the order is about, in chat `deals`
    deals: str
    family: str
    deals_messages: tuple[str, ...]
    family_messages: tuple[str, ...]


@pytest.fixture
def sender(platform: DemoPlatform) -> Sender:
    """One person who talks in two groups for four weeks, and logs in every few days."""
    post = platform.posting
    me = post.create_account(username="sender_one", display_name="S", phone="+33 6 12 00 07 01", country="FR")
    other = post.create_account(username="listener", display_name="L", phone="+33 6 12 00 07 02", country="FR")
    deals = post.create_chat(kind=ChatKind.GROUP, title="deals", member_ids=[me.id, other.id])
    family = post.create_chat(kind=ChatKind.GROUP, title="family", member_ids=[me.id, other.id])
    in_deals, in_family = [], []
    for day in range(1, 26, 3):
        at = START + timedelta(days=day, hours=10)
        post.record_login(account_id=me.id, ip=f"203.0.113.{day}", port=40000 + day, user_agent="app", at=at - timedelta(hours=1))
        in_deals.append(post.post_message(chat_id=deals.id, sender_id=me.id, text=f"deal day {day}", sent_at=at).id)
        in_family.append(post.post_message(chat_id=family.id, sender_id=me.id, text=f"home day {day}", sent_at=at).id)
    return Sender(me.id, in_deals[4], deals.id, family.id, tuple(in_deals), tuple(in_family))


def _produce(legal: LegalFactory, desk: Desk, clock, targets: list, categories: list[str]) -> dict[str, dict]:
    """File, decide, approve and package an EPOC from a French judge about a French case (no
    enforcing-state wait); the package's data files, by name."""
    officer = legal.officer(legal.agency(IssuerKind.INVESTIGATING_JUDGE, country="FR"), confirmed=True)
    principal = officer_principal(officer)
    submission = Submission(
        instrument="eu_epoc",
        categories=categories,
        elements=dict(ELEMENTS),
        targets=targets,
        period_start=START,
        period_end=END,
        person_country="FR",
        offence_country="FR",
    )
    request = legal.file(principal, submission)
    assert request.enforcing_state is None
    _, secret = desk.package(desk.through_approval(request.id))
    data = desk.download(principal, secret).data
    assert data is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: json.loads(archive.read(n)) for n in archive.namelist() if n.startswith("data/") and n.endswith(".json")}


def test_a_message_target_yields_that_message_not_the_senders_account(legal, desk, clock, sender: Sender) -> None:
    files = _produce(legal, desk, clock, [("message_id", sender.threat)], ["subscriber", "identification", "traffic", "content"])
    content = files[f"data/{sender.account}/content.json"]["records"]
    traffic = files[f"data/{sender.account}/traffic.json"]["records"]
    assert [r["message_id"] for r in content] == [sender.threat], "one message, not the sender's 18"
    assert [r["message_id"] for r in traffic] == [sender.threat]
    logins = files[f"data/{sender.account}/identification.json"]["records"]
    assert [r["ip"] for r in logins] == ["203.0.113.13"], "the session in use when the message was sent, and no other"
    assert files[f"data/{sender.account}/subscriber.json"]["records"][0]["account_id"] == sender.account


def test_a_chat_target_yields_the_account_s_records_in_that_chat_only(legal, desk, clock, sender: Sender) -> None:
    files = _produce(legal, desk, clock, [("account_id", sender.account, TargetScope(chat_id=sender.deals))], ["content"])
    content = files[f"data/{sender.account}/content.json"]["records"]
    assert [r["message_id"] for r in content] == list(sender.deals_messages)
    assert not set(sender.family_messages) & {r["message_id"] for r in content}


def test_a_window_yields_only_what_falls_inside_it(legal, desk, clock, sender: Sender) -> None:
    window = TargetScope(since=START + timedelta(days=9), until=START + timedelta(days=14))
    files = _produce(legal, desk, clock, [("account_id", sender.account, window)], ["identification", "content"])
    times = [datetime.fromisoformat(r["sent_at"]) for r in files[f"data/{sender.account}/content.json"]["records"]]
    assert times and all(window.since <= t <= window.until for t in times)
    assert {t.day for t in times} == {11, 14}
    logins = [datetime.fromisoformat(r["at"]) for r in files[f"data/{sender.account}/identification.json"]["records"]]
    assert logins and all(window.since <= t <= window.until for t in logins)


def test_an_account_target_beside_a_message_target_of_another_person_does_not_widen_it(
    legal, desk, clock, sender: Sender, platform: DemoPlatform
) -> None:
    post = platform.posting
    second = post.create_account(username="second_one", display_name="T", phone="+33 6 12 00 07 03", country="FR")
    chat = post.create_chat(kind=ChatKind.DIRECT, title="", member_ids=[second.id, sender.account])
    post.post_message(chat_id=chat.id, sender_id=second.id, text="hi", sent_at=START + timedelta(days=2))
    files = _produce(legal, desk, clock, [("message_id", sender.threat), ("account_id", second.id)], ["content"])
    assert [r["message_id"] for r in files[f"data/{sender.account}/content.json"]["records"]] == [sender.threat]
    assert [r["text"] for r in files[f"data/{second.id}/content.json"]["records"]] == ["hi"]


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        (TargetScope(chat_id="not a chat"), "not a chat id"),
        (TargetScope(since=START - timedelta(days=1)), "outside the order's period"),
        (TargetScope(since=START + timedelta(days=5), until=START + timedelta(days=2)), "ends before it starts"),
    ],
)
def test_a_scope_that_would_widen_or_makes_no_sense_is_refused_and_writes_nothing(
    legal, sender: Sender, scope: TargetScope, message: str
) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    submission = Submission(
        instrument="eu_epoc",
        categories=["content"],
        elements=dict(ELEMENTS),
        targets=[("account_id", sender.account, scope)],
        period_start=START,
        period_end=END,
    )
    with pytest.raises(InvalidInput, match=message):
        legal.file(officer_principal(officer), submission)


def test_a_message_target_takes_no_chat_or_window(legal, sender: Sender) -> None:
    officer = legal.officer(legal.agency(), confirmed=True)
    submission = Submission(
        instrument="eu_epoc",
        categories=["content"],
        elements=dict(ELEMENTS),
        targets=[("message_id", sender.threat, TargetScope(chat_id=sender.family))],
    )
    with pytest.raises(InvalidInput, match="that message alone"):
        legal.file(officer_principal(officer), submission)
