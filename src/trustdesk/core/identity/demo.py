"""Demo staff for `make run`: one account per role, with fixed TOTP secrets so that a newcomer
can sign in (the codes are printed by `trustdesk demo codes`). Refused in production."""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.identity import service
from trustdesk.core.identity.models import StaffUser
from trustdesk.core.identity.permissions import Role

DEMO_PASSWORD = "trustdesk-demo-2026"


@dataclass(frozen=True)
class DemoStaff:
    username: str
    name: str
    roles: tuple[Role, ...]
    totp_secret: str


DEMO_STAFF = [
    DemoStaff("admin", "Ada Admin", (Role.ADMIN, Role.AUDITOR), "JBSWY3DPEHPK3PXPADMINAAAAAAAAAAA"),
    DemoStaff("legal", "Lena Legal", (Role.LEGAL_OFFICER,), "JBSWY3DPEHPK3PXPLEGALAAAAAAAAAAA"),
    DemoStaff("legal2", "Leo Legal", (Role.LEGAL_OFFICER,), "JBSWY3DPEHPK3PXPLEGALBBBBBBBBBBB"),
    DemoStaff("reviewer", "Rita Reviewer", (Role.REVIEWER,), "JBSWY3DPEHPK3PXPREVIEWAAAAAAAAAA"),
    DemoStaff("reviewer2", "Ravi Reviewer", (Role.REVIEWER,), "JBSWY3DPEHPK3PXPREVIEWBBBBBBBBBB"),
    DemoStaff("senior", "Sena Senior", (Role.SENIOR_REVIEWER,), "JBSWY3DPEHPK3PXPSENIORAAAAAAAAAA"),
    DemoStaff("triage", "Tom Triage", (Role.TRIAGE,), "JBSWY3DPEHPK3PXPTRIAGEAAAAAAAAAA"),
    DemoStaff("auditor", "Aude Auditor", (Role.AUDITOR,), "JBSWY3DPEHPK3PXPAUDITORAAAAAAAAA"),
    DemoStaff("oncall", "Omar On-call", (Role.ON_CALL, Role.LEGAL_OFFICER), "JBSWY3DPEHPK3PXPONCALLAAAAAAAAAA"),
]


def ensure_demo_staff(session: Session, *, clock: Clock, actor: Actor) -> list[str]:
    """Create the demo accounts that do not exist yet; returns the names created."""
    existing = set(session.scalars(select(StaffUser.username)))
    created = []
    for staff in DEMO_STAFF:
        if staff.username in existing:
            continue
        service.create_user(
            session,
            actor=actor,
            clock=clock,
            username=staff.username,
            display_name=staff.name,
            email=f"{staff.username}@demo.trustdesk.invalid",
            password=DEMO_PASSWORD,
            roles=list(staff.roles),
            totp_secret=staff.totp_secret,
            is_demo=True,
        )
        created.append(staff.username)
    return created


def current_code(staff: DemoStaff, clock: Clock) -> str:
    return pyotp.TOTP(staff.totp_secret).at(clock.now())
