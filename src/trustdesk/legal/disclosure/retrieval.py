"""What goes into a package: the platform's data, category by category and account by
account, through the platform port only, or the frozen snapshot of a legal hold converted
into this production. What the platform does not hold is answered 'not held', with its own
words why; it is never an error and never an empty file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from trustdesk.legal.disclosure.packages import PackageFile, json_bytes
from trustdesk.platform.port import DataCategory, HeldData, Platform


@dataclass(frozen=True)
class Retrieved:
    files: list[PackageFile]
    not_held: list[dict[str, str]]


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
    platform: Platform, *, account_id: str, categories: list[DataCategory], since: datetime | None, until: datetime | None
) -> dict[str, dict[str, object]]:
    """A legal hold's frozen copy: every category as the platform answers it now."""
    out: dict[str, dict[str, object]] = {}
    for category in categories:
        data = platform.retrieve(account_id, category, since=since, until=until)
        out[category.value] = {"held": data.held, "records": data.records, "note": data.note}
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
) -> Retrieved:
    files: list[PackageFile] = []
    not_held: list[dict[str, str]] = []
    for account_id in accounts:
        for category in categories:
            data = held_data(
                platform,
                account_id=account_id,
                category=category,
                since=since,
                until=until,
                snapshot=(snapshots or {}).get(account_id),
            )
            if not data.held:
                not_held.append({"account_id": account_id, "category": category.value, "note": data.note or "not held"})
                continue
            body = {"account_id": account_id, "category": category.value, "records": data.records, "note": data.note}
            files.append(PackageFile(f"data/{account_id}/{category.value}.json", json_bytes(body), account_id, category.value))
            if category is DataCategory.CONTENT:
                files.extend(_media(platform, data.records, account_id))
    return Retrieved(files, not_held)
