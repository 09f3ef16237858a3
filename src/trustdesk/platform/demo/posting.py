"""Stand-ins for the platform's users: create accounts and chats, log in, post messages.

Trustdesk never calls these; the seed and the pipelines' traffic generators do, so that the
moderation side sees live traffic arrive exactly as it would from real clients."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.platform.demo import restrictions
from trustdesk.platform.demo.models import (
    DemoAccount,
    DemoChat,
    DemoLoginSession,
    DemoMedia,
    DemoMembership,
    DemoMessage,
)
from trustdesk.platform.demo.store import DemoStore, next_number
from trustdesk.platform.handles import clean_username, normalise_phone, username_key, valid_username
from trustdesk.platform.port import (
    Account,
    AccountState,
    Chat,
    ChatKind,
    Message,
    PlatformError,
)

MediaUpload = tuple[str, bytes]  # (content_type, bytes)
FIRST_ACCOUNT = 1001
FIRST_CHAT = 101
# Secret chats hold what an end-to-end encrypted client uploads: bytes the server cannot
# read. The demo draws them at random and keeps no key, so that nobody, Trustdesk included,
# can recover the text from the platform's database.
SECRET_OVERHEAD = 24


class Posting:
    """What the platform's clients do. Refuses, with PlatformError, what a real server would
    refuse: posting to a closed chat, by a suspended account, or by a non-member."""

    def __init__(self, *, store: DemoStore) -> None:
        self.store = store

    def create_account(
        self,
        *,
        username: str,
        display_name: str,
        phone: str | None = None,
        email: str | None = None,
        country: str | None = None,
        created_at: datetime | None = None,
    ) -> Account:
        if not valid_username(username):
            raise ValueError(f"username {username!r} must be 3 to 32 letters, digits or '_'")
        e164 = None if phone is None else normalise_phone(phone)
        if phone is not None and e164 is None:
            raise ValueError(f"phone {phone!r} is not an international number")
        with self.store.transaction() as session:
            number = next_number(session=session, model=DemoAccount, start=FIRST_ACCOUNT)
            row = DemoAccount(
                id=f"u{number}",
                username=clean_username(username),
                username_key=username_key(username),
                display_name=display_name,
                phone=e164,
                email=email,
                country=country.upper() if country else None,
                created_at=created_at or self.store.clock.now(),
                state=AccountState.ACTIVE.value,
            )
            session.add(row)
            session.flush()
            return row.as_port(now=self.store.clock.now())

    def create_chat(
        self,
        *,
        kind: ChatKind,
        title: str,
        member_ids: Sequence[str],
        created_at: datetime | None = None,
    ) -> Chat:
        """The first member owns the chat (and alone may post in a channel). Direct and
        secret chats have exactly two members."""
        if kind in (ChatKind.DIRECT, ChatKind.SECRET) and len(set(member_ids)) != 2:
            raise ValueError(f"a {kind} chat has exactly two members, not {list(member_ids)}")
        with self.store.transaction() as session:
            _require_accounts(session=session, account_ids=member_ids)
            number = next_number(session=session, model=DemoChat, start=FIRST_CHAT)
            chat = DemoChat(id=f"c{number}", kind=kind.value, title=title, created_at=created_at or self.store.clock.now())
            session.add(chat)
            for position, account_id in enumerate(dict.fromkeys(member_ids)):
                role = "owner" if position == 0 else "member"
                chat.memberships.append(DemoMembership(account_id=account_id, role=role, position=position))
            session.flush()
            return chat.as_port()

    def record_login(self, *, account_id: str, ip: str, port: int, user_agent: str, at: datetime | None = None) -> None:
        with self.store.transaction() as session:
            _require_accounts(session=session, account_ids=[account_id])
            at = at or self.store.clock.now()
            session.add(DemoLoginSession(account_id=account_id, ip=ip, port=port, user_agent=user_agent, at=at))

    def post_message(
        self,
        *,
        chat_id: str,
        sender_id: str,
        text: str | None,
        media: Sequence[MediaUpload] | None = None,
        sent_at: datetime | None = None,
    ) -> Message:
        with self.store.transaction() as session:
            chat = session.get(DemoChat, chat_id)
            if chat is None:
                raise LookupError(f"no chat with id {chat_id!r} on the demo platform")
            self._check_may_post(session=session, chat=chat, sender_id=sender_id)
            seq = next_number(session=session, model=DemoMessage, start=1)
            row = DemoMessage(
                seq=seq, id=f"m{seq}", chat_id=chat_id, sender_id=sender_id, sent_at=sent_at or self.store.clock.now()
            )
            _set_body(row=row, kind=chat.chat_kind, text=text)
            session.add(row)
            session.flush()
            _attach_media(session=session, message=row, kind=chat.chat_kind, uploads=media or ())
            session.flush()
            return row.as_port()

    def sees(self, *, viewer_id: str, message_id: str) -> bool:
        """What a client shows `viewer_id`: the author sees their restricted message; others
        in the restriction's territories (by their account's country) do not."""
        from_viewer = select(DemoMessage).where(DemoMessage.id == message_id)
        with self.store.transaction() as session:
            message = session.scalars(from_viewer).first()
            viewer = session.get(DemoAccount, viewer_id)
            if message is None or viewer is None:
                raise LookupError(f"no message {message_id!r} or account {viewer_id!r} on the demo platform")
            return restrictions.visible_to(session=session, message=message, viewer=viewer, now=self.store.clock.now())

    def _check_may_post(self, *, session: Session, chat: DemoChat, sender_id: str) -> None:
        sender = session.get(DemoAccount, sender_id)
        if sender is None:
            raise LookupError(f"no account with id {sender_id!r} on the demo platform")
        state = sender.effective_state(now=self.store.clock.now())
        roles = {m.account_id: m.role for m in chat.memberships}
        if chat.closed:
            raise PlatformError(f"chat {chat.id} is closed")
        if state in (AccountState.SUSPENDED, AccountState.DEACTIVATED):
            raise PlatformError(f"account {sender_id} is {state} and cannot post")
        if sender_id not in roles:
            raise PlatformError(f"account {sender_id} is not a member of chat {chat.id}")
        if chat.chat_kind is ChatKind.CHANNEL and roles[sender_id] not in ("owner", "admin"):
            raise PlatformError(f"only the owner or an admin posts in channel {chat.id}")
        if state is AccountState.RESTRICTED and chat.chat_kind in (ChatKind.GROUP, ChatKind.CHANNEL):
            raise PlatformError(f"account {sender_id} is restricted and cannot post in groups or channels")


def _require_accounts(*, session: Session, account_ids: Sequence[str]) -> None:
    for account_id in account_ids:
        if session.get(DemoAccount, account_id) is None:
            raise LookupError(f"no account with id {account_id!r} on the demo platform")


def _set_body(*, row: DemoMessage, kind: ChatKind, text: str | None) -> None:
    if kind is not ChatKind.SECRET:
        row.text = text
    elif text is not None:
        row.ciphertext = secrets.token_bytes(len(text.encode()) + SECRET_OVERHEAD)


def _attach_media(*, session: Session, message: DemoMessage, kind: ChatKind, uploads: Sequence[MediaUpload]) -> None:
    first = next_number(session=session, model=DemoMedia, start=1)
    for position, (content_type, data) in enumerate(uploads):
        if kind is ChatKind.SECRET:  # the server stores an encrypted blob of the same size
            content_type, data = "application/octet-stream", secrets.token_bytes(len(data))
        item = DemoMedia(
            id=f"f{first + position}",
            position=position,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
        )
        message.media.append(item)
