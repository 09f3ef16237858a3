"""Fixtures of the e-Evidence tests: two WISP identities (Ireland and the Netherlands), the
processing context, and `wisp.send(endpoint, body)` that runs the inbox as the listener does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from trustdesk.core.blobs import InMemoryBlobStore
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.legal.eevidence import inbox
from trustdesk.legal.eevidence.identities import Identities, WispIdentity
from trustdesk.legal.eevidence.models import Endpoint, Order
from trustdesk.legal.eevidence.service import Context
from trustdesk.legal.models import LawfulRequest
from trustdesk.platform.demo.adapter import DemoPlatform

IE_PRINT = "aa" * 32
NL_PRINT = "bb" * 32
IDENTITIES = [
    {
        "id": "ie-dublin",
        "member_state": "IE",
        "receiver_id": "CSP-IE-1",
        "wisp_base_url": "https://wisp.ie.invalid/api",
        "wisp_client_cert_sha256": [IE_PRINT],
        "languages": ["en", "ga"],
    },
    {
        "id": "nl-amsterdam",
        "member_state": "NL",
        "receiver_id": "CSP-NL-1",
        "wisp_base_url": "https://wisp.nl.invalid/api",
        "wisp_client_cert_sha256": [NL_PRINT],
        "languages": ["nl", "en"],
    },
]


@dataclass
class Wisp:
    db: Database
    ctx: Context
    identities: Identities

    @property
    def ie(self) -> WispIdentity:
        return self.identities.get("ie-dublin")

    def send(self, endpoint: str, body: bytes, *, identity: WispIdentity | None = None) -> inbox.Answer:
        return inbox.receive(self.db, ctx=self.ctx, identity=identity or self.ie, endpoint=Endpoint(endpoint), body=body)

    def problem(self, answer: inbox.Answer) -> dict[str, Any]:
        assert answer.media_type == "application/problem+json", answer.body[:300]
        return json.loads(answer.body)

    def order(self, auth_id: str) -> tuple[Order, LawfulRequest]:
        with self.db.read() as session:
            order = session.scalar(select(Order).where(Order.authorisation_id == auth_id))
            assert order is not None
            request = session.get(LawfulRequest, order.request_id)
            assert request is not None
            return order, request


@pytest.fixture
def identities() -> Identities:
    return Identities.from_settings(IDENTITIES)


@pytest.fixture
def wisp(db: Database, clock: FrozenClock, platform: DemoPlatform, identities: Identities) -> Wisp:
    post = platform.posting
    post.create_account(username="Suspect_One", display_name="Suspect", phone="+33 6 12 00 00 09", country="FR")
    ctx = Context(clock=clock, platform=platform, blobs=InMemoryBlobStore(), identities=identities)
    return Wisp(db, ctx, identities)
