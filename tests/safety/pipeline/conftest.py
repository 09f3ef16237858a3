"""Pipeline fixtures: a rules directory, a demo world with a message to moderate, a handler
and an in-process worker on the test's rolled-back database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from trustdesk.core.audit import Actor
from trustdesk.core.bus import InProcessBus
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.platform.demo import imagery
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.port import ChatKind, Message
from trustdesk.safety.pipeline.handling import Handler
from trustdesk.safety.pipeline.hashes import InMemoryHashMatcher
from trustdesk.safety.pipeline.worker import Worker
from trustdesk.safety.review.service import ensure_queues
from trustdesk.safety.rules.book import RuleBook
from trustdesk.safety.signals.hashing import hash_media

RULES = """ruleset "test" version 7
list drugs = ["mdma", "cocaine", "pills for sale"]

rule known_csam {
  version 3
  description "Verified CSAM bank match"
  when event.kind in ["message", "media"] and hash_match("csam_verified")
  then take_action(action="remove_message", policy="child_sexual_exploitation"), open_case(queue="child_safety", priority=100), verdict("csam")
}

rule drug_offer {
  version 5
  description "Drug offers go to review"
  when event.kind == "message" and contains_any(event.text, drugs) and not has_label(event.actor, "trusted_pharmacist")
  then open_case(queue="illegal_goods", priority=40), add_label(event.actor, "drug_offer", expires=1d), verdict("drugs")
}

rule flood {
  version 1
  mode shadow
  when event.kind == "message" and count("message", event.actor, 1m) > 3
  then add_label(event.actor, "flooding", expires=1h), open_case(queue="abuse", priority=10)
}

rule flood_alert {
  version 1
  when event.kind == "message" and count("message", event.actor, 1m) == 6
  then alert(role="on_call", message="message flood")
}
"""
TEST_ACTOR = Actor("test", "pytest")


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "test.rules").write_text(RULES, encoding="utf-8")
    return directory


@pytest.fixture
def platform(clock: FrozenClock) -> DemoPlatform:
    """The demo platform on the test's clock, so its dates and the statements' agree."""
    return DemoPlatform.from_url("sqlite://", clock=clock)


@dataclass
class DemoWorld:
    platform: DemoPlatform
    sender: str
    chat: str
    poster_pdq: str

    def post(self, text: str | None, *, media: bool = False) -> Message:
        uploads = [imagery.poster_original()] if media else None
        return self.platform.posting.post_message(chat_id=self.chat, sender_id=self.sender, text=text, media=uploads)


@pytest.fixture
def world(platform: DemoPlatform) -> DemoWorld:
    alice = platform.posting.create_account(username="alice_demo", display_name="Alice")
    bob = platform.posting.create_account(username="bob_demo", display_name="Bob")
    chat = platform.posting.create_chat(kind=ChatKind.GROUP, title="Neighbours", member_ids=[bob.id, alice.id])
    _, data = imagery.poster_original()
    return DemoWorld(platform, bob.id, chat.id, hash_media(data).pdq)


@pytest.fixture
def matcher(world: DemoWorld) -> InMemoryHashMatcher:
    bank = InMemoryHashMatcher()
    bank.add_pdq("csam_verified", [("entry-1", world.poster_pdq)])
    return bank


@pytest.fixture
def handler(db: Database, clock: FrozenClock, platform: DemoPlatform, rules_dir: Path, matcher: InMemoryHashMatcher) -> Handler:
    with db.transaction() as session:
        ensure_queues(session, actor=TEST_ACTOR, clock=clock)
    return Handler(db=db, clock=clock, book=RuleBook(rules_dir, check_every=0), platform=platform, hashes=matcher, worker="test")


@pytest.fixture
def bus() -> InProcessBus:
    return InProcessBus(prefix="test")


@pytest.fixture
def worker(bus: InProcessBus, handler: Handler) -> Worker:
    return Worker(bus, handler, batch=100, threaded=False, retry_delay=0)


def message_event(
    message: Message, *, at: datetime, event_id: str | None = None, pdq: str | None = None, **overrides: Any
) -> dict[str, Any]:
    body = {
        "id": event_id or f"msg:{message.id}",
        "kind": "message",
        "occurred_at": at.isoformat(),
        "actor": message.sender_id,
        "message": message.id,
        "chat": message.chat_id,
        "chat_kind": "group",
        "text": message.text,
        "media": [{"media_id": m.id, "sha256": m.sha256, "pdq": pdq} for m in message.media],
    }
    return {**body, **overrides}


def as_bytes(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()
