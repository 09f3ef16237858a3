"""Bank fixtures: a session in the rolled-back test transaction, a matcher that refreshes on
every query, and images that hash well (the demo poster and its re-shared edits)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from tests.conftest import TEST_ACTOR
from trustdesk.core.database import Database
from trustdesk.platform.demo import imagery
from trustdesk.safety.banks import service
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.banks.models import Bank
from trustdesk.safety.signals.hashing import hash_media


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.transaction() as session:
        yield session


@pytest.fixture
def matcher() -> MatchService:
    return MatchService(max_entries=100_000, refresh_seconds=0)


@pytest.fixture
def poster() -> bytes:
    return imagery.poster_original()[1]


@pytest.fixture
def poster_edits() -> list[bytes]:
    return [imagery.poster_resized()[1], imagery.poster_cropped()[1]]


@pytest.fixture
def unrelated() -> list[bytes]:
    return [imagery.IMAGES[name]()[1] for name in ("sunset", "mountains", "cat", "bar_chart")]


def make_bank(session: Session, clock, **options) -> Bank:  # type: ignore[no-untyped-def]
    options.setdefault("name", "Terror propaganda")
    if options.get("kind", "positive") == "positive":
        options.setdefault("policy", "terrorism")
    return service.create_bank(session, actor=TEST_ACTOR, clock=clock, **options)


def pdq_of(data: bytes) -> str:
    hashes = hash_media(data)
    assert hashes.pdq is not None
    return hashes.pdq
