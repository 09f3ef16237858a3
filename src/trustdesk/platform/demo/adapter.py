"""The demo platform behind the platform port: what Trustdesk reads from, and does to, the
built-in stand-in messenger. Every method is one short transaction of its own, as a call to a
real server's API would be."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.orm import Session

from trustdesk.core.clock import Clock
from trustdesk.platform.demo import actions, held, restrictions
from trustdesk.platform.demo.models import DemoAccount, DemoChat, DemoMedia, DemoMessage
from trustdesk.platform.demo.posting import Posting
from trustdesk.platform.demo.store import DemoStore, demo_engine, within
from trustdesk.platform.handles import normalise_phone, username_key
from trustdesk.platform.port import (
    Account,
    ActionResult,
    Chat,
    ChatKind,
    DataCategory,
    HeldData,
    MediaItem,
    Message,
    Platform,
)


class DemoPlatform(Platform):
    """The built-in platform. `posting` is its users' side: accounts, chats, messages."""

    name = "demo"

    def __init__(self, *, engine: Engine, clock: Clock | None = None) -> None:
        self.store = DemoStore(engine=engine, clock=clock)
        self.posting = Posting(store=self.store)

    @classmethod
    def from_url(cls, url: str, /, *, clock: Clock | None = None) -> DemoPlatform:
        """`sqlite:///var/demo-platform.db` by default; `sqlite://` for a test's memory."""
        return cls(engine=demo_engine(url), clock=clock)

    @property
    def clock(self) -> Clock:
        return self.store.clock

    # -- lookups --------------------------------------------------------------------------

    def get_account(self, account_id: str) -> Account:
        with self.store.transaction() as session:
            return _account(session, account_id).as_port(now=self.clock.now())

    def find_account(self, *, username: str | None = None, phone: str | None = None) -> Account | None:
        """By username (any case, with or without '@') and/or phone (any spacing); both must
        match when both are given. A phone that cannot be a full number matches nobody."""
        if username is None and phone is None:
            raise ValueError("find_account needs a username or a phone")
        query = select(DemoAccount)
        if username is not None:
            query = query.where(DemoAccount.username_key == username_key(username))
        if phone is not None:
            query = query.where(DemoAccount.phone == normalise_phone(phone))
        with self.store.transaction() as session:
            row = session.scalars(query).first()
            return None if row is None else row.as_port(now=self.clock.now())

    def get_chat(self, chat_id: str) -> Chat:
        with self.store.transaction() as session:
            return _chat(session, chat_id).as_port()

    def get_message(self, message_id: str) -> Message:
        with self.store.transaction() as session:
            return _message(session, message_id).as_port(now=self.clock.now())

    def get_media(self, media_id: str) -> tuple[MediaItem, bytes]:
        with self.store.transaction() as session:
            row = session.get(DemoMedia, media_id)
            if row is None:
                raise LookupError(f"no media with id {media_id!r} on the demo platform")
            return row.as_port(), row.data

    def list_messages(
        self, account_id: str, *, since: datetime | None = None, until: datetime | None = None, limit: int = 1000
    ) -> list[Message]:
        """Messages the account sent in [since, until), oldest first, at most `limit`: a caller
        pages on by passing the last `sent_at` it saw as the next `since`."""
        if limit < 0:
            raise ValueError("limit must not be negative")
        sent = select(DemoMessage).where(DemoMessage.sender_id == account_id)
        query = within(sent, column=DemoMessage.sent_at, since=since, until=until)
        with self.store.transaction() as session:
            _account(session, account_id)
            rows = session.scalars(query.order_by(DemoMessage.sent_at, DemoMessage.seq).limit(limit))
            return [row.as_port(now=self.clock.now()) for row in rows]

    def chat_context(self, message_id: str, *, before: int = 5, after: int = 5) -> list[Message]:
        """The message with up to `before` earlier and `after` later messages of its chat,
        oldest first, removed ones included (a reviewer needs to see what was there)."""
        with self.store.transaction() as session:
            anchor = _message(session, message_id)
            in_chat = select(DemoMessage).where(DemoMessage.chat_id == anchor.chat_id)
            same_time = DemoMessage.sent_at == anchor.sent_at
            earlier = in_chat.where(or_(DemoMessage.sent_at < anchor.sent_at, and_(same_time, DemoMessage.seq < anchor.seq)))
            later = in_chat.where(or_(DemoMessage.sent_at > anchor.sent_at, and_(same_time, DemoMessage.seq > anchor.seq)))
            newest_first = (DemoMessage.sent_at.desc(), DemoMessage.seq.desc())
            older = list(session.scalars(earlier.order_by(*newest_first).limit(before)))
            newer = list(session.scalars(later.order_by(DemoMessage.sent_at, DemoMessage.seq).limit(after)))
            now = self.clock.now()
            return [row.as_port(now=now) for row in [*reversed(older), anchor, *newer]]

    # -- actions --------------------------------------------------------------------------

    def remove_message(self, message_id: str, *, reason: str) -> ActionResult:
        with self.store.transaction() as session:
            message = _message(session, message_id)
            return actions.remove_message(session=session, message=message, reason=reason, now=self.clock.now())

    def restore_message(self, message_id: str, *, reason: str) -> ActionResult:
        with self.store.transaction() as session:
            message = _message(session, message_id)
            return actions.restore_message(session=session, message=message, reason=reason, now=self.clock.now())

    def restrict_message(
        self, message_id: str, *, reason: str, territories: frozenset[str] | None = None, until: datetime | None = None
    ) -> ActionResult:
        with self.store.transaction() as session:
            return restrictions.restrict_message(
                session=session,
                message=_message(session, message_id),
                reason=reason,
                territories=territories,
                until=until,
                now=self.clock.now(),
            )

    def lift_message_restriction(self, message_id: str, *, reason: str) -> ActionResult:
        with self.store.transaction() as session:
            message = _message(session, message_id)
            return restrictions.lift_message_restriction(session=session, message=message, reason=reason, now=self.clock.now())

    def restrict_account(self, account_id: str, *, reason: str, until: datetime | None = None) -> ActionResult:
        with self.store.transaction() as session:
            account = _account(session, account_id)
            return actions.restrict_account(session=session, account=account, reason=reason, until=until, now=self.clock.now())

    def suspend_account(self, account_id: str, *, reason: str, until: datetime | None = None) -> ActionResult:
        with self.store.transaction() as session:
            account = _account(session, account_id)
            return actions.suspend_account(session=session, account=account, reason=reason, until=until, now=self.clock.now())

    def reinstate_account(self, account_id: str, *, reason: str) -> ActionResult:
        with self.store.transaction() as session:
            account = _account(session, account_id)
            return actions.reinstate_account(session=session, account=account, reason=reason, now=self.clock.now())

    def close_chat(self, chat_id: str, *, reason: str) -> ActionResult:
        with self.store.transaction() as session:
            return actions.close_chat(session=session, chat=_chat(session, chat_id), reason=reason, now=self.clock.now())

    def reopen_chat(self, chat_id: str, *, reason: str) -> ActionResult:
        with self.store.transaction() as session:
            return actions.reopen_chat(session=session, chat=_chat(session, chat_id), reason=reason, now=self.clock.now())

    # -- held data ------------------------------------------------------------------------

    def categories_held(self, chat_kind: ChatKind) -> frozenset[DataCategory]:
        return held.categories_held(chat_kind=chat_kind)

    def retrieve(
        self, account_id: str, category: DataCategory, *, since: datetime | None = None, until: datetime | None = None
    ) -> HeldData:
        with self.store.transaction() as session:
            account = _account(session, account_id)
            return held.retrieve(session=session, account=account, category=category, since=since, until=until)


def _account(session: Session, account_id: str) -> DemoAccount:
    row = session.get(DemoAccount, account_id)
    if row is None:
        raise LookupError(f"no account with id {account_id!r} on the demo platform")
    return row


def _chat(session: Session, chat_id: str) -> DemoChat:
    row = session.get(DemoChat, chat_id)
    if row is None:
        raise LookupError(f"no chat with id {chat_id!r} on the demo platform")
    return row


def _message(session: Session, message_id: str) -> DemoMessage:
    row = session.scalars(select(DemoMessage).where(DemoMessage.id == message_id)).first()
    if row is None:
        raise LookupError(f"no message with id {message_id!r} on the demo platform")
    return row
