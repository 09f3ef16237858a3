"""Demo authorities and officers for `make run`, from `data/demo_agencies.toml`. Refused in
production by the CLI; idempotent, so `trustdesk demo load` can run twice."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.identity.demo import DEMO_PASSWORD
from trustdesk.legal import registry
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.models import Agency, Officer, OfficerState

DEMO_FILE = Path(__file__).parent / "data" / "demo_agencies.toml"


@dataclass(frozen=True)
class DemoOfficer:
    email: str
    name: str
    agency: str
    state: str
    totp_secret: str

    def code(self, clock: Clock) -> str:
        return pyotp.TOTP(self.totp_secret).at(clock.now())


def _data() -> dict[str, Any]:
    with DEMO_FILE.open("rb") as fh:
        return tomllib.load(fh)


def demo_officers() -> list[DemoOfficer]:
    return [DemoOfficer(o["email"], o["name"], o["agency"], o["state"], o["totp_secret"]) for o in _data()["officers"]]


def ensure_demo_agencies(session: Session, *, clock: Clock, actor: Actor) -> tuple[int, int]:
    """Create the demo agencies and officers that do not exist yet; returns how many."""
    data = _data()
    codes = set(session.scalars(select(Agency.code)))
    agencies = 0
    for raw in data["agencies"]:
        if raw["code"] not in codes:
            registry.create_agency(
                session,
                actor=actor,
                clock=clock,
                code=raw["code"],
                name=raw["name"],
                country=raw["country"],
                kind=IssuerKind(raw["kind"]),
                email_domains=raw["email_domains"],
                callback_phone=raw["callback_phone"],
                callback_source=raw["callback_source"],
                language=raw["language"],
                parent_code=raw.get("parent"),
                is_demo=True,
            )
            agencies += 1
    emails = set(session.scalars(select(Officer.email)))
    officers = 0
    for raw in data["officers"]:
        if raw["email"] not in emails:
            _officer(session, clock=clock, actor=actor, raw=raw)
            officers += 1
    return agencies, officers


def _officer(session: Session, *, clock: Clock, actor: Actor, raw: dict[str, Any]) -> None:
    officer = registry.register_officer(
        session,
        actor=actor,
        clock=clock,
        agency_code=raw["agency"],
        name=raw["name"],
        rank=raw["rank"],
        email=raw["email"],
        supervisor=raw["supervisor"],
        password=DEMO_PASSWORD,
        totp_secret=raw["totp_secret"],
        verified=raw["state"] == "verified",
        is_demo=True,
    )
    if raw["state"] == "blocked":
        registry.set_officer_state(
            session, actor=actor, clock=clock, officer_id=officer.id, state=OfficerState.BLOCKED, reason=raw["state_reason"]
        )
