"""Seeding known activity through the real services of the legal and safety domains: agencies
file requests that staff move along the workflow, people and trusted flaggers send notices
that reviewers decide, tools act and users appeal. The scenario tests then know every
figure the reports must show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.blobs import BlobStore, InMemoryBlobStore
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Permission, Principal, PrincipalKind, Role, permissions_for
from trustdesk.legal import registry
from trustdesk.legal import service as requests
from trustdesk.legal.disclosure import service as disclosure
from trustdesk.legal.instruments import IssuerKind, RefusalReason
from trustdesk.legal.intake import Channel, Submission, submit_request
from trustdesk.legal.models import Agency, LawfulRequest, RequestState
from trustdesk.legal.policy import service as policy_service
from trustdesk.legal.signing import load_or_create
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.port import ChatKind
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement.models import EnforcementAction
from trustdesk.safety.reports import service as notices
from trustdesk.safety.reports.models import Notice, TrustedFlagger
from trustdesk.safety.review import appeals, decisions
from trustdesk.safety.review import service as review
from trustdesk.safety.review.models import Appeal, Case, Decision

ACTOR = Actor("test", "pytest")
STAFF = Actor("staff", "lena")
REVIEWER = Actor("staff", "rita")
APPEALS = Actor("staff", "arne")
TOOL = Actor("rule", "hash-bank")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

ELEMENTS = {
    "eu_epoc": {"issuing_authority": "TJ Paris", "case_reference": "JI-1", "offence": "Extortion", "grounds": "Threats sent"},
    "eu_epoc_pr": {"issuing_authority": "TJ Paris", "case_reference": "JI-2", "offence": "Extortion"},
    "us_subpoena": {"case_reference": "GJ-2026-7"},
    "mlat_cloud": {"treaty": "MLAT Brazil-France", "central_authority": "Ministério da Justiça", "case_reference": "MLA-9"},
    "us_2705b_ndo": {"case_reference": "GJ-2026-8", "end_date": "2027-01-01"},
    "dsa_art9": {
        "legal_basis": "DSA Art. 9; national fraud law",
        "reasons": "Scam offer",
        "issuing_authority": "Regulator",
        "redress": "Appeal to the administrative court",
        "territorial_scope": "DE",
    },
    "dsa_art10": {"legal_basis": "DSA Art. 10", "reasons": "Identify seller", "issuing_authority": "Police", "redress": "Court"},
    "tco_removal": {"issuing_authority": "OCLCTIC", "reasons": "Terrorist propaganda", "redress": "Tribunal administratif"},
}


def principal(*roles: Role, name: str = "lena") -> Principal:
    granted = frozenset(roles)
    return Principal(kind=PrincipalKind.STAFF, id=1, name=name, permissions=permissions_for(granted), roles=granted)


@dataclass
class Seeder:
    session: Session
    clock: FrozenClock
    platform: DemoPlatform
    data_dir: Path
    blobs: BlobStore = field(default_factory=InMemoryBlobStore)
    seq: Iterator[int] = field(default_factory=lambda: count(1))
    legal_staff: Principal = field(default_factory=lambda: principal(Role.LEGAL_OFFICER))
    second_officer: Principal = field(default_factory=lambda: replace(principal(Role.LEGAL_OFFICER, name="max"), id=2))
    reviewer: Principal = field(default_factory=lambda: principal(Role.ADMIN, Role.REVIEWER, name="rita"))
    appeals_reviewer: Principal = field(default_factory=lambda: principal(Role.ADMIN, Role.REVIEWER, name="arne"))

    def at(self, moment: datetime) -> None:
        self.clock.at = moment

    # -- the platform --------------------------------------------------------------------------

    def account(self, country: str = "DE") -> str:
        n = next(self.seq)
        return self.platform.posting.create_account(
            username=f"user_{n}", display_name=f"User {n}", phone=f"+49151000{n:05d}", country=country
        ).id

    def message(self, country: str = "DE") -> str:
        sender = self.account(country)
        chat = self.platform.posting.create_chat(kind=ChatKind.GROUP, title=f"chat {next(self.seq)}", member_ids=[sender])
        return self.platform.posting.post_message(
            chat_id=chat.id, sender_id=sender, text="content", sent_at=self.clock.now() - timedelta(hours=1)
        ).id

    # -- lawful requests -----------------------------------------------------------------------

    def agency(self, country: str, kind: IssuerKind) -> Agency:
        n = next(self.seq)
        return registry.create_agency(
            self.session,
            actor=ACTOR,
            clock=self.clock,
            code=f"agency-{n}",
            name=f"Agency {n}",
            country=country,
            kind=kind,
            email_domains=[f"a{n}.gov.invalid"],
            callback_phone="+33 1 99 00 01 01",
            callback_source="test registry",
        )

    def request(
        self,
        agency: Agency,
        instrument: str,
        *,
        at: datetime,
        targets: list[tuple[str | None, str]],
        emergency: bool = False,
        channel: Channel = Channel.API,
        categories: tuple[str, ...] = ("subscriber",),
    ) -> LawfulRequest:
        self.at(at)
        submission = Submission(
            instrument=instrument,
            categories=list(categories),
            elements=dict(ELEMENTS[instrument]),
            targets=targets,
            emergency=emergency,
        )
        if channel is Channel.STAFF:
            filer, agency_id = self.legal_staff, agency.id
        else:
            filer = Principal(
                kind=PrincipalKind.TOKEN,
                id=900 + agency.id,
                name=f"agency-token-{agency.id}",
                permissions=frozenset({Permission.PORTAL_SUBMIT}),
                agency_id=agency.id,
            )
            agency_id = None
        request = submit_request(
            self.session,
            actor=ACTOR,
            clock=self.clock,
            platform=self.platform,
            blobs=self.blobs,
            principal=filer,
            submission=submission,
            channel=channel,
            agency_id=agency_id,
        )
        if request.held:  # staff call the agency back on its registered number, as they must
            self.confirm_by_phone(request)
        return request

    def officer_request(
        self, agency: Agency, instrument: str, *, at: datetime, targets: list[tuple[str | None, str]]
    ) -> LawfulRequest:
        """Filed in the portal by a verified officer, so that a package can be delivered to them."""
        self.at(at)
        n = next(self.seq)
        officer = registry.register_officer(
            self.session,
            actor=ACTOR,
            clock=self.clock,
            agency_code=agency.code,
            name=f"Officer {n}",
            rank="Judge",
            email=f"officer{n}@{agency.email_domains[0]}",
            supervisor="Chief, +33 1 99 00 01 02",
            password="correct horse battery staple",
            verified=True,
        )
        submission = Submission(
            instrument=instrument, categories=["subscriber"], elements=dict(ELEMENTS[instrument]), targets=targets
        )
        request = submit_request(
            self.session,
            actor=ACTOR,
            clock=self.clock,
            platform=self.platform,
            blobs=self.blobs,
            principal=registry.officer_principal(officer),
            submission=submission,
            channel=Channel.PORTAL,
        )
        if request.held:
            self.confirm_by_phone(request)
        return request

    def produce(self, request: LawfulRequest, *, at: datetime) -> None:
        """The disclosure path of the lawful-request domain: policy decision adopted, disclosure
        prepared and approved by two legal officers, signed package delivered (the answer) at `at`."""
        self.at(at - timedelta(minutes=2))
        decision = policy_service.propose_decision(
            self.session, actor=STAFF, clock=self.clock, principal=self.legal_staff, platform=self.platform, request_id=request.id
        )
        policy_service.adopt(self.session, actor=STAFF, clock=self.clock, principal=self.legal_staff, decision_id=decision.id)
        prepared = disclosure.prepare(
            self.session, actor=STAFF, clock=self.clock, principal=self.legal_staff, request_id=request.id
        )
        disclosure.approve(
            self.session, actor=Actor("staff", "max"), clock=self.clock, principal=self.second_officer, disclosure_id=prepared.id
        )
        self.at(at)
        disclosure.package(
            self.session,
            actor=STAFF,
            clock=self.clock,
            principal=self.legal_staff,
            platform=self.platform,
            key=load_or_create(self.data_dir),
            blobs=self.blobs,
            disclosure_id=prepared.id,
        )

    def move(self, request: LawfulRequest, *states: RequestState, at: datetime, refusal: RefusalReason | None = None) -> None:
        """Walk the request through `states`, the last one at `at`, the others a minute apart before it."""
        for i, state in enumerate(states):
            self.at(at - timedelta(minutes=len(states) - 1 - i))
            requests.transition(
                self.session,
                actor=STAFF,
                clock=self.clock,
                principal=self.legal_staff,
                request_id=request.id,
                to_state=state,
                reason=f"test: {state}",
                refusal_reason=refusal if state is RequestState.REFUSED else None,
            )

    def answer(self, request: LawfulRequest, *, at: datetime, final: RequestState = RequestState.ANSWERED) -> None:
        self.move(request, RequestState.VERIFIED, RequestState.UNDER_REVIEW, RequestState.APPROVED, final, at=at)

    def confirm_by_phone(self, request: LawfulRequest) -> None:
        requests.record_callback(
            self.session,
            actor=STAFF,
            clock=self.clock,
            principal=self.legal_staff,
            request_id=request.id,
            spoke_to="Duty officer",
            outcome="confirmed",
        )

    def message_authority(self, request: LawfulRequest, *, at: datetime) -> None:
        self.at(at)
        requests.post_message(
            self.session, actor=STAFF, clock=self.clock, principal=self.legal_staff, request_id=request.id, body="Received."
        )

    # -- safety --------------------------------------------------------------------------------

    def flagger(self, *fields: str) -> TrustedFlagger:
        return notices.register_trusted_flagger(
            self.session,
            actor=ACTOR,
            clock=self.clock,
            organisation=f"Flagger {next(self.seq)}",
            fields=list(fields),
            email="desk@flagger.invalid",
            awarded_by="Bundesnetzagentur",
        )

    def notice(self, reason: str, *, at: datetime, flagger: TrustedFlagger | None = None) -> Notice:
        self.at(at)
        return notices.submit_notice(
            self.session,
            actor=ACTOR,
            clock=self.clock,
            platform=self.platform,
            reason=reason,
            subject_kind="message",
            subject_id=self.message(),
            explanation="This is illegal.",
            good_faith=True,
            notifier_name="Nina",
            notifier_email="nina@example.org",
            flagger=flagger,
        )

    def decide(
        self, case_id: int, *, at: datetime, policy: str | None = None, action: str | None = None, legal_ground: str | None = None
    ) -> Decision:
        self.at(at)
        review.claim(self.session, principal=self.reviewer, actor=REVIEWER, clock=self.clock, case_id=case_id)
        plan = decisions.Plan(
            outcome="action" if action else "no_action",
            reason="Decided in the test.",
            policy=policy,
            action=action,
            legal_ground=legal_ground,
        )
        return decisions.decide(
            self.session,
            principal=self.reviewer,
            actor=REVIEWER,
            clock=self.clock,
            platform=self.platform,
            case_id=case_id,
            plan=plan,
        )

    def act(
        self,
        *,
        at: datetime,
        policy: str,
        source: str,
        automated: bool,
        action: str = "remove_message",
        legal_ground: str | None = None,
        rule_ref: str | None = None,
        actor: Actor = TOOL,
    ) -> EnforcementAction:
        self.at(at)
        kind = "account" if action.endswith("_account") else "message"
        subject = self.account() if kind == "account" else self.message()
        return enforcement.take_action(
            self.session,
            actor=actor,
            clock=self.clock,
            platform=self.platform,
            subject_kind=kind,
            subject_id=subject,
            action=action,
            policy=policy,
            automated=automated,
            source=source,
            reason="Breaks the rules.",
            legal_ground=legal_ground,
            rule_ref=rule_ref,
        )

    def tool_case(self, source: str, *, at: datetime) -> Case:
        self.at(at)
        return review.open_case(
            self.session,
            actor=Actor("rule", source),
            clock=self.clock,
            subject_kind="message",
            subject_id=self.message(),
            queue="general",
            priority=10,
            source=source,
            reason=f"{source} hit",
            rule_ref=f"{source}:1",
        )

    def appeal(self, action: EnforcementAction, *, at: datetime) -> Appeal:
        self.at(at)
        assert action.statement is not None
        return appeals.file_appeal(self.session, clock=self.clock, token=action.statement.token, text="This was wrong.")

    def decide_appeal(self, appeal: Appeal, outcome: str, *, at: datetime) -> None:
        self.at(at)
        appeals.decide_appeal(
            self.session,
            principal=self.appeals_reviewer,
            actor=APPEALS,
            clock=self.clock,
            platform=self.platform,
            appeal_id=appeal.id,
            outcome=outcome,
            reason="Looked again.",
        )


@pytest.fixture
def transparency_platform(clock: FrozenClock) -> DemoPlatform:
    return DemoPlatform.from_url("sqlite://", clock=clock)


@pytest.fixture
def seed(db: Database, clock: FrozenClock, transparency_platform: DemoPlatform, tmp_path: Path) -> Iterator[Seeder]:
    clock.at = START
    with db.transaction() as session:
        review.ensure_queues(session, actor=ACTOR, clock=clock)
        yield Seeder(session=session, clock=clock, platform=transparency_platform, data_dir=tmp_path)
