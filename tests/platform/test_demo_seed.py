"""The seeded demo: what a reviewer and the later pipelines rely on finding there."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from trustdesk.core.clock import FrozenClock
from trustdesk.platform.demo import DemoCast, DemoPlatform, seed_demo
from trustdesk.platform.demo.models import DemoAccount, DemoLoginSession, DemoMedia, DemoMessage
from trustdesk.platform.port import ChatKind, DataCategory

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded() -> tuple[DemoPlatform, DemoCast]:
    """Seeded once for the module: the tests here only read."""
    platform = DemoPlatform.from_url("sqlite://", clock=FrozenClock(NOW))
    return platform, seed_demo(platform)


def _count(platform: DemoPlatform, model: type) -> int:
    with platform.store.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_seed_has_the_promised_size(seeded: tuple[DemoPlatform, DemoCast]) -> None:
    platform, cast = seeded
    assert 12 <= _count(platform, DemoAccount) <= 14
    assert 75 <= _count(platform, DemoMessage) <= 90
    assert _count(platform, DemoMedia) >= 6
    kinds = Counter(platform.get_chat(chat_id).kind for chat_id in cast.chats.values())
    assert kinds[ChatKind.SECRET] == 2 and kinds[ChatKind.CHANNEL] >= 1 and kinds[ChatKind.GROUP] >= 2


def test_accounts_come_from_several_countries(seeded: tuple[DemoPlatform, DemoCast]) -> None:
    platform, cast = seeded
    countries = {platform.get_account(i).country for i in cast.accounts.values()}
    assert {"DE", "FR", "US", "BR", "IN", "TR"} <= countries


def test_messages_fall_in_the_last_thirty_days(seeded: tuple[DemoPlatform, DemoCast]) -> None:
    platform, cast = seeded
    for account_id in cast.accounts.values():
        for message in platform.list_messages(account_id):
            assert NOW - timedelta(days=30) <= message.sent_at <= NOW


def test_the_bad_actors_are_where_a_reviewer_looks(seeded: tuple[DemoPlatform, DemoCast]) -> None:
    platform, cast = seeded
    ad = platform.get_message(cast.messages["drug_ad"])
    assert platform.get_chat(ad.chat_id).kind is ChatKind.GROUP and "delivery" in ad.text.lower()
    threat = platform.get_message(cast.messages["extortion_threat"])
    assert platform.get_chat(threat.chat_id).kind is ChatKind.DIRECT and "bitcoin" in threat.text
    poster = platform.get_message(cast.messages["propaganda_poster"])
    assert platform.get_chat(poster.chat_id).kind is ChatKind.CHANNEL and poster.media


def test_the_reposted_posters_are_edits_of_the_original(seeded: tuple[DemoPlatform, DemoCast]) -> None:
    """Different bytes (so exact hashes miss them), and, where PDQ is installed, within its
    usual match distance of the original (so perceptual matching finds them)."""
    platform, cast = seeded
    images = {name: platform.get_media(cast.media[name]) for name in ("poster", "poster_resized", "poster_cropped")}
    assert len({item.sha256 for item, _ in images.values()}) == 3
    pdqhash = pytest.importorskip("pdqhash")
    hashes = {
        name: pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))[0] for name, (_, data) in images.items()
    }
    for edit in ("poster_resized", "poster_cropped"):
        assert int((hashes["poster"] != hashes[edit]).sum()) <= 31, edit


def test_media_are_real_images(seeded: tuple[DemoPlatform, DemoCast]) -> None:
    platform, cast = seeded
    for media_id in cast.media.values():
        item, data = platform.get_media(media_id)
        assert item.sha256 == hashlib.sha256(data).hexdigest()
        Image.open(io.BytesIO(data)).verify()


def test_logins_use_ipv4_and_ipv6(seeded: tuple[DemoPlatform, DemoCast]) -> None:
    platform, _ = seeded
    with platform.store.transaction() as session:
        addresses = session.scalars(select(DemoLoginSession.ip)).all()
    assert any(":" in a for a in addresses) and any("." in a for a in addresses)


def test_the_dealers_secret_chat_content_is_not_disclosed(seeded: tuple[DemoPlatform, DemoCast]) -> None:
    platform, cast = seeded
    buyer = cast.accounts["emre"]
    content = platform.retrieve(buyer, DataCategory.CONTENT)
    secret_chat = cast.chats["dealer_secret"]
    assert all(record["chat_id"] != secret_chat for record in content.records) and "secret" in content.note
    traffic = platform.retrieve(buyer, DataCategory.TRAFFIC)
    assert any(record["chat_id"] == secret_chat for record in traffic.records)


def test_seeding_twice_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo-platform.db'}"
    first = seed_demo(DemoPlatform.from_url(url, clock=FrozenClock(NOW)))
    again = DemoPlatform.from_url(url, clock=FrozenClock(NOW + timedelta(days=3)))
    assert seed_demo(again) == first
    assert _count(again, DemoAccount) == len(first.accounts) and 75 <= _count(again, DemoMessage) <= 90


def test_seed_is_deterministic_for_a_seed_and_a_clock() -> None:
    def texts(rng_seed: int) -> list[tuple[str, str | None]]:
        platform = DemoPlatform.from_url("sqlite://", clock=FrozenClock(NOW))
        cast = seed_demo(platform, rng_seed=rng_seed)
        return [(m.id, m.text) for a in cast.accounts.values() for m in platform.list_messages(a)]

    assert texts(7) == texts(7) and texts(7) != texts(8)
