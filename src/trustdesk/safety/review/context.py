"""What a reviewer sees around a case: the item, the surrounding messages, the account and
its history (earlier actions, strikes), the reports and matching signals. Reads only; a
platform that cannot answer is shown as such rather than failing the page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.clock import Clock
from trustdesk.platform.port import Account, Chat, MediaItem, Message, Platform
from trustdesk.safety.enforcement import service as enforcement
from trustdesk.safety.enforcement import strikes
from trustdesk.safety.enforcement.models import EnforcementAction, Strike
from trustdesk.safety.reports import service as reports
from trustdesk.safety.reports.models import Notice
from trustdesk.safety.review.models import Case, Decision


@dataclass
class CaseContext:
    case: Case
    message: Message | None = None
    chat: Chat | None = None
    surrounding: list[Message] = field(default_factory=list)
    account: Account | None = None
    recent: list[Message] = field(default_factory=list)
    history: list[EnforcementAction] = field(default_factory=list)
    strikes: list[Strike] = field(default_factory=list)
    points: int = 0
    notices: list[Notice] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def media(self) -> list[MediaItem]:
        return list(self.message.media) if self.message else []


def _platform_view(ctx: CaseContext, platform: Platform) -> None:
    case = ctx.case
    account_id = case.subject_id if case.subject_kind == "account" else None
    if case.subject_kind == "message":
        ctx.message = platform.get_message(case.subject_id)
        ctx.chat = platform.get_chat(ctx.message.chat_id)
        ctx.surrounding = platform.chat_context(case.subject_id, before=5, after=5)
        account_id = ctx.message.sender_id
    elif case.subject_kind == "chat":
        ctx.chat = platform.get_chat(case.subject_id)
        account_id = ctx.chat.member_ids[0] if ctx.chat.member_ids else None
    if account_id:
        ctx.account = platform.get_account(account_id)
        ctx.recent = platform.list_messages(account_id, limit=1000)[-10:]


def case_context(session: Session, *, clock: Clock, platform: Platform, case: Case) -> CaseContext:
    ctx = CaseContext(case=case)
    try:
        _platform_view(ctx, platform)
    except LookupError as exc:
        ctx.problems.append(f"The platform could not find part of this case: {exc}")
    if ctx.account is not None:
        ctx.history = enforcement.actions_for_account(session, account_id=ctx.account.id)
        ctx.strikes = strikes.strikes_for(session, account_id=ctx.account.id)
        ctx.points = strikes.active_points(session, account_id=ctx.account.id, now=clock.now())
    ctx.notices = reports.notices_for_case(session, case_id=case.id)
    ctx.decisions = list(session.scalars(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id)))
    return ctx


def media_of_case(platform: Platform, case: Case, media_id: str) -> tuple[MediaItem, bytes] | None:
    """The media only if it belongs to the case's message: a reviewer's link cannot be
    turned into a way to read any file on the platform."""
    if case.subject_kind == "media" and case.subject_id == media_id:
        return platform.get_media(media_id)
    if case.subject_kind != "message":
        return None
    message = platform.get_message(case.subject_id)
    if media_id not in {m.id for m in message.media}:
        return None
    return platform.get_media(media_id)
