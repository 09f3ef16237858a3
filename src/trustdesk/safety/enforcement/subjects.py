"""What an action is about, read from the platform port: whose it is, what kind of content,
from when, and how to name it to the user."""

from __future__ import annotations

from trustdesk.core.errors import NotFound
from trustdesk.platform.port import Platform
from trustdesk.safety.enforcement.actions import SubjectKind
from trustdesk.safety.enforcement.statements import Subject

MEDIA_TYPES = {"image": "CONTENT_TYPE_IMAGE", "video": "CONTENT_TYPE_VIDEO", "audio": "CONTENT_TYPE_AUDIO"}


def describe(platform: Platform, kind: SubjectKind, subject_id: str) -> Subject:
    try:
        if kind is SubjectKind.MESSAGE:
            return _message(platform, subject_id)
        if kind is SubjectKind.ACCOUNT:
            return _account(platform, subject_id)
        if kind is SubjectKind.CHAT:
            return _chat(platform, subject_id)
    except LookupError as exc:
        raise NotFound(f"The platform has no {kind} '{subject_id}' ({exc}).", field="subject_id") from None
    raise NotFound(f"Media '{subject_id}' is acted on through its message, not on its own.", field="subject_kind")


def _message(platform: Platform, message_id: str) -> Subject:
    message = platform.get_message(message_id)
    sender = platform.get_account(message.sender_id)
    types = [MEDIA_TYPES.get(m.content_type.split("/")[0], "CONTENT_TYPE_OTHER") for m in message.media]
    if message.text or not types:
        types.insert(0, "CONTENT_TYPE_TEXT")
    when = message.sent_at.strftime("%Y-%m-%d %H:%M UTC")
    return Subject(
        kind="message",
        id=message.id,
        account_id=sender.id,
        country=sender.country,
        content_types=tuple(dict.fromkeys(types)),
        content_date=message.sent_at.date(),
        description=f"A message sent at {when}",
        ref=message.id,
        when=when,
    )


def _account(platform: Platform, account_id: str) -> Subject:
    account = platform.get_account(account_id)
    return Subject(
        kind="account",
        id=account.id,
        account_id=account.id,
        country=account.country,
        content_types=("CONTENT_TYPE_OTHER",),
        content_date=account.created_at.date(),
        description=f"An account (@{account.username})",
        ref=f"@{account.username}",
    )


def _chat(platform: Platform, chat_id: str) -> Subject:
    chat = platform.get_chat(chat_id)
    owner = platform.get_account(chat.member_ids[0]) if chat.member_ids else None
    recent = platform.list_messages(owner.id, limit=1) if owner else []
    since = recent[0].sent_at.date() if recent else (owner.created_at.date() if owner else None)
    return Subject(
        kind="chat",
        id=chat.id,
        account_id=owner.id if owner else None,
        country=owner.country if owner else None,
        content_types=("CONTENT_TYPE_OTHER",),
        content_date=since or platform.get_account(chat.member_ids[0]).created_at.date(),
        description=f"A {chat.kind} chat",
        ref=chat.title or chat.id,
    )
