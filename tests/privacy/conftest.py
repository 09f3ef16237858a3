"""Fixtures of the privacy tests: a small world of one platform user's data across the rooms
(a notice, a case and its decision, an action, a strike, a statement and an appeal), and the
lawful-request facts that keep it (an order, a legal hold, a user notice that waits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count

import pytest

from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Principal, PrincipalKind, Role, permissions_for
from trustdesk.legal.disclosure.models import HoldState, LegalHold, NoticeState, UserNotice
from trustdesk.legal.models import Agency, LawfulRequest, RequestTarget
from trustdesk.safety.enforcement.models import EnforcementAction, StatementOfReasons, Strike
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review.models import Appeal, Case, Decision, ReviewQueue

SEQ = count(1)


def dpo() -> Principal:
    roles = frozenset({Role.LEGAL_OFFICER})
    return Principal(kind=PrincipalKind.STAFF, id=1, name="dana", permissions=permissions_for(roles), roles=roles)


@dataclass
class Person:
    account_id: str
    message_id: str
    notice_id: int
    case_id: int
    action_id: int
    statement_id: int
    strike_id: int
    appeal_id: int


class PrivacyFactory:
    def __init__(self, db: Database, clock: FrozenClock) -> None:
        self.db, self.clock = db, clock

    def person(self, *, at: datetime | None = None, appeal_open: bool = False) -> Person:
        """One user's data across the rooms, decided at `at` (now by default)."""
        n = next(SEQ)
        at = at or self.clock.now()
        account, message = f"acct-{n}", f"msg-{n}"
        with self.db.transaction() as s:
            if s.get(ReviewQueue, "abuse") is None:
                s.add(ReviewQueue(key="abuse", name="Abuse", description="", service_hours=24, sensitive=False))
                s.flush()
            case = Case(
                subject_kind="message", subject_id=message, queue="abuse", priority=1, state="decided", source="notice",
                sources=["notice"], reason="reported for harassment", rule_ref=None, signals={"words": ["x"]}, opened_at=at,
                due_at=at, decided_at=at, outcome="action",
            )  # fmt: skip
            s.add(case)
            s.flush()
            notice = Notice(
                token=f"tok-{n}", received_at=at, reason="harassment", subject_kind="message", subject_id=message,
                location=f"https://chat.example/m/{message}", explanation="they keep writing to me", notifier_name="Nora Notifier",
                notifier_email="nora@example.org", good_faith=True, case_id=case.id, decided_at=at, outcome="action",
            )  # fmt: skip
            action = EnforcementAction(
                subject_kind="message", subject_id=message, account_id=account, action="remove", policy="harassment",
                policy_version="1", decision_ground="incompatible_content", automated=False, source="notice",
                reason="harassment of another user", case_id=case.id, actor="staff:rita", acted_at=at, platform_ok=True,
                platform_detail="removed",
            )  # fmt: skip
            s.add_all([notice, action])
            s.flush()
            decision = Decision(
                case_id=case.id, decided_by="staff:rita", decided_at=at, outcome="action", policy="harassment",
                action="remove", reason="repeated harassment", action_id=action.id,
            )  # fmt: skip
            statement = StatementOfReasons(
                action_id=action.id, puid=f"puid-{n}", account_id=account, language="en", token=f"sor-{n}",
                facts={"what": "a message removed"}, payload={"decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT"},
                told_at=at, appeal_until=at + timedelta(days=183),
            )  # fmt: skip
            strike = Strike(
                account_id=account,
                action_id=action.id,
                policy="harassment",
                weight=1,
                issued_at=at,
                expires_at=at + timedelta(days=90),
            )
            s.add_all([decision, statement, strike])
            s.flush()
            appeal = Appeal(
                statement_id=statement.id, action_id=action.id, queue="abuse", filed_at=at, text="I was joking with a friend",
                state="open" if appeal_open else "decided", first_reviewer="staff:rita",
                decided_by=None if appeal_open else "staff:sam", decided_at=None if appeal_open else at,
                outcome=None if appeal_open else "confirmed",
            )  # fmt: skip
            s.add(appeal)
            s.flush()
            return Person(account, message, notice.id, case.id, action.id, statement.id, strike.id, appeal.id)

    def lawful_request(
        self, account_id: str, *, state: str = "under_review", notice: NoticeState | None = NoticeState.WAITING
    ) -> str:
        """A lawful request naming `account_id`, with a user notice in `notice` (WAITING: a
        non-disclosure order runs; None: no notice at all). Returns its reference."""
        n = next(SEQ)
        with self.db.transaction() as s:
            agency = Agency(
                code=f"ag-{n}", name=f"Agency {n}", country="FR", kind="investigating_judge", email_domains=[],
                callback_phone="+33 1 00 00 00 00", callback_source="test", created_at=self.clock.now(),
            )  # fmt: skip
            s.add(agency)
            s.flush()
            request = LawfulRequest(
                reference=f"LR-{n:05d}", agency_id=agency.id, channel="api", instrument="eu_epoc", catalogue_version="1",
                issuer_kind="investigating_judge", categories=["subscriber"], elements={}, state=state,
                received_at=self.clock.now(), checklist=[], verdict="valid", flags=[], submission_sha256="0" * 64,
                submitted_by="officer:test",
            )  # fmt: skip
            s.add(request)
            s.flush()
            s.add(
                RequestTarget(
                    request_id=request.id,
                    kind="account",
                    raw=account_id,
                    normalised=account_id,
                    account_id=account_id,
                    resolved=True,
                )
            )
            if notice is not None:
                s.add(
                    UserNotice(
                        request_id=request.id, account_id=account_id, state=notice.value, basis="18 U.S.C. 2705(b) order",
                        created_at=self.clock.now(), sent_at=self.clock.now() if notice is NoticeState.SENT else None,
                    )
                )  # fmt: skip
            return request.reference

    def hold(self, account_id: str, *, reference: str | None = None) -> int:
        """An active legal hold on `account_id`, for a (new, gagged) preservation request."""
        reference = reference or self.lawful_request(account_id, state="answered")
        with self.db.transaction() as s:
            request = s.query(LawfulRequest).filter_by(reference=reference).one()
            hold = LegalHold(
                request_id=request.id, account_id=account_id, categories=["subscriber"], snapshot={"phone": "+33 6 00"},
                snapshot_sha256="0" * 64, state=HoldState.ACTIVE.value, frozen_by="staff:lena", frozen_at=self.clock.now(),
                expires_at=self.clock.now() + timedelta(days=60),
            )  # fmt: skip
            s.add(hold)
            s.flush()
            return hold.id

    def release(self, hold_id: int) -> None:
        with self.db.transaction() as s:
            hold = s.get(LegalHold, hold_id)
            assert hold is not None
            hold.state, hold.released_at = HoldState.RELEASED.value, self.clock.now()


@pytest.fixture
def world(db: Database, clock: FrozenClock) -> PrivacyFactory:
    return PrivacyFactory(db, clock)
