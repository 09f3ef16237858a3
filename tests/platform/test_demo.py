"""The demo platform: the platform contract, and what only the demo promises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.platform.contract import ContractWorld, PlatformContract
from tests.platform.factories import build_contract_world
from trustdesk.core.clock import FrozenClock
from trustdesk.platform.demo import DemoPlatform
from trustdesk.platform.demo.models import DemoAction, DemoBase, DemoMessage
from trustdesk.platform.port import AccountState, ChatKind, DataCategory, MessageState, PlatformError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class TestDemoContract(PlatformContract):
    @pytest.fixture
    def platform(self) -> DemoPlatform:
        return DemoPlatform.from_url("sqlite://")

    @pytest.fixture
    def world(self, platform: DemoPlatform) -> ContractWorld:
        return build_contract_world(platform, now=datetime.now(UTC))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def demo(clock: FrozenClock) -> DemoPlatform:
    return DemoPlatform.from_url("sqlite://", clock=clock)


@pytest.fixture
def world(demo: DemoPlatform) -> ContractWorld:
    return build_contract_world(demo, now=NOW)


def test_tables_are_the_platforms_own_not_trustdesks() -> None:
    from trustdesk.core.database import Base

    assert DemoBase.metadata is not Base.metadata
    assert all(name.startswith("demo_") for name in DemoBase.metadata.tables)


def test_a_file_database_keeps_its_data_between_adapters(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo-platform.db'}"
    made = DemoPlatform.from_url(url).posting.create_account(username="keeper", display_name="K")
    assert DemoPlatform.from_url(url).get_account(made.id).username == "keeper"


def test_ids_look_like_the_platforms(world: ContractWorld) -> None:
    assert world.account_id == "u1001" and world.group_chat_id.startswith("c")
    assert all(message_id.startswith("m") for message_id in world.group_message_ids)


def test_secret_chat_stores_only_opaque_bytes(demo: DemoPlatform, world: ContractWorld) -> None:
    with demo.store.transaction() as session:
        row = session.scalars(select(DemoMessage).where(DemoMessage.id == world.secret_message_id)).one()
        assert row.text is None and row.ciphertext and b"bob" not in row.ciphertext


def test_content_of_an_account_that_only_talks_in_secret_is_not_held(demo: DemoPlatform, world: ContractWorld) -> None:
    demo.posting.post_message(chat_id=world.secret_chat_id, sender_id=world.other_account_id, text="hi")
    data = demo.retrieve(world.other_account_id, DataCategory.CONTENT)
    assert not data.held and data.records == [] and "end-to-end encrypted" in data.note


def test_removal_keeps_reason_and_logs_the_action(demo: DemoPlatform, world: ContractWorld) -> None:
    result = demo.remove_message(world.group_message_ids[0], reason="drug sales")
    with demo.store.transaction() as session:
        row = session.scalars(select(DemoMessage).where(DemoMessage.id == world.group_message_ids[0])).one()
        action = session.get(DemoAction, row.removal_action_id)
        assert (row.removed_reason, row.removed_at, row.text) == ("drug sales", NOW, "group message 0")
        assert action is not None and action.ref == result.platform_ref and action.reason == "drug sales"


def test_restored_message_can_be_removed_again(demo: DemoPlatform, world: ContractWorld) -> None:
    message_id = world.group_message_ids[0]
    demo.remove_message(message_id, reason="first")
    demo.restore_message(message_id, reason="appeal")
    assert demo.remove_message(message_id, reason="second").detail == f"message {message_id} removed"
    with demo.store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DemoAction)) == 3


def test_a_timed_suspension_lapses_by_itself(demo: DemoPlatform, world: ContractWorld, clock: FrozenClock) -> None:
    demo.suspend_account(world.other_account_id, reason="spam", until=NOW + timedelta(days=1))
    assert demo.get_account(world.other_account_id).state is AccountState.SUSPENDED
    clock.advance(days=1)
    assert demo.get_account(world.other_account_id).state is AccountState.ACTIVE


def test_restricting_a_suspended_account_is_refused(demo: DemoPlatform, world: ContractWorld) -> None:
    demo.suspend_account(world.other_account_id, reason="spam")
    result = demo.restrict_account(world.other_account_id, reason="milder")
    assert not result.ok and "suspended" in result.detail
    assert demo.get_account(world.other_account_id).state is AccountState.SUSPENDED


def test_a_new_term_on_the_same_state_is_a_new_action(demo: DemoPlatform, world: ContractWorld) -> None:
    first = demo.restrict_account(world.other_account_id, reason="spam", until=NOW + timedelta(days=1))
    longer = demo.restrict_account(world.other_account_id, reason="again", until=NOW + timedelta(days=7))
    assert longer.ok and longer.platform_ref != first.platform_ref and "already" not in longer.detail


def test_posting_is_refused_where_a_server_would_refuse(demo: DemoPlatform, world: ContractWorld) -> None:
    post = demo.posting
    demo.suspend_account(world.other_account_id, reason="spam")
    with pytest.raises(PlatformError, match="suspended"):
        post.post_message(chat_id=world.group_chat_id, sender_id=world.other_account_id, text="hi")
    outsider = post.create_account(username="outsider", display_name="O")
    with pytest.raises(PlatformError, match="not a member"):
        post.post_message(chat_id=world.group_chat_id, sender_id=outsider.id, text="hi")
    demo.close_chat(world.group_chat_id, reason="abuse")
    with pytest.raises(PlatformError, match="closed"):
        post.post_message(chat_id=world.group_chat_id, sender_id=world.account_id, text="hi")


def test_a_restricted_account_still_talks_in_direct_chats(demo: DemoPlatform, world: ContractWorld) -> None:
    direct = demo.posting.create_chat(kind=ChatKind.DIRECT, title="", member_ids=[world.account_id, world.other_account_id])
    demo.restrict_account(world.account_id, reason="spam")
    sent = demo.posting.post_message(chat_id=direct.id, sender_id=world.account_id, text="still here")
    assert sent.state is MessageState.VISIBLE
    with pytest.raises(PlatformError, match="restricted"):
        demo.posting.post_message(chat_id=world.group_chat_id, sender_id=world.account_id, text="hi all")


def test_only_the_owner_posts_in_a_channel(demo: DemoPlatform, world: ContractWorld) -> None:
    channel = demo.posting.create_chat(kind=ChatKind.CHANNEL, title="News", member_ids=[world.account_id, world.other_account_id])
    assert demo.posting.post_message(chat_id=channel.id, sender_id=world.account_id, text="news").text == "news"
    with pytest.raises(PlatformError, match="owner"):
        demo.posting.post_message(chat_id=channel.id, sender_id=world.other_account_id, text="reply")


def test_bad_accounts_and_chats_are_refused_on_creation(demo: DemoPlatform, world: ContractWorld) -> None:
    with pytest.raises(ValueError, match="username"):
        demo.posting.create_account(username="a b", display_name="x")
    with pytest.raises(ValueError, match="phone"):
        demo.posting.create_account(username="fine_name", display_name="x", phone="12")
    with pytest.raises(ValueError, match="two members"):
        demo.posting.create_chat(kind=ChatKind.DIRECT, title="", member_ids=[world.account_id])
    with pytest.raises(LookupError):
        demo.posting.create_chat(kind=ChatKind.GROUP, title="g", member_ids=["u9999"])


def test_traffic_includes_messages_received_in_one_to_one_chats(demo: DemoPlatform, world: ContractWorld) -> None:
    demo.posting.post_message(chat_id=world.secret_chat_id, sender_id=world.other_account_id, text="hi")
    records = demo.retrieve(world.account_id, DataCategory.TRAFFIC).records
    received = [r for r in records if r["direction"] == "received"]
    assert len(received) == 1 and received[0]["recipient_ids"] == [world.account_id]


def test_find_account_needs_a_username_or_a_phone(demo: DemoPlatform) -> None:
    with pytest.raises(ValueError):
        demo.find_account()


def test_a_naive_period_bound_is_bad_input(demo: DemoPlatform, world: ContractWorld) -> None:
    with pytest.raises(ValueError, match="aware"):
        demo.list_messages(world.account_id, since=datetime(2026, 1, 1))
