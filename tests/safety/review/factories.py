"""Shared by the review, reports, enforcement and DSA tests: a seeded demo platform, the
review queues, reviewers in queues, and a signed-in-like Principal for service calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Principal, PrincipalKind, Role, permissions_for
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.seed import DemoCast, seed_demo
from trustdesk.safety.enforcement.dsa import validate_statement
from trustdesk.safety.enforcement.models import StatementOfReasons
from trustdesk.safety.review import service as review

TEST_ACTOR = Actor("test", "pytest")


@dataclass(frozen=True)
class Reviewer:
    principal: Principal

    @property
    def actor(self) -> Actor:
        return Actor("staff", self.principal.name)


def reviewer(session: Session, clock: FrozenClock, name: str, *queues: str, role: Role = Role.REVIEWER) -> Reviewer:
    for queue in queues:
        review.add_member(session, actor=TEST_ACTOR, clock=clock, queue=queue, username=name)
    roles = frozenset({role})
    return Reviewer(
        Principal(kind=PrincipalKind.STAFF, id=hash(name) % 10_000, name=name, permissions=permissions_for(roles), roles=roles)
    )


@pytest.fixture
def cast(platform: DemoPlatform) -> DemoCast:
    return seed_demo(platform)


@pytest.fixture
def session(db: Database, clock: FrozenClock) -> Iterator[Session]:
    """One session for the whole test, with the review queues in place."""
    with db.transaction() as session:
        review.ensure_queues(session, actor=TEST_ACTOR, clock=clock)
        yield session
        _every_statement_would_be_accepted(session)


def _every_statement_would_be_accepted(session: Session) -> None:
    """Whatever a test made, each statement of reasons passes the DSA database's rules (the
    same rules its test double enforces) and has its own puid."""
    payloads = [row.payload for row in session.scalars(select(StatementOfReasons))]
    for payload in payloads:
        assert validate_statement(payload) == {}, payload
    assert len({p["puid"] for p in payloads}) == len(payloads)


@pytest.fixture
def platform(clock: FrozenClock) -> DemoPlatform:
    """The demo platform on the test's clock, so that content dates precede decisions."""
    return DemoPlatform.from_url("sqlite://", clock=clock)
