"""The legal team's desk in tests: each step one transaction, as the console does it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import TEST_ACTOR
from tests.legal.disclosure.factories import legal_staff
from trustdesk.core.blobs import BlobStore
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Principal
from trustdesk.legal import service as legal_requests
from trustdesk.legal.disclosure import delivery, service
from trustdesk.legal.disclosure.delivery import Opened
from trustdesk.legal.disclosure.models import Disclosure, DisclosurePackage
from trustdesk.legal.policy import service as policy
from trustdesk.legal.policy.models import PolicyDecision
from trustdesk.legal.signing import ProviderKey, load_or_create
from trustdesk.platform.demo.adapter import DemoPlatform

LENA = legal_staff("lena", 1)
MAX = legal_staff("max", 2)
NOOR = legal_staff("noor", 3)


class Desk:
    def __init__(self, db: Database, clock: FrozenClock, platform: DemoPlatform, data_dir: Path, blobs: BlobStore) -> None:
        self.db, self.clock, self.platform, self.data_dir, self.blobs = db, clock, platform, data_dir, blobs
        self.key: ProviderKey = load_or_create(data_dir)

    def decide(self, request_id: int, by: Principal = LENA) -> PolicyDecision:
        with self.db.transaction() as session:
            return policy.propose_decision(
                session, actor=TEST_ACTOR, clock=self.clock, principal=by, platform=self.platform, request_id=request_id
            )

    def adopt(self, decision: PolicyDecision, by: Principal = LENA) -> None:
        with self.db.transaction() as session:
            policy.adopt(session, actor=TEST_ACTOR, clock=self.clock, principal=by, decision_id=decision.id)

    def call_back(self, request_id: int, by: Principal = LENA) -> None:
        with self.db.transaction() as session:
            legal_requests.record_callback(
                session,
                actor=TEST_ACTOR,
                clock=self.clock,
                principal=by,
                request_id=request_id,
                spoke_to="Duty sergeant",
                outcome="confirmed",
            )

    def prepare(self, request_id: int, by: Principal = LENA) -> Disclosure:
        with self.db.transaction() as session:
            return service.prepare(session, actor=TEST_ACTOR, clock=self.clock, principal=by, request_id=request_id)

    def approve(self, disclosure: Disclosure, by: Principal = MAX) -> Disclosure:
        with self.db.transaction() as session:
            return service.approve(session, actor=TEST_ACTOR, clock=self.clock, principal=by, disclosure_id=disclosure.id)

    def widen(
        self, disclosure: Disclosure, categories: list[str], by: Principal = MAX, note: str = "the victim's last messages"
    ) -> Disclosure:
        with self.db.transaction() as session:
            return service.widen(
                session,
                actor=TEST_ACTOR,
                clock=self.clock,
                principal=by,
                disclosure_id=disclosure.id,
                categories=categories,
                note=note,
            )

    def package(self, disclosure: Disclosure, by: Principal = LENA) -> tuple[DisclosurePackage, str]:
        with self.db.transaction() as session:
            return service.package(
                session,
                actor=TEST_ACTOR,
                clock=self.clock,
                principal=by,
                platform=self.platform,
                key=self.key,
                blobs=self.blobs,
                disclosure_id=disclosure.id,
            )

    def download(self, principal: Principal | None, secret: str) -> Opened:
        with self.db.transaction() as session:
            return delivery.open_package(
                session,
                actor=TEST_ACTOR,
                clock=self.clock,
                principal=principal,
                secret=secret,
                blobs=self.blobs,
                data_dir=self.data_dir,
            )

    def through_approval(self, request_id: int) -> Disclosure:
        """Decide, adopt, prepare (Lena) and approve (Max)."""
        self.adopt(self.decide(request_id))
        return self.approve(self.prepare(request_id))
