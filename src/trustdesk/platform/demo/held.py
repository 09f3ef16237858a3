"""What the demo platform holds about an account, category by category, as a disclosure
would carry it. Records are plain dicts of JSON-ready values (ISO times, ids), since they
leave the platform in a signed package.

Secret chats are end-to-end encrypted: the platform keeps who talked to whom and when
(traffic), never what was said. Asking for their content is answered 'not held'."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from trustdesk.platform.demo.models import DemoAccount, DemoChat, DemoLoginSession, DemoMembership, DemoMessage
from trustdesk.platform.demo.store import within
from trustdesk.platform.port import ChatKind, DataCategory, HeldData

ALL_CATEGORIES = frozenset(DataCategory)
NO_CONTENT = ALL_CATEGORIES - {DataCategory.CONTENT}
SECRET_NOTE = (
    "{count} message(s) in secret chats are end-to-end encrypted; the platform holds no "
    "readable content of them (their traffic data is held)."
)


def categories_held(*, chat_kind: ChatKind) -> frozenset[DataCategory]:
    return NO_CONTENT if chat_kind is ChatKind.SECRET else ALL_CATEGORIES


def retrieve(
    *, session: Session, account: DemoAccount, category: DataCategory, since: datetime | None, until: datetime | None
) -> HeldData:
    if category is DataCategory.SUBSCRIBER:
        return HeldData(category=category, held=True, records=[_subscriber(account)])
    if category is DataCategory.IDENTIFICATION:
        records = _logins(session=session, account_id=account.id, since=since, until=until)
        return HeldData(category=category, held=True, records=records)
    if category is DataCategory.TRAFFIC:
        records = _traffic(session=session, account_id=account.id, since=since, until=until)
        return HeldData(category=category, held=True, records=records)
    return _content(session=session, account_id=account.id, since=since, until=until)


def _subscriber(account: DemoAccount) -> dict[str, object]:
    """Registration data as given at sign-up; the demo takes no payments."""
    return {
        "account_id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "phone": account.phone,
        "email": account.email,
        "country": account.country,
        "registered_at": account.created_at.isoformat(),
    }


def _logins(*, session: Session, account_id: str, since: datetime | None, until: datetime | None) -> list[dict[str, object]]:
    query = select(DemoLoginSession).where(DemoLoginSession.account_id == account_id)
    query = within(query, column=DemoLoginSession.at, since=since, until=until)
    rows = session.scalars(query.order_by(DemoLoginSession.at, DemoLoginSession.id))
    return [{"at": r.at.isoformat(), "ip": r.ip, "port": r.port, "user_agent": r.user_agent} for r in rows]


def _traffic(*, session: Session, account_id: str, since: datetime | None, until: datetime | None) -> list[dict[str, object]]:
    """Messages the account sent anywhere, and those it received in one-to-one chats (direct
    and secret), where the other party is a single identifiable person. Never the text."""
    one_to_one = (
        select(DemoMembership.chat_id)
        .join(DemoChat)
        .where(DemoMembership.account_id == account_id, DemoChat.kind.in_([ChatKind.DIRECT.value, ChatKind.SECRET.value]))
    )
    query = select(DemoMessage, DemoChat).join(DemoChat, DemoChat.id == DemoMessage.chat_id)
    query = query.where(or_(DemoMessage.sender_id == account_id, DemoMessage.chat_id.in_(one_to_one)))
    query = within(query, column=DemoMessage.sent_at, since=since, until=until)
    rows = session.execute(query.order_by(DemoMessage.sent_at, DemoMessage.seq)).all()
    return [_traffic_record(message=m, chat=c, account_id=account_id) for m, c in rows]


def _traffic_record(*, message: DemoMessage, chat: DemoChat, account_id: str) -> dict[str, object]:
    others = [m.account_id for m in chat.memberships if m.account_id != message.sender_id]
    one_to_one = chat.chat_kind in (ChatKind.DIRECT, ChatKind.SECRET)
    return {
        "message_id": message.id,
        "sent_at": message.sent_at.isoformat(),
        "direction": "sent" if message.sender_id == account_id else "received",
        "sender_id": message.sender_id,
        # In a group or channel the audience is the chat, not a list of persons.
        "recipient_ids": others if one_to_one else [],
        "chat_id": chat.id,
        "chat_kind": chat.kind,
        "media_count": len(message.media),
    }


def _content(*, session: Session, account_id: str, since: datetime | None, until: datetime | None) -> HeldData:
    query = select(DemoMessage, DemoChat).join(DemoChat, DemoChat.id == DemoMessage.chat_id)
    query = within(query.where(DemoMessage.sender_id == account_id), column=DemoMessage.sent_at, since=since, until=until)
    rows = session.execute(query.order_by(DemoMessage.sent_at, DemoMessage.seq)).all()
    readable = [m for m, c in rows if c.chat_kind is not ChatKind.SECRET]
    secret_count = len(rows) - len(readable)
    note = SECRET_NOTE.format(count=secret_count) if secret_count else ""
    held = bool(readable) or not secret_count  # only secret messages: nothing readable is held
    return HeldData(category=DataCategory.CONTENT, held=held, records=[_content_record(m) for m in readable], note=note)


def _content_record(message: DemoMessage) -> dict[str, object]:
    """Text and references to the media; the bytes travel separately via get_media."""
    media = [{"media_id": f.id, "content_type": f.content_type, "size": f.size, "sha256": f.sha256} for f in message.media]
    return {
        "message_id": message.id,
        "chat_id": message.chat_id,
        "sent_at": message.sent_at.isoformat(),
        "state": message.state,
        "text": message.text,
        "media": media,
    }
