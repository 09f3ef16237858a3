"""What a platform relies on from the webhook connector besides the contract: it can tell
Trustdesk's requests from forgeries and replays, transient failures are retried without
acting twice, and a refusal comes back as the platform's own words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.platform.contract import ContractWorld
from tests.platform.webhook.conftest import SECRET, FlakyTransport
from trustdesk.core import signing
from trustdesk.core.settings import load_settings
from trustdesk.platform.demo import DemoPlatform
from trustdesk.platform.port import MessageState, PlatformError
from trustdesk.platform.webhook.adapter import WebhookPlatform
from trustdesk.web.container import build_platform


def _post(
    base_url: str, body: dict[str, object], *, secret: bytes = SECRET, at: datetime | None = None, tamper: bool = False
) -> httpx.Response:
    raw = json.dumps(body).encode()
    header = signing.sign(secret=secret, body=raw, at=at or datetime.now(UTC))
    sent = raw.replace(b"reason", b"REASON") if tamper else raw
    return httpx.post(f"{base_url}/remove_message", content=sent, headers={signing.SIGNATURE_HEADER: header})


def _removal(world: ContractWorld) -> dict[str, object]:
    return {"message_id": world.group_message_ids[0], "reason": "forged"}


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("wrong secret", {"secret": b"not-the-shared-secret"}),
        ("too old", {"at": datetime.now(UTC) - timedelta(hours=1)}),
        ("body changed after signing", {"tamper": True}),
    ],
)
def test_the_platform_refuses_requests_not_signed_by_trustdesk(
    base_url: str, demo: DemoPlatform, demo_world: ContractWorld, case: str, kwargs: dict[str, object]
) -> None:
    response = _post(base_url, _removal(demo_world), **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 401, case
    assert demo.get_message(demo_world.group_message_ids[0]).state is MessageState.VISIBLE


def test_an_unsigned_request_is_refused(base_url: str, demo: DemoPlatform, demo_world: ContractWorld) -> None:
    response = httpx.post(f"{base_url}/remove_message", json=_removal(demo_world))
    assert response.status_code == 401 and "timestamp" in response.json()["error"]
    assert demo.get_message(demo_world.group_message_ids[0]).state is MessageState.VISIBLE


def test_an_adapter_with_the_wrong_secret_gets_a_platform_error(base_url: str, demo_world: ContractWorld) -> None:
    adapter = WebhookPlatform(base_url=base_url, secret=b"not-the-shared-secret", backoff_s=0.01)
    with pytest.raises(PlatformError, match="401.*signature does not match"):
        adapter.get_account(demo_world.account_id)


@pytest.mark.parametrize("mode", ["refuse", "5xx"])
def test_transient_failures_are_retried(base_url: str, demo: DemoPlatform, demo_world: ContractWorld, mode: str) -> None:
    transport = FlakyTransport(failures=2, mode=mode)
    adapter = WebhookPlatform(base_url=base_url, secret=SECRET, backoff_s=0.01, transport=transport)
    result = adapter.remove_message(demo_world.group_message_ids[0], reason="drug sales")
    assert result.ok and len(transport.requests) == 3
    assert demo.get_message(demo_world.group_message_ids[0]).state is MessageState.REMOVED


def test_retries_of_one_call_carry_one_idempotency_key_and_fresh_signatures(base_url: str, demo_world: ContractWorld) -> None:
    transport = FlakyTransport(failures=2, mode="refuse")
    adapter = WebhookPlatform(base_url=base_url, secret=SECRET, backoff_s=0.01, transport=transport)
    adapter.remove_message(demo_world.group_message_ids[0], reason="drug sales")
    keys = {r.headers["Idempotency-Key"] for r in transport.requests}
    deliveries = {r.headers[signing.DELIVERY_HEADER] for r in transport.requests}
    assert len(keys) == 1 and keys == deliveries
    adapter.remove_message(demo_world.group_message_ids[1], reason="drug sales")
    assert transport.requests[-1].headers["Idempotency-Key"] not in keys


def test_lookups_carry_no_idempotency_key(base_url: str, demo_world: ContractWorld) -> None:
    transport = FlakyTransport(failures=0, mode="refuse")
    WebhookPlatform(base_url=base_url, secret=SECRET, transport=transport).get_account(demo_world.account_id)
    assert "Idempotency-Key" not in transport.requests[0].headers


def test_a_lost_answer_does_not_make_the_platform_act_twice(base_url: str, demo_world: ContractWorld) -> None:
    """The first attempt removed the message but its answer was lost: the retry must get that
    first answer ('removed'), not a second removal's 'already removed'."""
    transport = FlakyTransport(failures=1, mode="lose")
    adapter = WebhookPlatform(base_url=base_url, secret=SECRET, backoff_s=0.01, transport=transport)
    result = adapter.remove_message(demo_world.group_message_ids[0], reason="drug sales")
    assert result.ok and "already" not in result.detail and len(transport.requests) == 2


def test_giving_up_after_the_attempts_says_why(base_url: str, demo_world: ContractWorld) -> None:
    transport = FlakyTransport(failures=99, mode="5xx")
    adapter = WebhookPlatform(base_url=base_url, secret=SECRET, attempts=3, backoff_s=0.01, transport=transport)
    with pytest.raises(PlatformError, match="after 3 attempts: answered 503 maintenance"):
        adapter.remove_message(demo_world.group_message_ids[0], reason="drug sales")
    assert len(transport.requests) == 3


def test_an_unreachable_platform_is_a_platform_error() -> None:
    from tests.platform.matrix.synapse_server import free_port

    adapter = WebhookPlatform(base_url=f"http://127.0.0.1:{free_port()}", secret=SECRET, attempts=2, backoff_s=0.01)
    with pytest.raises(PlatformError, match="after 2 attempts: unreachable"):
        adapter.get_account("u1")


def test_a_4xx_is_not_retried_and_keeps_the_platforms_words(base_url: str, demo_world: ContractWorld) -> None:
    transport = FlakyTransport(failures=0, mode="refuse")
    adapter = WebhookPlatform(base_url=base_url, secret=SECRET, transport=transport)
    with pytest.raises(PlatformError, match=r"refused list_messages \(422\): limit"):
        adapter.list_messages(demo_world.account_id, limit="many")  # type: ignore[arg-type]
    assert len(transport.requests) == 1


def test_a_timeout_is_retried_then_reported(demo_world: ContractWorld) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer in time", request=request)

    adapter = WebhookPlatform(
        base_url="http://platform.invalid", secret=SECRET, attempts=2, backoff_s=0.01, transport=httpx.MockTransport(slow)
    )
    with pytest.raises(PlatformError, match="after 2 attempts: timed out"):
        adapter.suspend_account(demo_world.other_account_id, reason="spam")


def test_a_malformed_answer_is_a_platform_error_naming_the_field() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"id": "u1", "username": "a"}))
    adapter = WebhookPlatform(base_url="http://platform.invalid", secret=SECRET, transport=transport)
    with pytest.raises(PlatformError, match="get_account is malformed at display_name"):
        adapter.get_account("u1")


def test_bad_input_is_refused_before_anything_is_sent(demo_world: ContractWorld) -> None:
    transport = FlakyTransport(failures=0, mode="refuse")
    adapter = WebhookPlatform(base_url="http://platform.invalid", secret=SECRET, transport=transport)
    with pytest.raises(ValueError):
        adapter.close_chat(demo_world.group_chat_id, reason=" ")
    with pytest.raises(ValueError):
        adapter.restrict_account(demo_world.other_account_id, reason="x", until=datetime.now(UTC) - timedelta(days=1))
    assert transport.requests == []


def test_the_platform_setting_selects_the_webhook_adapter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        data_dir=tmp_path,
        platform="webhook",
        webhook_base_url="http://platform.example/td",
        webhook_secret="s3cret",
        webhook_attempts=2,
    )
    assert isinstance(build_platform(settings), WebhookPlatform)
    with pytest.raises(ValueError, match="TRUSTDESK_WEBHOOK_SECRET"):
        build_platform(load_settings(data_dir=tmp_path, platform="webhook", webhook_base_url="http://platform.example"))
