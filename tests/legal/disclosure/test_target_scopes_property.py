"""Property (issue #16 item 5): no package ever holds data outside the order's targets x
categories x period. Orders and platform data are generated; the package is built by the
real retrieval and packaging code, read back from its signed ZIP, and every record checked
against an independent statement of what each target admits.

The platform here answers as a platform does, account-wide within [since, until]: the
scoping is Trustdesk's job, not the platform's."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.legal.disclosure import packages, retrieval
from trustdesk.legal.signing import load_or_create
from trustdesk.platform.port import (
    Account,
    AccountState,
    ActionResult,
    Chat,
    ChatKind,
    DataCategory,
    HeldData,
    MediaItem,
    Message,
    MessageState,
    Platform,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
KEY = load_or_create(Path(tempfile.mkdtemp(prefix="scopes-key-")))
ACCOUNTS = ("u1", "u2", "u3")
CHATS = ("c1", "c2")


@dataclass(frozen=True)
class World:
    messages: tuple[Message, ...]
    logins: tuple[tuple[str, datetime], ...]  # (account, at)


class Recorded(Platform):
    """An in-memory platform: what it holds is the generated world, answered account-wide."""

    name = "property"

    def __init__(self, world: World) -> None:
        self.world = world

    def get_account(self, account_id: str) -> Account:
        if account_id not in ACCOUNTS:
            raise LookupError(account_id)
        return Account(account_id, account_id, account_id, None, None, T0, AccountState.ACTIVE)

    def get_message(self, message_id: str) -> Message:
        for message in self.world.messages:
            if message.id == message_id:
                return message
        raise LookupError(message_id)

    def get_media(self, media_id: str) -> tuple[MediaItem, bytes]:
        for message in self.world.messages:
            for item in message.media:
                if item.id == media_id:
                    return item, media_id.encode()
        raise LookupError(media_id)

    def retrieve(
        self, account_id: str, category: DataCategory, *, since: datetime | None = None, until: datetime | None = None
    ) -> HeldData:
        def inside(at: datetime) -> bool:
            return (since is None or at >= since) and (until is None or at <= until)

        if category is DataCategory.SUBSCRIBER:
            return HeldData(category, True, [{"account_id": account_id}])
        if category is DataCategory.IDENTIFICATION:
            rows = [{"at": at.isoformat(), "ip": f"ip-{n}"} for n, (a, at) in enumerate(self.world.logins) if a == account_id]
            return HeldData(category, True, [r for r in rows if inside(datetime.fromisoformat(r["at"]))])
        mine = [m for m in self.world.messages if m.sender_id == account_id and inside(m.sent_at)]
        records: list[dict[str, object]] = [
            {
                "message_id": m.id,
                "chat_id": m.chat_id,
                "sent_at": m.sent_at.isoformat(),
                **({"text": m.text, "media": [{"media_id": i.id} for i in m.media]} if category is DataCategory.CONTENT else {}),
            }
            for m in mine
        ]
        return HeldData(category, True, records)

    # Not used by retrieval.
    def find_account(self, *, username: str | None = None, phone: str | None = None) -> Account | None:
        raise NotImplementedError

    def get_chat(self, chat_id: str) -> Chat:
        return Chat(chat_id, ChatKind.GROUP, chat_id, ACCOUNTS)

    def list_messages(self, account_id: str, *, since=None, until=None, limit: int = 1000) -> list[Message]:
        raise NotImplementedError

    def chat_context(self, message_id: str, *, before: int = 5, after: int = 5) -> list[Message]:
        raise NotImplementedError

    def _no(self, *args: object, **kwargs: object) -> ActionResult:
        return ActionResult(False, "not in this test")

    remove_message = restore_message = restrict_message = lift_message_restriction = _no  # type: ignore[assignment]
    restrict_account = suspend_account = reinstate_account = close_chat = reopen_chat = _no  # type: ignore[assignment]

    def categories_held(self, chat_kind: ChatKind) -> frozenset[DataCategory]:
        return frozenset(DataCategory)


hours = st.integers(min_value=0, max_value=24 * 20)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(st.integers(min_value=1, max_value=14))
    messages = tuple(
        Message(
            id=f"m{i}",
            chat_id=draw(st.sampled_from(CHATS)),
            sender_id=draw(st.sampled_from(ACCOUNTS)),
            sent_at=T0 + timedelta(hours=draw(hours)),
            text=f"text {i}",
            state=MessageState.VISIBLE,
            media=(MediaItem(f"f{i}", "image/png", 1, "x", f"m{i}"),) if draw(st.booleans()) else (),
        )
        for i in range(n)
    )
    logins = tuple((draw(st.sampled_from(ACCOUNTS)), T0 + timedelta(hours=draw(hours))) for _ in range(draw(st.integers(0, 8))))
    return World(messages, logins)


def windows() -> st.SearchStrategy[tuple[datetime | None, datetime | None]]:
    edge = st.none() | hours.map(lambda h: T0 + timedelta(hours=h))
    return st.tuples(edge, edge).map(lambda w: (w[0], w[1]) if None in w or w[0] <= w[1] else (w[1], w[0]))  # type: ignore[operator]


@st.composite
def orders(draw: st.DrawFn, world: World) -> tuple[list[DataCategory], tuple, list[dict]]:
    categories = draw(st.lists(st.sampled_from(list(DataCategory)), min_size=1, unique=True))
    period = draw(windows())
    targets = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if draw(st.booleans()):
            message = draw(st.sampled_from(world.messages))
            targets.append({"account": message.sender_id, "message": message.id, "message_at": message.sent_at})
        else:
            targets.append(
                {
                    "account": draw(st.sampled_from(ACCOUNTS)),
                    "chat": draw(st.none() | st.sampled_from(CHATS)),
                    "window": draw(windows()),
                }
            )
    return categories, period, targets


def _inside(at: datetime, *bounds: tuple[datetime | None, datetime | None]) -> bool:
    return all((lo is None or at >= lo) and (hi is None or at <= hi) for lo, hi in bounds)


def _admits(target: dict, category: DataCategory, record: dict, period: tuple) -> bool:
    """Independent of the code under test: may this record answer this target?"""
    if category is DataCategory.SUBSCRIBER:
        return True
    at = datetime.fromisoformat(str(record.get("sent_at", record.get("at"))))
    window = target.get("window", (None, None))
    if not _inside(at, period, window):
        return False
    if "message" in target:
        if category is DataCategory.IDENTIFICATION:
            return at <= target["message_at"]
        return record["message_id"] == target["message"]
    return target.get("chat") is None or category is DataCategory.IDENTIFICATION or record["chat_id"] == target["chat"]


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_no_package_holds_data_outside_the_targets_categories_and_period(data: st.DataObject) -> None:
    world = data.draw(worlds())
    categories, period, targets = data.draw(orders(world))
    platform = Recorded(world)
    scopes = [
        retrieval.scope_of(
            account_id=t["account"],
            message_id=t.get("message"),
            chat_id=t.get("chat"),
            window=t.get("window", (None, None)),
            period=period,
            platform=platform,
        )
        for t in targets
    ]
    accounts = list(dict.fromkeys(t["account"] for t in targets))
    got = retrieval.collect(platform, accounts=accounts, categories=categories, since=period[0], until=period[1], scopes=scopes)
    built = packages.build(header={"request": {}}, files=got.files, not_held=got.not_held, key=KEY)
    check = packages.verify(built, public_key_b64=KEY.public_key_b64)
    assert check.ok, check.problems
    admitted_media = set()
    with zipfile.ZipFile(io.BytesIO(built)) as archive:
        for entry in check.manifest["files"]:
            account, category = entry["account_id"], entry["category"]
            assert account in accounts and DataCategory(category) in categories, entry["path"]
            if not entry["path"].endswith(".json"):
                assert entry["path"].rsplit("/", 1)[-1] in admitted_media, "media only of records the targets admit"
                continue
            body = json.loads(archive.read(entry["path"]))
            mine = [t for t in targets if t["account"] == account]
            for record in body["records"]:
                assert any(_admits(t, DataCategory(category), record, period) for t in mine), (entry["path"], record, mine)
                admitted_media |= {m["media_id"] for m in record.get("media", [])}
