"""Fixtures of the emergency-lane tests: the lawful-request world (agencies, officers, a
message on the demo platform) and a lane with an in-memory pager."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.legal.conftest import LegalFactory, World, legal  # noqa: F401 - fixtures
from trustdesk.core.blobs import BlobStore, InMemoryBlobStore
from trustdesk.core.clock import FrozenClock
from trustdesk.core.paging import InMemoryPager
from trustdesk.emergency.removal import Lane
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.intake import Channel, Submission
from trustdesk.legal.models import LawfulRequest
from trustdesk.legal.registry import officer_principal
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.port import ChatKind

TCO_ELEMENTS = {
    "issuing_authority": "Office anti-cybercriminalité (OFAC), signed electronically",
    "reasons": "The message glorifies the attack of 3 March and calls for further attacks (Art. 2(7)(a) and (c)).",
    "redress": "Administrative court of Paris, within two months.",
}


@pytest.fixture
def blobs() -> BlobStore:
    """The lane does not store files: one blob store is enough (tests/legal runs both)."""
    return InMemoryBlobStore()


@pytest.fixture
def world(platform: DemoPlatform, clock: FrozenClock) -> World:
    """A poster and a reader in a group; accounts made before the frozen clock's now, as
    real accounts are (a statement of reasons refuses content dated after the decision)."""
    post, before = platform.posting, clock.now() - timedelta(days=30)
    poster = post.create_account(
        username="Poster_One", display_name="Poster", phone="+33 6 12 00 00 09", country="FR", created_at=before
    )
    reader = post.create_account(
        username="reader_two", display_name="Reader", phone="+49 151 0000 0002", country="DE", created_at=before
    )
    chat = post.create_chat(kind=ChatKind.GROUP, title="g", member_ids=[poster.id, reader.id])
    message = post.post_message(chat_id=chat.id, sender_id=poster.id, text="threat", sent_at=clock.now() - timedelta(days=1))
    return World(account_id=poster.id, username="Poster_One", phone="+33612000009", message_id=message.id)


@pytest.fixture
def pager() -> InMemoryPager:
    return InMemoryPager()


@pytest.fixture
def lane(platform: DemoPlatform, clock: FrozenClock, pager: InMemoryPager) -> Lane:
    return Lane(platform=platform, clock=clock, pager=pager, base_url="https://td.test")


def tco(world: World, **overrides: Any) -> Submission:
    values: dict[str, Any] = {
        "instrument": "tco_removal",
        "categories": [],
        "elements": dict(TCO_ELEMENTS),
        "targets": [("message_id", world.message_id)],
    }
    return Submission(**{**values, **overrides})


def file_tco(
    factory: LegalFactory, world: World, *, confirmed: bool = True, channel: Channel = Channel.PORTAL, **overrides: Any
) -> LawfulRequest:
    """A TCO order filed by an officer of a French police agency (confirmed by an earlier
    call-back unless told otherwise), or by staff when the channel is STAFF."""
    agency = factory.agency(IssuerKind.POLICE)
    if channel is Channel.STAFF:
        from tests.legal.conftest import staff_principal

        return factory.file(staff_principal(), tco(world, **overrides), channel=channel, agency_id=agency.id)
    officer = factory.officer(agency, confirmed=confirmed)
    return factory.file(officer_principal(officer), tco(world, **overrides), channel=channel)
