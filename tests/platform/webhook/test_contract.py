"""The webhook adapter against the example platform server on loopback, held to the same
platform contract as the demo and Synapse: every lookup and action goes over signed HTTP."""

from __future__ import annotations

import pytest

from tests.platform.contract import ContractWorld, PlatformContract
from trustdesk.platform.webhook.adapter import WebhookPlatform


class TestWebhookContract(PlatformContract):
    @pytest.fixture
    def platform(self, webhook: WebhookPlatform) -> WebhookPlatform:
        return webhook

    @pytest.fixture
    def world(self, demo_world: ContractWorld) -> ContractWorld:
        return demo_world
