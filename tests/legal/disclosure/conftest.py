from __future__ import annotations

import pytest

from tests.legal.conftest import LegalFactory
from tests.legal.disclosure.factories import Cast, Scenarios, build_cast
from trustdesk.platform.demo.adapter import DemoPlatform


@pytest.fixture
def cast(platform: DemoPlatform) -> Cast:
    return build_cast(platform)


@pytest.fixture
def scenarios(legal: LegalFactory, cast: Cast) -> Scenarios:
    return Scenarios(legal, cast)
