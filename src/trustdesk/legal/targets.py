"""Targets: what the authority names (an account id, a username, a phone number, a link, a
message id), normalised to the platform's own form and resolved through the platform port.

A target written for another platform (a t.me link, a foreign id format) is refused with a
message that says so, rather than matched to someone it was never meant for."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Target:
    """A normalised target: `kind` is what it finally names (a link becomes the username,
    account or message it points at); `raw` is what the authority wrote."""

    kind: TargetKind
    raw: str
    normalised: str


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


def parse_targets(
    items: list[tuple[str | None, str]], fmt: PlatformFormat | None = None, *, max_targets: int = MAX_TARGETS
) -> list[Target]:
    """(kind or None, value) pairs to normalised targets, duplicates dropped, order kept; at
    most `max_targets` (the lawful_request_max_targets setting)."""
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
    targets = [normalise(_kind(kind, value, fmt), value, fmt) for kind, value in items]
    return list({(t.kind, t.normalised): t for t in targets}.values())


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
