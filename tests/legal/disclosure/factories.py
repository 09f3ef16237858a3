"""A small cast for the lawful-request scenarios, on the demo platform: a suspect with group
and secret chats and login sessions, a journalist, and the agencies that ask about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.legal.conftest import LegalFactory, staff_principal
from trustdesk.core.identity.permissions import Principal, PrincipalKind, Role
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.intake import Channel, Submission
from trustdesk.legal.models import Agency, LawfulRequest, Officer
from trustdesk.legal.registry import officer_principal
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.port import ChatKind

PERIOD_START = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD_END = datetime(2026, 3, 28, tzinfo=UTC)


@dataclass(frozen=True)
class Cast:
    suspect: str  # account ids
    journalist: str
    secretive: str  # talks only in secret chats
    bystander: str


def build_cast(platform: DemoPlatform) -> Cast:
    post = platform.posting
    suspect = post.create_account(username="dealer_paris", display_name="Suspect", phone="+33 6 12 00 00 31", country="FR")
    journalist = post.create_account(username="ayse_reports", display_name="Ayşe", phone="+90 532 000 00 01", country="TR")
    secretive = post.create_account(username="quiet_one", display_name="Quiet", phone="+33 6 12 00 00 32", country="FR")
    bystander = post.create_account(username="bystander", display_name="By", phone="+49 151 0000 0031", country="DE")
    group = post.create_chat(kind=ChatKind.GROUP, title="deals", member_ids=[suspect.id, bystander.id])
    direct = post.create_chat(kind=ChatKind.DIRECT, title="", member_ids=[journalist.id, bystander.id])
    secret = post.create_chat(kind=ChatKind.SECRET, title="", member_ids=[secretive.id, bystander.id])
    for day in range(3):
        at = PERIOD_START + timedelta(days=5 + day)
        post.post_message(chat_id=group.id, sender_id=suspect.id, text=f"delivery {day} at the usual place", sent_at=at)
        post.post_message(chat_id=direct.id, sender_id=journalist.id, text=f"draft article {day}", sent_at=at)
        post.post_message(chat_id=secret.id, sender_id=secretive.id, text=f"secret {day}", sent_at=at)
        post.record_login(account_id=suspect.id, ip=f"203.0.113.{day + 1}", port=40000 + day, user_agent="app/1.0", at=at)
        post.record_login(account_id=secretive.id, ip=f"198.51.100.{day + 1}", port=41000 + day, user_agent="app/1.0", at=at)
    return Cast(suspect.id, journalist.id, secretive.id, bystander.id)


@dataclass
class Filed:
    request: LawfulRequest
    agency: Agency
    officer: Officer
    principal: Principal


class Scenarios:
    """Files the requests of the scenarios the way an officer does in the portal."""

    def __init__(self, legal: LegalFactory, cast: Cast) -> None:
        self.legal, self.cast = legal, cast

    def file(
        self,
        *,
        kind: IssuerKind,
        country: str,
        instrument: str,
        categories: list[str],
        elements: dict[str, str],
        account: str,
        confirmed: bool = True,
        **extra: Any,
    ) -> Filed:
        agency = self.legal.agency(kind, country=country)
        officer = self.legal.officer(agency, confirmed=confirmed)
        principal = officer_principal(officer)
        submission = Submission(
            instrument=instrument,
            categories=categories,
            elements=elements,
            targets=[("account_id", account)],
            period_start=extra.pop("period_start", PERIOD_START),
            period_end=extra.pop("period_end", PERIOD_END),
            **extra,
        )
        request = self.legal.file(principal, submission, channel=Channel.PORTAL)
        return Filed(request, agency, officer, principal)

    def french_judge_content_order(self) -> Filed:
        return self.file(
            kind=IssuerKind.INVESTIGATING_JUDGE,
            country="FR",
            instrument="eu_epoc",
            categories=["subscriber", "content"],
            account=self.cast.suspect,
            enforcing_state_notified=True,
            elements={
                "issuing_authority": "Juge d'instruction, Tribunal judiciaire de Paris",
                "case_reference": "JI-2026-0107",
                "offence": "Trafic de stupéfiants en bande organisée (art. 222-37 code pénal)",
                "grounds": "The account arranges deliveries; content identifies the network.",
            },
        )

    def prosecutor_content_order(self) -> Filed:
        return self.file(
            kind=IssuerKind.PROSECUTOR,
            country="FR",
            instrument="eu_epoc",
            categories=["content"],
            account=self.cast.suspect,
            elements={
                "issuing_authority": "Parquet de Paris",
                "case_reference": "P-2026-0033",
                "offence": "Trafic de stupéfiants (art. 222-37 code pénal)",
                "grounds": "Needed for the investigation.",
            },
        )

    def journalist_insult_order(self) -> Filed:
        return self.file(
            kind=IssuerKind.COURT,
            country="TR",
            instrument="national_court_order",
            categories=["subscriber", "content"],
            account=self.cast.journalist,
            elements={
                "legal_basis": "Turkish Penal Code Art. 125(3): insulting public officials",
                "case_reference": "2026/118 Esas",
                "issuing_court": "Ankara 12th Criminal Court of Peace",
            },
        )

    def us_emergency_request(self) -> Filed:
        return self.file(
            kind=IssuerKind.POLICE,
            country="US",
            instrument="us_emergency",
            categories=["subscriber", "identification", "content"],
            account=self.cast.suspect,
            emergency=True,
            confirmed=False,
            elements={
                "emergency_facts": "A hostage is held; the account sent the ransom demand an hour ago.",
                "supervisor": "Lt. Dana Reyes, +1 202 555 0100",
            },
        )

    def french_preservation_order(self) -> Filed:
        return self.file(
            kind=IssuerKind.PROSECUTOR,
            country="FR",
            instrument="eu_epoc_pr",
            categories=["traffic", "content"],
            account=self.cast.suspect,
            elements={
                "issuing_authority": "Parquet de Paris",
                "case_reference": "P-2026-0090",
                "offence": "Trafic de stupéfiants (art. 222-37 code pénal)",
            },
        )

    def us_non_disclosure_order(self, *, account: str, end_date: str) -> Filed:
        return self.file(
            kind=IssuerKind.COURT,
            country="US",
            instrument="us_2705b_ndo",
            categories=[],
            account=account,
            elements={"case_reference": "1:26-mj-00417", "end_date": end_date},
        )

    def secret_chat_content_order(self) -> Filed:
        return self.file(
            kind=IssuerKind.INVESTIGATING_JUDGE,
            country="FR",
            instrument="eu_epoc",
            categories=["content"],
            account=self.cast.secretive,
            elements={
                "issuing_authority": "Juge d'instruction, TJ Lyon",
                "case_reference": "JI-2026-0200",
                "offence": "Escroquerie en bande organisée (art. 313-2 code pénal)",
                "grounds": "Messages of the suspect.",
            },
        )


def legal_staff(name: str = "lena", user_id: int = 1) -> Principal:
    base = staff_principal(Role.LEGAL_OFFICER)
    return Principal(kind=PrincipalKind.STAFF, id=user_id, name=name, permissions=base.permissions, roles=base.roles)
