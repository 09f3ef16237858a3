"""The platform port: everything Trustdesk asks of, or does to, the moderated service.

One interface, several adapters (the built-in demo platform, Matrix Synapse, a webhook
connector), chosen by the `platform` setting. Domain code only ever sees these dataclasses."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import pycountry


class ChatKind(StrEnum):
    DIRECT = "direct"
    GROUP = "group"
    CHANNEL = "channel"
    SECRET = "secret"  # end-to-end encrypted: the platform holds no readable content


class DataCategory(StrEnum):
    """The four categories of LEGAL.md, in the order of how much a request must justify."""

    SUBSCRIBER = "subscriber"
    IDENTIFICATION = "identification"
    TRAFFIC = "traffic"
    CONTENT = "content"


class AccountState(StrEnum):
    ACTIVE = "active"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"


class MessageState(StrEnum):
    VISIBLE = "visible"
    REMOVED = "removed"
    RESTRICTED = "restricted"


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    display_name: str
    phone: str | None
    email: str | None
    created_at: datetime
    state: AccountState
    country: str | None = None


@dataclass(frozen=True)
class Chat:
    id: str
    kind: ChatKind
    title: str
    member_ids: tuple[str, ...]
    closed: bool = False


@dataclass(frozen=True)
class MediaItem:
    id: str
    content_type: str
    size: int
    sha256: str
    message_id: str | None = None


@dataclass(frozen=True)
class Message:
    id: str
    chat_id: str
    sender_id: str
    sent_at: datetime
    text: str | None  # None in a secret chat: the platform never sees it
    state: MessageState
    media: tuple[MediaItem, ...] = ()


@dataclass(frozen=True)
class ActionResult:
    """What the platform answered, recorded with the decision that asked for it."""

    ok: bool
    detail: str
    platform_ref: str | None = None


@dataclass(frozen=True)
class HeldData:
    """One category of data for one account, as a disclosure would carry it. `held` is false
    when the platform does not have it (say, content of secret chats); that is an answer, not
    an error."""

    category: DataCategory
    held: bool
    records: list[dict[str, object]] = field(default_factory=list)
    note: str = ""


class PlatformError(Exception):
    """The platform refused or failed; carries its own words for the record."""


class Capability(StrEnum):
    """Actions that not every platform can carry out. An adapter lists what it can do in
    `Platform.capabilities`, so that enforcement offers and attempts only those; the
    methods still exist everywhere and answer `ok=False` with the reason where unsupported."""

    RESTRICT_MESSAGE = "restrict_message"  # and lift_message_restriction
    REOPEN_CHAT = "reopen_chat"


def territories_of(codes: Iterable[str] | None) -> frozenset[str] | None:
    """Normalise a territorial scope: None (everywhere) or a non-empty set of ISO 3166-1
    alpha-2 codes in capitals. Raises ValueError naming what is not a country code, so that
    no adapter restricts a message 'in' a typo."""
    if codes is None:
        return None
    if isinstance(codes, str):
        raise ValueError("territories must be a collection of country codes, not one string")
    # Checked before capitalising: "ß".upper() is "SS" (South Sudan), "ﬀ".upper() is "FF".
    written = [code.strip() for code in codes]
    unknown = sorted(
        code
        for code in written
        if len(code) != 2 or not (code.isascii() and code.isalpha()) or pycountry.countries.get(alpha_2=code.upper()) is None
    )
    found = frozenset(code.upper() for code in written)
    if unknown:
        raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(unknown)}")
    if not found:
        raise ValueError("territories must name at least one country; use None for everywhere")
    return found


class Platform(ABC):
    """What every adapter must do. Lookups raise `LookupError` for an unknown id."""

    name: str
    capabilities: frozenset[Capability] = frozenset(Capability)

    @abstractmethod
    def get_account(self, account_id: str) -> Account: ...

    @abstractmethod
    def find_account(self, *, username: str | None = None, phone: str | None = None) -> Account | None: ...

    @abstractmethod
    def get_chat(self, chat_id: str) -> Chat: ...

    @abstractmethod
    def get_message(self, message_id: str) -> Message: ...

    @abstractmethod
    def get_media(self, media_id: str) -> tuple[MediaItem, bytes]: ...

    @abstractmethod
    def list_messages(
        self, account_id: str, *, since: datetime | None = None, until: datetime | None = None, limit: int = 1000
    ) -> list[Message]: ...

    @abstractmethod
    def chat_context(self, message_id: str, *, before: int = 5, after: int = 5) -> list[Message]: ...

    @abstractmethod
    def remove_message(self, message_id: str, *, reason: str) -> ActionResult: ...

    @abstractmethod
    def restore_message(self, message_id: str, *, reason: str) -> ActionResult: ...

    @abstractmethod
    def restrict_message(
        self, message_id: str, *, reason: str, territories: frozenset[str] | None = None, until: datetime | None = None
    ) -> ActionResult:
        """Hide the message from everyone but its author, where `territories` says: ISO 3166-1
        alpha-2 codes of the viewers' countries, None for everywhere. The message stays in its
        chat for its author and for Trustdesk (state RESTRICTED), but other members, search,
        previews and forwards no longer show it there. `until` (aware, in the future) ends it
        by itself; None lasts until lifted. Restricting again on the same terms answers ok with
        the earlier ref; new terms replace the old ones. A removed message is refused."""

    @abstractmethod
    def lift_message_restriction(self, message_id: str, *, reason: str) -> ActionResult:
        """End a restriction (an appeal upheld, an order withdrawn): the message is VISIBLE
        again. Lifting one that was already lifted or has lapsed is ok and says so; a
        message never restricted is refused with ok=False."""

    @abstractmethod
    def restrict_account(self, account_id: str, *, reason: str, until: datetime | None = None) -> ActionResult: ...

    @abstractmethod
    def suspend_account(self, account_id: str, *, reason: str, until: datetime | None = None) -> ActionResult: ...

    @abstractmethod
    def reinstate_account(self, account_id: str, *, reason: str) -> ActionResult: ...

    @abstractmethod
    def close_chat(self, chat_id: str, *, reason: str) -> ActionResult: ...

    @abstractmethod
    def reopen_chat(self, chat_id: str, *, reason: str) -> ActionResult:
        """Undo `close_chat` after an appeal: members may post again. A chat that is open is
        refused with ok=False; history was kept, so nothing comes back that was lost."""

    @abstractmethod
    def categories_held(self, chat_kind: ChatKind) -> frozenset[DataCategory]: ...

    @abstractmethod
    def retrieve(
        self, account_id: str, category: DataCategory, *, since: datetime | None = None, until: datetime | None = None
    ) -> HeldData: ...
