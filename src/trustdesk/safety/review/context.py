"""What a reviewer sees around a case: the item, the surrounding messages, the account and
its history (earlier actions, strikes), the reports and matching signals. Reads only; a
platform that cannot answer is shown as such rather than failing the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.clock import Clock
from trustdesk.platform.port import Account, Chat, ChatKind, MediaItem, Message, Platform
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
    items: list[MediaItem] = field(default_factory=list)  # a media case's own item and its duplicates
    earlier: list[Decision] = field(default_factory=list)  # decisions of other cases about the account
    encrypted: bool = False  # an end-to-end encrypted chat: nothing around the message is shown

    @property
    def media(self) -> list[MediaItem]:
        found = {m.id: m for m in (self.message.media if self.message else ())}
        found.update({m.id: m for m in self.items})
        return list(found.values())

    @property
    def signals(self) -> list[str]:
        return explain_signals(self.case.signals or {})


def duplicate_media(case: Case) -> list[str]:
    """Media ids grouped into a media case besides its subject (the same image uploaded again)."""
    extra = (case.signals or {}).get("duplicate_media") or []
    return [str(m) for m in extra if str(m) != case.subject_id]


def _hash_words(match: dict[str, Any]) -> str:
    words = [f"Hash match in bank '{match.get('bank', '?')}'"]
    if match.get("entry_id") is not None:
        words.append(f"entry {match['entry_id']}")
    if match.get("signal_type"):
        words.append(f"signal {match['signal_type']}")
    if match.get("distance") is not None:
        distance = match["distance"]
        words.append("exact match (distance 0)" if distance == 0 else f"distance {distance} of 256 bits")
    if match.get("orientation"):
        words.append(f"orientation {str(match['orientation']).replace('_', ' ')}")
    if match.get("media_id"):
        words.append(f"media {match['media_id']}")
    if match.get("platform"):
        words.append(f"on platform {match['platform']}")
    if match.get("retroactive"):
        words.append("found when the entry was added to the bank (retroaction)")
    return ", ".join(words) + "."


def explain_signals(signals: dict[str, Any]) -> list[str]:
    """Each signal of a case in a sentence a reviewer reads, never a raw dict."""
    lines: list[str] = []
    for key, value in signals.items():
        if key.startswith("hash_match") and isinstance(value, dict):
            lines.append(_hash_words(value))
        elif key == "duplicate_media" and isinstance(value, list):
            lines.append(f"The same media was seen {len(value)} times: {', '.join(map(str, value))}.")
        elif key == "rule":
            version = signals.get("ruleset_version")
            lines.append(f"Rule {value}" + (f" (ruleset version {version})" if version else "") + " matched.")
        elif key == "ruleset_version":
            continue
        elif key == "event_id":
            lines.append(f"Pipeline event {value}.")
        elif isinstance(value, dict):
            inner = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())
            lines.append(f"{key.replace('_', ' ').capitalize()}: {inner}.")
        else:
            lines.append(f"{key.replace('_', ' ').capitalize()}: {value}.")
    return lines


def _surrounding(ctx: CaseContext, platform: Platform, message_id: str) -> list[Message]:
    """The messages around the reported one, as far as the platform holds them; from an
    end-to-end encrypted chat nothing (the platform holds no readable content there, and a
    reviewer must not be shown more than the reporter chose to forward)."""
    if ctx.chat is not None and ctx.chat.kind == ChatKind.SECRET:
        ctx.encrypted = True
        return [ctx.message] if ctx.message is not None else []
    return platform.chat_context(message_id, before=5, after=5)


def _platform_view(ctx: CaseContext, platform: Platform) -> None:
    case = ctx.case
    account_id = case.subject_id if case.subject_kind == "account" else None
    if case.subject_kind == "media":
        for media_id in (case.subject_id, *duplicate_media(case)):
            try:
                ctx.items.append(platform.get_media(media_id)[0])
            except (LookupError, ValueError) as exc:
                ctx.problems.append(f"The platform could not find media {media_id}: {exc}")
        carrier = next((m.message_id for m in ctx.items if m.message_id), None)
        if carrier:
            ctx.message = platform.get_message(carrier)
            ctx.chat = platform.get_chat(ctx.message.chat_id)
            ctx.surrounding = _surrounding(ctx, platform, carrier)
            account_id = ctx.message.sender_id
    elif case.subject_kind == "message":
        ctx.message = platform.get_message(case.subject_id)
        ctx.chat = platform.get_chat(ctx.message.chat_id)
        ctx.surrounding = _surrounding(ctx, platform, case.subject_id)
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
        ctx.earlier = earlier_decisions(session, case=case, account_id=ctx.account.id, action_ids=[a.id for a in ctx.history])
    ctx.notices = reports.notices_for_case(session, case_id=case.id)
    ctx.decisions = list(session.scalars(select(Decision).where(Decision.case_id == case.id).order_by(Decision.id)))
    return ctx


def earlier_decisions(session: Session, *, case: Case, account_id: str, action_ids: list[int]) -> list[Decision]:
    """Decisions of the account's other cases: about the account itself, or the ones that
    took an action on it (a message or media of theirs), newest first."""
    about = select(Case.id).where(Case.subject_kind == "account", Case.subject_id == account_id)
    query = select(Decision).where(Decision.case_id != case.id)
    if action_ids:
        query = query.where((Decision.case_id.in_(about)) | (Decision.action_id.in_(action_ids)))
    else:
        query = query.where(Decision.case_id.in_(about))
    return list(session.scalars(query.order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(20)))


def media_of_case(platform: Platform, case: Case, media_id: str) -> tuple[MediaItem, bytes] | None:
    """The media only if it belongs to the case's message: a reviewer's link cannot be
    turned into a way to read any file on the platform."""
    if case.subject_kind == "media" and media_id in (case.subject_id, *duplicate_media(case)):
        return platform.get_media(media_id)
    if case.subject_kind != "message":
        return None
    message = platform.get_message(case.subject_id)
    if media_id not in {m.id for m in message.media}:
        return None
    return platform.get_media(media_id)
