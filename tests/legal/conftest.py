"""Fixtures of the lawful-request tests: registered agencies and officers, the callers'
principals, a small platform world, and a helper that files a request the way intake does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.conftest import PASSWORD, TEST_ACTOR
from trustdesk.core.blobs import BlobStore, InMemoryBlobStore, LocalBlobStore
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Principal, PrincipalKind, Role, permissions_for
from trustdesk.legal import registry
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.intake import Channel, Submission, submit_request
from trustdesk.legal.models import Agency, LawfulRequest, Officer
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.port import ChatKind

EPOC_ELEMENTS = {
    "issuing_authority": "Juge d'instruction, TJ Paris",
    "case_reference": "JI-2026-0042",
    "offence": "Extortion (art. 312-1 code pénal)",
    "grounds": "The account sent the threats; subscriber data identify the author.",
}


@dataclass(frozen=True)
class World:
    account_id: str
    username: str
    phone: str
    message_id: str


@pytest.fixture
def world(platform: DemoPlatform, clock: FrozenClock) -> World:
    post = platform.posting
    suspect = post.create_account(username="Suspect_One", display_name="Suspect", phone="+33 6 12 00 00 09", country="FR")
    other = post.create_account(username="someone_else", display_name="Other", phone="+49 151 0000 0002", country="DE")
    chat = post.create_chat(kind=ChatKind.GROUP, title="g", member_ids=[suspect.id, other.id])
    message = post.post_message(chat_id=chat.id, sender_id=suspect.id, text="threat", sent_at=clock.now() - timedelta(days=1))
    return World(account_id=suspect.id, username="Suspect_One", phone="+33612000009", message_id=message.id)


def staff_principal(*roles: Role) -> Principal:
    roles_ = frozenset(roles or (Role.LEGAL_OFFICER,))
    return Principal(kind=PrincipalKind.STAFF, id=1, name="lena", permissions=permissions_for(roles_), roles=roles_)


class LegalFactory:
    def __init__(self, db: Database, clock: FrozenClock, platform: DemoPlatform, data_dir: Path, blobs: BlobStore) -> None:
        self.db, self.clock, self.platform, self.data_dir, self.blobs = db, clock, platform, data_dir, blobs
        self.seq = count(1)

    def agency(
        self, kind: IssuerKind = IssuerKind.INVESTIGATING_JUDGE, *, country: str = "FR", domain: str | None = None
    ) -> Agency:
        n = next(self.seq)
        with self.db.transaction() as session:
            return registry.create_agency(
                session,
                actor=TEST_ACTOR,
                clock=self.clock,
                code=f"agency-{n}",
                name=f"Agency {n}",
                country=country,
                kind=kind,
                email_domains=[domain or f"agency{n}.justice.invalid"],
                callback_phone="+33 1 99 00 01 01",
                callback_source="test registry",
            )

    def officer(self, agency: Agency, *, verified: bool = True, confirmed: bool = False) -> Officer:
        n = next(self.seq)
        with self.db.transaction() as session:
            officer = registry.register_officer(
                session,
                actor=TEST_ACTOR,
                clock=self.clock,
                agency_code=agency.code,
                name=f"Officer {n}",
                rank="Judge",
                email=f"officer{n}@{agency.email_domains[0]}",
                supervisor="Chief, +33 1 99 00 01 02",
                password=PASSWORD,
                verified=verified,
            )
            if confirmed:
                officer.confirmed_at = self.clock.now()
            return officer

    def code(self, officer: Officer, *, step_offset: int = 0) -> str:
        totp = pyotp.TOTP(officer.totp_secret)
        return totp.generate_otp(totp.timecode(self.clock.now()) + step_offset)

    def submission(self, world: World, **overrides: Any) -> Submission:
        values: dict[str, Any] = {
            "instrument": "eu_epoc",
            "categories": ["subscriber"],
            "elements": dict(EPOC_ELEMENTS),
            "targets": [("username", world.username)],
        }
        return Submission(**{**values, **overrides})

    def file(
        self, principal: Principal, submission: Submission, *, channel: Channel = Channel.PORTAL, agency_id: int | None = None
    ) -> LawfulRequest:
        with self.db.transaction() as session:
            return submit_request(
                session,
                actor=TEST_ACTOR,
                clock=self.clock,
                platform=self.platform,
                blobs=self.blobs,
                principal=principal,
                submission=submission,
                channel=channel,
                agency_id=agency_id,
            )


@pytest.fixture(params=["local", "memory"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Packages and attachments go to each blob store the container may hold."""
    return LocalBlobStore(tmp_path / "blobs") if request.param == "local" else InMemoryBlobStore()


@pytest.fixture
def legal(db: Database, clock: FrozenClock, platform: DemoPlatform, tmp_path: Path, blobs: BlobStore) -> LegalFactory:
    return LegalFactory(db, clock, platform, tmp_path, blobs)
