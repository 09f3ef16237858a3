"""Demo data a reviewer recognises: ordinary people in several countries, and a few obvious
bad actors (a drug seller in a neighbourhood group, sextortion threats in a direct chat, a
propaganda channel whose poster is re-shared with small edits), over the last 30 days.

Deterministic for a given `rng_seed` and clock (bar the opaque bytes of secret chats), and
idempotent: a marker row records the seeding and the cast, and a second call returns it."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from trustdesk.platform.demo import cast, imagery
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.models import DemoMarker

MARKER = "seed"
HISTORY_DAYS = 30
BAD_ACTORS = frozenset({"dealer", "extortionist", "herald", "reposter"})


@dataclass(frozen=True)
class DemoCast:
    """Ids of what the seed made, by the names in `cast.py`: accounts and chats by key,
    notable messages by line key, media by image name (first use)."""

    accounts: dict[str, str] = field(default_factory=dict)
    chats: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)


def seed_demo(platform: DemoPlatform, *, rng_seed: int = 7) -> DemoCast:
    """Seed once; on a seeded database return the recorded cast and change nothing."""
    existing = _recorded_cast(platform)
    if existing is not None:
        return existing
    rng = random.Random(rng_seed)
    now = platform.clock.now()
    accounts = _people(platform, now=now)
    chats = _chats(platform, accounts=accounts, now=now)
    _logins(platform, accounts=accounts, rng=rng, now=now)
    messages, media = _messages(platform, accounts=accounts, chats=chats, rng=rng, now=now)
    result = DemoCast(accounts=accounts, chats=chats, messages=messages, media=media)
    with platform.store.transaction() as session:
        session.add(DemoMarker(name=MARKER, value=json.dumps(asdict(result) | {"rng_seed": rng_seed}), at=now))
    return result


def _recorded_cast(platform: DemoPlatform) -> DemoCast | None:
    with platform.store.transaction() as session:
        marker = session.get(DemoMarker, MARKER)
        if marker is None:
            return None
        recorded = json.loads(marker.value)
    return DemoCast(**{name: recorded[name] for name in ("accounts", "chats", "messages", "media")})


def _people(platform: DemoPlatform, *, now: datetime) -> dict[str, str]:
    ids = {}
    for person in cast.PEOPLE:
        account = platform.posting.create_account(
            username=person.username,
            display_name=person.display_name,
            phone=person.phone,
            email=person.email,
            country=person.country,
            created_at=now - timedelta(days=person.registered_days_ago),
        )
        ids[person.key] = account.id
    return ids


def _chats(platform: DemoPlatform, *, accounts: dict[str, str], now: datetime) -> dict[str, str]:
    ids = {}
    for plan in cast.CHATS:
        members = [accounts[key] for key in plan.members]
        created = now - timedelta(days=HISTORY_DAYS + 1)
        ids[plan.key] = platform.posting.create_chat(kind=plan.kind, title=plan.title, member_ids=members, created_at=created).id
    return ids


def _logins(platform: DemoPlatform, *, accounts: dict[str, str], rng: random.Random, now: datetime) -> None:
    """Two to four logins each, from documentation address ranges, IPv4 and IPv6 mixed."""
    for account_id in accounts.values():
        for _ in range(rng.randint(2, 4)):
            at = now - timedelta(days=rng.uniform(0.5, HISTORY_DAYS), seconds=rng.randint(0, 3599))
            platform.posting.record_login(
                account_id=account_id,
                ip=_address(rng),
                port=rng.randint(1024, 65535),
                user_agent=rng.choice(cast.USER_AGENTS),
                at=at,
            )


def _address(rng: random.Random) -> str:
    if rng.random() < 0.35:
        return f"2001:db8:{rng.randint(1, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"
    network = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
    return f"{network}.{rng.randint(1, 254)}"


def _filler(*, rng: random.Random) -> list[cast.Line]:
    """Small talk from ordinary members only, so that every bad message is a scripted one."""
    members = {plan.key: [m for m in plan.members if m not in BAD_ACTORS] for plan in cast.CHATS}
    lines = []
    for _ in range(cast.FILLER_COUNT):
        chat = rng.choice(cast.FILLER_CHATS)
        days_ago = round(rng.uniform(0.05, HISTORY_DAYS - 0.5), 4)
        lines.append(cast.Line(chat, rng.choice(members[chat]), days_ago, rng.choice(cast.SMALL_TALK)))
    return lines


def _messages(
    platform: DemoPlatform, *, accounts: dict[str, str], chats: dict[str, str], rng: random.Random, now: datetime
) -> tuple[dict[str, str], dict[str, str]]:
    """Post everything oldest first, so that message ids grow with time as on a real server."""
    lines = sorted([*cast.SCRIPT, *_filler(rng=rng)], key=lambda line: -line.days_ago)
    messages: dict[str, str] = {}
    media: dict[str, str] = {}
    for line in lines:
        uploads = [imagery.IMAGES[name]() for name in line.media]
        posted = platform.posting.post_message(
            chat_id=chats[line.chat],
            sender_id=accounts[line.sender],
            text=line.text,
            media=uploads,
            sent_at=now - timedelta(days=line.days_ago),
        )
        if line.key:
            messages[line.key] = posted.id
        for name, item in zip(line.media, posted.media, strict=True):
            media.setdefault(name, item.id)
    return messages, media
