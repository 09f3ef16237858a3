"""What goes into a package: the platform's data, category by category and account by
account, through the platform port only, or the frozen snapshot of a legal hold converted
into this production. What the platform does not hold is answered 'not held', with its own
words why; it is never an error and never an empty file.

Targets bound the answer (issue #16): each `Scope` is one target as the order names it, and
a record goes into the package only when a target's scope admits it. A message target
yields that message (its content and traffic record), the sender's subscriber record and
the session in use when it was sent; a chat yields the target's records in that chat; a
window yields records inside it. A record whose time or message cannot be read is left
out: the filter never widens, whatever the platform answered."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from trustdesk.core.clock import as_utc
from trustdesk.legal.disclosure.packages import PackageFile, json_bytes
from trustdesk.platform.port import DataCategory, HeldData, Platform


@dataclass(frozen=True)
class Retrieved:
    files: list[PackageFile]
    not_held: list[dict[str, str]]


@dataclass(frozen=True)
class Scope:
    """One target as retrieval reads it: the account, and what narrows it. `message_at` is
    the named message's send time (the session then in use is its identification data)."""

    account_id: str
    message_id: str | None = None
    chat_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    message_at: datetime | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "account_id": self.account_id,
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "message_at": self.message_at.isoformat() if self.message_at else None,
        }


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def scope_of(
    *,
    account_id: str,
    message_id: str | None = None,
    chat_id: str | None = None,
    window: tuple[datetime | None, datetime | None] = (None, None),
    period: tuple[datetime | None, datetime | None] = (None, None),
    platform: Platform | None = None,
) -> Scope:
    """A target's scope inside the order's (or the decision's) period: the later start and
    the earlier end of the two, and the named message's time from the platform."""
    message_at = None
    if message_id is not None and platform is not None:
        try:
            message_at = platform.get_message(message_id).sent_at
        except LookupError:
            message_at = None
    return Scope(
        account_id=account_id,
        message_id=message_id,
        chat_id=chat_id,
        since=_later(window[0], period[0]),
        until=_earlier(window[1], period[1]),
        message_at=message_at,
    )


def _time(record: dict[str, object]) -> datetime | None:
    value = record.get("sent_at", record.get("at"))
    if isinstance(value, datetime):
        return as_utc(value)
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _in_window(record: dict[str, object], scope: Scope) -> bool:
    at = _time(record)
    if at is None:
        return scope.since is None and scope.until is None
    return (scope.since is None or at >= as_utc(scope.since)) and (scope.until is None or at <= as_utc(scope.until))


def admitted(category: DataCategory, records: list[dict[str, object]], scope: Scope) -> list[dict[str, object]]:
    """The records of one category that `scope` admits, in the platform's order."""
    if category is DataCategory.SUBSCRIBER:
        return list(records)  # who the target is: the answer to every target of the account
    if category is DataCategory.IDENTIFICATION:
        timed = [r for r in records if _in_window(r, scope)]
        if scope.message_id is None:
            return timed
        if scope.message_at is None:
            return []
        before = [r for r in timed if (at := _time(r)) is not None and at <= as_utc(scope.message_at)]
        return [max(before, key=lambda r: _time(r) or as_utc(scope.message_at))] if before else []  # type: ignore[arg-type]
    kept = [r for r in records if _in_window(r, scope)]
    if scope.message_id is not None:
        kept = [r for r in kept if r.get("message_id") == scope.message_id]
    if scope.chat_id is not None:
        kept = [r for r in kept if r.get("chat_id") == scope.chat_id]
    return kept


def _key(record: dict[str, object]) -> str:
    return json.dumps(record, sort_keys=True, default=str)


def _union(category: DataCategory, data: HeldData, scopes: Iterable[Scope]) -> HeldData:
    """What any of one account's scopes admits, each record once, in the platform's order."""
    wanted = {_key(r) for s in scopes for r in admitted(category, data.records, s)}
    records, seen = [], set()
    for record in data.records:
        key = _key(record)
        if key in wanted and key not in seen:
            seen.add(key)
            records.append(record)
    return HeldData(category=category, held=data.held, records=records, note=data.note)


def _bounds(scopes: list[Scope]) -> tuple[datetime | None, datetime | None]:
    """The platform is asked for the hull of the scopes' windows; the filter does the rest."""
    since = None if any(s.since is None for s in scopes) else min(s.since for s in scopes if s.since)
    until = None if any(s.until is None for s in scopes) else max(s.until for s in scopes if s.until)
    return since, until


def _from_snapshot(snapshot: dict[str, dict[str, object]], category: DataCategory) -> HeldData | None:
    raw = snapshot.get(category.value)
    if raw is None:
        return None
    records = raw["records"]
    if not isinstance(records, list):
        raise ValueError(f"the snapshot's {category.value} records are not a list")
    return HeldData(category=category, held=bool(raw["held"]), records=list(records), note=str(raw.get("note", "")))


def held_data(
    platform: Platform,
    *,
    account_id: str,
    category: DataCategory,
    since: datetime | None,
    until: datetime | None,
    snapshot: dict[str, dict[str, object]] | None = None,
) -> HeldData:
    frozen = _from_snapshot(snapshot or {}, category)
    return frozen if frozen is not None else platform.retrieve(account_id, category, since=since, until=until)


def snapshot_of(
    platform: Platform,
    *,
    account_id: str,
    categories: list[DataCategory],
    since: datetime | None,
    until: datetime | None,
    scope: Scope | None = None,
) -> dict[str, dict[str, object]]:
    """A legal hold's frozen copy: every category as the platform answers it now, only what
    the target's `scope` admits (a hold of one message freezes that message)."""
    out: dict[str, dict[str, object]] = {}
    for category in categories:
        data = platform.retrieve(account_id, category, since=since, until=until)
        records = data.records if scope is None else admitted(category, data.records, scope)
        out[category.value] = {"held": data.held, "records": records, "note": data.note}
    return json.loads(json.dumps(out, default=str))


def _media(platform: Platform, records: list[dict[str, object]], account_id: str) -> list[PackageFile]:
    files = []
    for record in records:
        media = record.get("media") or []
        if not isinstance(media, list):
            raise ValueError(f"a record's media is not a list: {media!r}")
        for item in media:
            meta, data = platform.get_media(str(item["media_id"]))
            files.append(PackageFile(f"data/{account_id}/media/{meta.id}", data, account_id, DataCategory.CONTENT.value))
    return files


def collect(
    platform: Platform,
    *,
    accounts: list[str],
    categories: list[DataCategory],
    since: datetime | None,
    until: datetime | None,
    snapshots: dict[str, dict[str, dict[str, object]]] | None = None,
    scopes: list[Scope] | None = None,
) -> Retrieved:
    """Every category of every account in the package, each cut to what the targets name:
    `scopes` (one per target; the whole account inside [since, until] where None)."""
    files: list[PackageFile] = []
    not_held: list[dict[str, str]] = []
    if scopes is None:
        scopes = [Scope(account_id=a, since=since, until=until) for a in accounts]
    for account_id in dict.fromkeys(s.account_id for s in scopes if s.account_id in accounts):
        mine = [s for s in scopes if s.account_id == account_id]
        lower, upper = _bounds(mine)
        for category in categories:
            raw = held_data(
                platform,
                account_id=account_id,
                category=category,
                since=lower,
                until=upper,
                snapshot=(snapshots or {}).get(account_id),
            )
            data = _union(category, raw, mine)
            if not data.held:
                not_held.append({"account_id": account_id, "category": category.value, "note": data.note or "not held"})
                continue
            body = {"account_id": account_id, "category": category.value, "records": data.records, "note": data.note}
            files.append(PackageFile(f"data/{account_id}/{category.value}.json", json_bytes(body), account_id, category.value))
            if category is DataCategory.CONTENT:
                files.extend(_media(platform, data.records, account_id))
    return Retrieved(files, not_held)
