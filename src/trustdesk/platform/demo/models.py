"""The demo platform's own tables.

The demo platform is a separate system that Trustdesk talks to through the platform port,
exactly as it will talk to Synapse: it has its own `DeclarativeBase` and its own database, so
that nothing in Trustdesk can reach around the port into the platform's rows. Nothing here is
ever deleted: a removed message keeps its text so that an appeal can restore it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from trustdesk.core.database import NAMING, UTCDateTime
from trustdesk.platform.port import (
    Account,
    AccountState,
    Chat,
    ChatKind,
    MediaItem,
    Message,
    MessageState,
)


class DemoBase(DeclarativeBase):
    """Separate from `trustdesk.core.database.Base`: the platform's schema is not Trustdesk's."""

    metadata = MetaData(naming_convention=NAMING)


class DemoAccount(DemoBase):
    __tablename__ = "demo_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    # The form find_account compares against: casefolded, without '@'.
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default=AccountState.ACTIVE.value)
    # When a restriction or suspension ends by itself; None means until reinstated.
    state_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def effective_state(self, *, now: datetime) -> AccountState:
        """A timed restriction lapses on its own; no job has to come round to lift it."""
        state = AccountState(self.state)
        if self.state_until is not None and self.state_until <= now:
            return AccountState.ACTIVE
        return state

    def as_port(self, *, now: datetime) -> Account:
        return Account(
            id=self.id,
            username=self.username,
            display_name=self.display_name,
            phone=self.phone,
            email=self.email,
            created_at=self.created_at,
            state=self.effective_state(now=now),
            country=self.country,
        )


class DemoChat(DemoBase):
    __tablename__ = "demo_chats"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[DemoMembership]] = relationship(order_by="DemoMembership.position", lazy="selectin")

    @property
    def chat_kind(self) -> ChatKind:
        return ChatKind(self.kind)

    def as_port(self) -> Chat:
        members = tuple(m.account_id for m in self.memberships)
        return Chat(id=self.id, kind=self.chat_kind, title=self.title, member_ids=members, closed=self.closed)


class DemoMembership(DemoBase):
    __tablename__ = "demo_memberships"

    chat_id: Mapped[str] = mapped_column(ForeignKey("demo_chats.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("demo_accounts.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # owner | admin | member
    position: Mapped[int] = mapped_column(Integer)  # join order, so member_ids is stable


class DemoMessage(DemoBase):
    __tablename__ = "demo_messages"
    __table_args__ = (
        Index("ix_demo_messages_chat_time", "chat_id", "sent_at", "seq"),
        Index("ix_demo_messages_sender_time", "sender_id", "sent_at", "seq"),
    )

    # seq orders messages posted at the same instant; id is what the outside world sees.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("demo_chats.id"))
    sender_id: Mapped[str] = mapped_column(ForeignKey("demo_accounts.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str | None] = mapped_column(Text)  # None in secret chats
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # secret chats only, opaque
    state: Mapped[str] = mapped_column(String(16), default=MessageState.VISIBLE.value)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_reason: Mapped[str | None] = mapped_column(Text)
    removal_action_id: Mapped[int | None] = mapped_column(ForeignKey("demo_actions.id"))

    media: Mapped[list[DemoMedia]] = relationship(order_by="DemoMedia.position", lazy="selectin")
    restrictions: Mapped[list[DemoMessageRestriction]] = relationship(
        order_by="DemoMessageRestriction.id", lazy="selectin", viewonly=True
    )

    def restriction_in_force(self, *, now: datetime) -> DemoMessageRestriction | None:
        """The newest restriction still in force; a timed one lapses on its own."""
        live = [r for r in self.restrictions if r.in_force(now=now)]
        return live[-1] if live else None

    def effective_state(self, *, now: datetime | None) -> MessageState:
        state = MessageState(self.state)
        if state is MessageState.VISIBLE and now is not None and self.restriction_in_force(now=now):
            return MessageState.RESTRICTED
        return state

    def as_port(self, *, now: datetime | None = None) -> Message:
        """`now` lets a restriction show; without it (a message just posted) there is none."""
        return Message(
            id=self.id,
            chat_id=self.chat_id,
            sender_id=self.sender_id,
            sent_at=self.sent_at,
            text=self.text,
            state=self.effective_state(now=now),
            media=tuple(m.as_port() for m in self.media),
        )


class DemoMessageRestriction(DemoBase):
    """A message hidden from everyone but its author, for viewers in `territories` (ISO
    3166-1 alpha-2, sorted; None: everywhere) until `until` (None: until lifted). Lifting or
    replacing it sets `ended_at`; the row stays, as every platform record does."""

    __tablename__ = "demo_message_restrictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("demo_messages.id"), index=True)
    territories: Mapped[list[str] | None] = mapped_column(JSON)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    action_id: Mapped[int] = mapped_column(ForeignKey("demo_actions.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_action_id: Mapped[int | None] = mapped_column(ForeignKey("demo_actions.id"))

    def in_force(self, *, now: datetime) -> bool:
        return self.ended_at is None and (self.until is None or self.until > now)

    def applies_in(self, country: str | None) -> bool:
        """Everywhere, or in the viewer's country; a viewer of unknown country is outside
        every named territory."""
        return self.territories is None or (country is not None and country.upper() in self.territories)


class DemoMedia(DemoBase):
    __tablename__ = "demo_media"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("demo_messages.id"))
    position: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

    def as_port(self) -> MediaItem:
        return MediaItem(
            id=self.id,
            content_type=self.content_type,
            size=self.size,
            sha256=self.sha256,
            message_id=self.message_id,
        )


class DemoLoginSession(DemoBase):
    """One login: the records behind the 'identification' data category."""

    __tablename__ = "demo_login_sessions"
    __table_args__ = (Index("ix_demo_login_sessions_account_time", "account_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("demo_accounts.id"))
    ip: Mapped[str] = mapped_column(String(45))
    port: Mapped[int] = mapped_column(Integer)
    user_agent: Mapped[str] = mapped_column(String(256))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class DemoAction(DemoBase):
    """Every state change the platform made on someone's request. Its id, as
    `demo-action-<id>`, is the `platform_ref` Trustdesk records with its decision."""

    __tablename__ = "demo_actions"
    __table_args__ = (Index("ix_demo_actions_target", "target_kind", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # account | chat | message
    target_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def ref(self) -> str:
        return f"demo-action-{self.id}"


class DemoMarker(DemoBase):
    """Named facts about the platform's own database, such as 'this database was seeded'."""

    __tablename__ = "demo_markers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
