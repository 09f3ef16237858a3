"""Targets: what the authority names (an account id, a username, a phone number, a link, a
message id), normalised to the platform's own form and resolved through the platform port.

A target written for another platform (a t.me link, a foreign id format) is refused with a
message that says so, rather than matched to someone it was never meant for.

A target can be narrowed (`TargetScope`): to one chat, and to its own time window inside
the order's period. A message target is that message alone. The answer carries only what
the targets name (disclosure/retrieval.py), never the sender's whole account."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trustdesk.core.errors import InvalidInput
from trustdesk.legal.instruments import RefusalReason
from trustdesk.legal.refusals import RefusedAtOnce
from trustdesk.platform.handles import normalise_phone, username_key, valid_username
from trustdesk.platform.port import Platform

FORMATS = Path(__file__).parent / "data" / "platform_formats.toml"
MAX_TARGETS = 50


class TargetKind(StrEnum):
    ACCOUNT_ID = "account_id"
    USERNAME = "username"
    PHONE = "phone"
    LINK = "link"
    MESSAGE_ID = "message_id"


@dataclass(frozen=True)
class PlatformFormat:
    account_id: re.Pattern[str]
    message_id: re.Pattern[str]
    link_hosts: frozenset[str]
    link_username: re.Pattern[str]
    link_account: re.Pattern[str]
    link_message: re.Pattern[str]
    foreign_hosts: dict[str, str]
    chat_id: re.Pattern[str] = re.compile("(?!)")


@dataclass(frozen=True)
class TargetScope:
    """What narrows one target: a chat (only the target's records in that chat) and a window
    (only records in [since, until], inside the order's period). Empty: the whole target."""

    chat_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "chat_id": self.chat_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass(frozen=True)
class Target:
    """A normalised target: `kind` is what it finally names (a link becomes the username,
    account or message it points at); `raw` is what the authority wrote."""

    kind: TargetKind
    raw: str
    normalised: str
    scope: TargetScope = field(default_factory=TargetScope)


@dataclass(frozen=True)
class Resolution:
    resolved: bool
    account_id: str | None = None
    message_id: str | None = None
    note: str = ""


@cache
def platform_format(name: str = "demo") -> PlatformFormat:
    with FORMATS.open("rb") as fh:
        raw: dict[str, Any] = tomllib.load(fh)
    if name not in raw["platforms"]:
        raise ValueError(f"no target format for the platform '{name}' in {FORMATS.name}")
    p = raw["platforms"][name]
    own = frozenset(p["link_hosts"])
    return PlatformFormat(
        account_id=re.compile(p["account_id"]),
        message_id=re.compile(p["message_id"]),
        link_hosts=frozenset(p["link_hosts"]),
        link_username=re.compile(p["link_username"]),
        link_account=re.compile(p["link_account"]),
        link_message=re.compile(p["link_message"]),
        foreign_hosts={host: name for host, name in raw["foreign_hosts"].items() if host not in own},
        chat_id=re.compile(p.get("chat_id", "(?!)")),
    )


def guess_kind(raw: str, fmt: PlatformFormat) -> TargetKind:
    """For a free-text line of the portal form: links, phones, ids, then usernames."""
    text = raw.strip()
    if "://" in text or text.lower().startswith(("www.", *fmt.foreign_hosts, *fmt.link_hosts)):
        return TargetKind.LINK
    if text.startswith(("+", "00")) or re.fullmatch(r"[\d\s\-().]{7,}", text):
        return TargetKind.PHONE
    if fmt.account_id.fullmatch(text):
        return TargetKind.ACCOUNT_ID
    if fmt.message_id.fullmatch(text):
        return TargetKind.MESSAGE_ID
    return TargetKind.USERNAME


def normalise(kind: TargetKind, raw: str, fmt: PlatformFormat) -> Target:
    """One target in the platform's form, or InvalidInput naming what is wrong with it."""
    text = raw.strip()
    if not text or len(text) > 500:
        raise InvalidInput("A target is empty or longer than 500 characters.", target=raw[:80])
    match kind:
        case TargetKind.LINK:
            return _from_link(text, fmt)
        case TargetKind.PHONE:
            phone = normalise_phone(text)
            if phone is None:
                raise InvalidInput(
                    f"'{text}' is not a full international phone number (write it as +<country code><number>).", target=text
                )
            return Target(TargetKind.PHONE, text, phone)
        case TargetKind.USERNAME:
            if not valid_username(text):
                raise InvalidInput(f"'{text}' is not a username on this platform (3-32 letters, digits or '_').", target=text)
            return Target(TargetKind.USERNAME, text, username_key(text))
        case TargetKind.ACCOUNT_ID | TargetKind.MESSAGE_ID:
            pattern = fmt.account_id if kind is TargetKind.ACCOUNT_ID else fmt.message_id
            if not pattern.fullmatch(text):
                raise InvalidInput(
                    f"'{text}' is not a {kind.value.replace('_', ' ')} of this platform (expected the form {pattern.pattern}).",
                    target=text,
                )
            return Target(kind, text, text)
    raise InvalidInput(f"Unknown target kind '{kind}'.")


def _from_link(text: str, fmt: PlatformFormat) -> Target:
    parts = urlsplit(text if "://" in text else f"https://{text}")
    host = (parts.hostname or "").lower()
    foreign = fmt.foreign_hosts.get(host.removeprefix("www."))
    ours = f"a link to {sorted(fmt.link_hosts)[0]}" if fmt.link_hosts else "the platform's own id"
    if foreign is not None:
        raise InvalidInput(
            f"'{text}' is a {foreign} link, not a link to this platform; send the username, phone number or {ours}.", target=text
        )
    if host not in fmt.link_hosts:
        raise InvalidInput(f"'{text}' is not a link to this platform (send {ours}).", target=text)
    for pattern, kind in (
        (fmt.link_username, TargetKind.USERNAME),
        (fmt.link_account, TargetKind.ACCOUNT_ID),
        (fmt.link_message, TargetKind.MESSAGE_ID),
    ):
        found = pattern.fullmatch(parts.path + (f"#{parts.fragment}" if parts.fragment else ""))
        if found:
            value = found.group(1)
            return Target(kind, text, username_key(value) if kind is TargetKind.USERNAME else value)
    raise InvalidInput(f"'{text}' links to this platform but not to an account or a message.", target=text)


TargetItem = tuple[str | None, str] | tuple[str | None, str, TargetScope]


def parse_targets(
    items: list[TargetItem],
    fmt: PlatformFormat | None = None,
    *,
    max_targets: int = MAX_TARGETS,
    period: tuple[datetime | None, datetime | None] = (None, None),
) -> list[Target]:
    """(kind or None, value[, scope]) to normalised targets, duplicates dropped, order kept;
    at most `max_targets` (the lawful_request_max_targets setting). A scope's window must lie
    within the order's `period`."""
    fmt = fmt or platform_format()
    if not items:
        raise RefusedAtOnce(
            "Name at least one target: an account id, username, phone number, link or message id.",
            reason=RefusalReason.INCOMPLETE,
        )
    if len(items) > max_targets:
        raise RefusedAtOnce(
            f"At most {max_targets} targets per request; split larger requests.", reason=RefusalReason.OTHER, targets=len(items)
        )
    targets = [_scoped(item, fmt, period) for item in items]
    return list({(t.kind, t.normalised, t.scope): t for t in targets}.values())


def _scoped(item: TargetItem, fmt: PlatformFormat, period: tuple[datetime | None, datetime | None]) -> Target:
    kind, value = item[0], item[1]
    target = normalise(_kind(kind, value, fmt), value, fmt)
    scope = item[2] if len(item) == 3 else TargetScope()  # type: ignore[misc]
    return Target(target.kind, target.raw, target.normalised, check_scope(target, scope, fmt, period))


def check_scope(
    target: Target, scope: TargetScope, fmt: PlatformFormat, period: tuple[datetime | None, datetime | None]
) -> TargetScope:
    """The scope as stored, or InvalidInput: a chat id in the platform's form, a window that
    is a window and lies inside the order's period (a target narrows an order, never widens it)."""
    if scope.chat_id is not None and not fmt.chat_id.fullmatch(scope.chat_id.strip()):
        raise InvalidInput(
            f"'{scope.chat_id}' is not a chat id of this platform (expected the form {fmt.chat_id.pattern}).",
            target=target.raw,
        )
    if target.kind is TargetKind.MESSAGE_ID and scope != TargetScope():
        raise InvalidInput(f"A message target ('{target.raw}') is that message alone: it takes no chat or window.")
    if scope.since is not None and scope.until is not None and scope.since > scope.until:
        raise InvalidInput(f"The window of target '{target.raw}' ends before it starts.", target=target.raw)
    start, end = period
    if (start is not None and scope.since is not None and scope.since < start) or (
        end is not None and scope.until is not None and scope.until > end
    ):
        raise InvalidInput(f"The window of target '{target.raw}' reaches outside the order's period.", target=target.raw)
    chat = scope.chat_id.strip() if scope.chat_id is not None else None
    return TargetScope(chat_id=chat, since=scope.since, until=scope.until)


def _kind(kind: str | None, value: str, fmt: PlatformFormat) -> TargetKind:
    if kind is None or kind == "":
        return guess_kind(value, fmt)
    try:
        return TargetKind(kind)
    except ValueError as exc:
        raise InvalidInput(f"Unknown target kind '{kind}'; use one of {', '.join(TargetKind)}.") from exc


def resolve(target: Target, platform: Platform) -> Resolution:
    """Ask the platform who the target is. Not found is an answer, recorded on the request."""
    try:
        match target.kind:
            case TargetKind.ACCOUNT_ID:
                return Resolution(True, account_id=platform.get_account(target.normalised).id)
            case TargetKind.MESSAGE_ID:
                message = platform.get_message(target.normalised)
                return Resolution(True, account_id=message.sender_id, message_id=message.id)
            case TargetKind.USERNAME:
                account = platform.find_account(username=target.normalised)
            case TargetKind.PHONE:
                account = platform.find_account(phone=target.normalised)
            case _:
                account = None
    except LookupError:
        return Resolution(False, note="no such account or message on the platform")
    if account is None:
        return Resolution(False, note="no account matches")
    return Resolution(True, account_id=account.id)
