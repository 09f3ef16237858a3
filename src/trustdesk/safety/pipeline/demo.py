"""Demo data for the pipeline: the demo platform's scripted messages (the drug seller, the
extortionist, the propaganda channel and its re-shared poster) replayed through the rules,
so that a fresh `make run` shows rule hits, cases and labels on the console.

The events go through the same handler as live traffic (rules, effects, audit), with ids
derived from the message ids, so loading the demo twice changes nothing."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from trustdesk.core.audit import Actor
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.platform.port import Message
from trustdesk.safety.pipeline.events import EVENT, Event
from trustdesk.safety.pipeline.handling import Received
from trustdesk.safety.pipeline.runtime import runtime_for
from trustdesk.safety.review.service import ensure_queues
from trustdesk.safety.signals.hashing import hash_media


def load_demo_pipeline(container: Any, *, actor: Actor) -> int:
    """Replay the demo's scripted messages; returns how many events were newly handled."""
    platform: DemoPlatform = container.platform
    cast = seed_demo(platform)
    with container.db.transaction() as session:
        ensure_queues(session, actor=actor, clock=container.clock)
    events = [demo_event(platform, platform.get_message(message_id)) for message_id in cast.messages.values()]
    # The demo's scripted messages meet the shipped example rules as if those were promoted, so
    # that a fresh install shows cases and labels; live traffic goes through the promotion gate.
    handler = replace(runtime_for(container).handler, gate=None)
    result = handler.handle([Received(e, e.model_dump_json()) for e in events])
    return len(result.handled)


def demo_event(platform: DemoPlatform, message: Message) -> Event:
    """A message as the platform's connector would send it, with its media's hashes."""
    media = []
    for item in message.media:
        _, data = platform.get_media(item.id)
        hashes = hash_media(data)
        media.append(
            {
                "media_id": item.id,
                "content_type": item.content_type,
                "pdq": hashes.pdq,
                "md5": hashlib.md5(data).hexdigest(),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )  # noqa: S324 - a bank digest
    return EVENT.validate_python(
        {
            "id": f"demo:{message.id}",
            "platform": platform.name,
            "kind": "message",
            "occurred_at": message.sent_at.isoformat(),
            "actor": message.sender_id,
            "message": message.id,
            "chat": message.chat_id,
            "chat_kind": str(platform.get_chat(message.chat_id).kind),
            "text": message.text,
            "media": media,
        }
    )
