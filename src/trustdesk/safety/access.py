"""Which records justify looking at an account's data (core/access): a review case about the
account or one of its messages, an appeal against an action on it, a lawful request that
names it. Each is loaded through its room's scoped service, so a record the caller may not
see (another queue's case, a request they may not read) justifies nothing."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.access.service import Justification, Purpose, PurposeCheck, Subject
from trustdesk.core.identity.permissions import Permission, Principal, authorize
from trustdesk.http.container import Container
from trustdesk.legal import service as legal_requests
from trustdesk.legal.models import RequestTarget
from trustdesk.platform.port import Platform
from trustdesk.safety.enforcement.models import CyberTiplineReport, EnforcementAction
from trustdesk.safety.review import appeals
from trustdesk.safety.review import service as review
from trustdesk.safety.review.models import Case

ACCOUNT = "account"


def case_account(case_subject_kind: str, case_subject_id: str, platform: Platform) -> str | None:
    """The account a case is about: its subject, or the sender of its message."""
    if case_subject_kind == ACCOUNT:
        return case_subject_id
    if case_subject_kind == "message":
        try:
            return platform.get_message(case_subject_id).sender_id
        except LookupError:
            return None
    return None


def case_view(case: Case, platform: Platform) -> tuple[list[Subject], Justification]:
    """Whom a case's page shows (its account) and why (the case itself, which the caller
    loaded through the scoped service)."""
    account = case_account(case.subject_kind, case.subject_id, platform)
    subjects = [Subject(ACCOUNT, account)] if account else [Subject(case.subject_kind, case.subject_id)]
    return subjects, Justification(Purpose.CASE, str(case.id))


def tipline_views(reports: list[CyberTiplineReport]) -> list[tuple[Subject, Justification, str]]:
    """A CyberTipline draft is its own purpose: each shows one account's data."""
    return [(Subject(ACCOUNT, r.account_id), Justification(Purpose.TIPLINE, str(r.id)), f"tipline:{r.id}") for r in reports]


def account_checks(container: Container) -> Mapping[Purpose, PurposeCheck]:
    platform = container.platform

    def by_case(session: Session, principal: Principal, ref: str, subject: Subject) -> bool:
        case = review.get_case(session, principal=principal, case_id=int(ref))
        if case_account(case.subject_kind, case.subject_id, platform) == subject.id:
            return True
        # a case whose decision acted on the account (a message case whose sender is gone)
        actions = session.scalars(select(EnforcementAction.account_id).where(EnforcementAction.case_id == case.id))
        return subject.id in set(actions)

    def by_appeal(session: Session, principal: Principal, ref: str, subject: Subject) -> bool:
        appeal = appeals.get_appeal(session, principal=principal, appeal_id=int(ref))
        action = session.get(EnforcementAction, appeal.action_id)
        return action is not None and action.account_id == subject.id

    def by_request(session: Session, principal: Principal, ref: str, subject: Subject) -> bool:
        request = legal_requests.get_request(session, principal=principal, request_id=int(ref))
        targets = session.scalars(select(RequestTarget).where(RequestTarget.request_id == request.id))
        return any(subject.id in (t.account_id, t.normalised) for t in targets)

    def by_tipline(session: Session, principal: Principal, ref: str, subject: Subject) -> bool:
        authorize(principal, Permission.CYBERTIPLINE_FILE)
        report = session.get(CyberTiplineReport, int(ref))
        return report is not None and report.account_id == subject.id

    return {Purpose.CASE: by_case, Purpose.APPEAL: by_appeal, Purpose.REQUEST: by_request, Purpose.TIPLINE: by_tipline}
