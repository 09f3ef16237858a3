from __future__ import annotations

import pytest

from tests.legal.conftest import LegalFactory
from tests.legal.disclosure.desk import Desk
from tests.legal.disclosure.factories import Cast, Scenarios, build_cast
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.platform.demo.adapter import DemoPlatform


@pytest.fixture
def cast(platform: DemoPlatform) -> Cast:
    return build_cast(platform)


@pytest.fixture
def scenarios(legal: LegalFactory, cast: Cast) -> Scenarios:
    return Scenarios(legal, cast)


@pytest.fixture
def desk(db: Database, clock: FrozenClock, platform: DemoPlatform, legal: LegalFactory) -> Desk:
    return Desk(db, clock, platform, legal.data_dir, legal.blobs)
