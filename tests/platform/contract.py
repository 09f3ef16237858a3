"""The behaviour every platform adapter must have, whatever the server behind it.

A subclass provides two fixtures: `platform` (the adapter under test) and `world` (a
`ContractWorld` naming things it made on that platform however the platform allows: the demo
through its posting helper, Synapse through a real Matrix client). The contract then only
reads and acts through the port, so the same tests hold the demo and Synapse to one standard.
Times come from the world's own messages, never from a frozen clock, so that a real server
passes too."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from trustdesk.platform.port import (
    AccountState,
    Capability,
    ChatKind,
    DataCategory,
    MessageState,
    Platform,
)


@dataclass(frozen=True)
class ContractWorld:
    """What the subclass made before each test.

    `account_id` (username `username`, phone `phone`) sent `group_message_ids`, at least six
    messages at distinct times, oldest first, in group `group_chat_id`, the second carrying
    media `media_id`; it also sent `secret_message_id` in secret chat `secret_chat_id` with
    `other_account_id`, and logged in at least once. `other_account_id` is active and is the
    one the account-action tests act on."""

    account_id: str
    username: str
    phone: str
    other_account_id: str
    group_chat_id: str
    group_message_ids: tuple[str, ...]
    media_id: str
    secret_chat_id: str
    secret_message_id: str


def _future(days: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


class PlatformContract:
    """Inherit, and provide `platform` and `world` fixtures."""

    @pytest.fixture
    def platform(self) -> Platform:
        raise NotImplementedError("a contract subclass provides the adapter under test")

    @pytest.fixture
    def world(self, platform: Platform) -> ContractWorld:
        raise NotImplementedError("a contract subclass provides the world it made")

    # -- lookups --------------------------------------------------------------------------

    def test_has_a_name(self, platform: Platform) -> None:
        assert isinstance(platform.name, str) and platform.name

    def test_get_account_returns_the_account(self, platform: Platform, world: ContractWorld) -> None:
        account = platform.get_account(world.account_id)
        assert (account.id, account.username, account.state) == (world.account_id, world.username, AccountState.ACTIVE)
        assert account.created_at.tzinfo is not None

    @pytest.mark.parametrize("method", ["get_account", "get_chat", "get_message", "get_media"])
    def test_unknown_ids_raise_lookup_error_naming_the_id(self, platform: Platform, world: ContractWorld, method: str) -> None:
        with pytest.raises(LookupError, match="no-such-id-42"):
            getattr(platform, method)("no-such-id-42")

    def test_find_account_by_username_ignores_case_and_at_sign(self, platform: Platform, world: ContractWorld) -> None:
        for written in (world.username, world.username.upper(), f"@{world.username}", f"  @{world.username.title()} "):
            found = platform.find_account(username=written)
            assert found is not None and found.id == world.account_id, written

    def test_find_account_by_phone_ignores_spacing(self, platform: Platform, world: ContractWorld) -> None:
        digits = world.phone.removeprefix("+")
        spaced = f"+{digits[:2]} {digits[2:5]}-{digits[5:]}"
        for written in (world.phone, spaced, f"00{digits}"):
            found = platform.find_account(phone=written)
            assert found is not None and found.id == world.account_id, written

    def test_find_account_answers_none_for_nobody(self, platform: Platform, world: ContractWorld) -> None:
        assert platform.find_account(username="nobody_has_this_name") is None
        assert platform.find_account(phone="+1 999 000 0000 0") is None

    def test_get_chat_lists_its_members(self, platform: Platform, world: ContractWorld) -> None:
        chat = platform.get_chat(world.group_chat_id)
        assert chat.kind is ChatKind.GROUP and world.account_id in chat.member_ids and not chat.closed

    def test_get_message_returns_text_sender_and_chat(self, platform: Platform, world: ContractWorld) -> None:
        message = platform.get_message(world.group_message_ids[0])
        assert (message.chat_id, message.sender_id, message.state) == (
            world.group_chat_id,
            world.account_id,
            MessageState.VISIBLE,
        )
        assert message.text

    def test_secret_chat_messages_have_no_text(self, platform: Platform, world: ContractWorld) -> None:
        message = platform.get_message(world.secret_message_id)
        assert message.chat_id == world.secret_chat_id and message.text is None

    def test_get_media_bytes_match_size_and_sha256(self, platform: Platform, world: ContractWorld) -> None:
        item, data = platform.get_media(world.media_id)
        assert (item.size, item.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert item.message_id == world.group_message_ids[1]
        assert item in platform.get_message(world.group_message_ids[1]).media

    def test_list_messages_oldest_first_within_limit(self, platform: Platform, world: ContractWorld) -> None:
        listed = platform.list_messages(world.account_id)
        assert {m.sender_id for m in listed} == {world.account_id}
        assert [m.sent_at for m in listed] == sorted(m.sent_at for m in listed)
        assert set(world.group_message_ids) <= {m.id for m in listed}
        assert len(platform.list_messages(world.account_id, limit=2)) == 2

    def test_list_messages_period_is_half_open(self, platform: Platform, world: ContractWorld) -> None:
        times = [platform.get_message(i).sent_at for i in world.group_message_ids]
        listed = platform.list_messages(world.account_id, since=times[1], until=times[3])
        assert [m.id for m in listed if m.chat_id == world.group_chat_id] == list(world.group_message_ids[1:3])

    def test_list_messages_of_unknown_account_raises(self, platform: Platform, world: ContractWorld) -> None:
        with pytest.raises(LookupError):
            platform.list_messages("no-such-account")

    def test_chat_context_surrounds_the_message(self, platform: Platform, world: ContractWorld) -> None:
        ids = world.group_message_ids
        context = platform.chat_context(ids[3], before=2, after=1)
        assert [m.id for m in context] == list(ids[1:5])
        assert {m.chat_id for m in context} == {world.group_chat_id}

    def test_chat_context_at_the_start_of_a_chat(self, platform: Platform, world: ContractWorld) -> None:
        context = platform.chat_context(world.group_message_ids[0], before=5, after=0)
        assert [m.id for m in context] == [world.group_message_ids[0]]

    # -- actions on messages ---------------------------------------------------------------

    def test_remove_then_restore_brings_back_the_same_text(self, platform: Platform, world: ContractWorld) -> None:
        message_id = world.group_message_ids[0]
        text = platform.get_message(message_id).text
        removed = platform.remove_message(message_id, reason="test: removal")
        assert removed.ok and removed.platform_ref
        assert platform.get_message(message_id).state is MessageState.REMOVED
        restored = platform.restore_message(message_id, reason="test: appeal upheld")
        assert restored.ok and restored.platform_ref and restored.platform_ref != removed.platform_ref
        again = platform.get_message(message_id)
        assert (again.state, again.text) == (MessageState.VISIBLE, text)

    def test_removing_twice_is_ok_and_says_so(self, platform: Platform, world: ContractWorld) -> None:
        first = platform.remove_message(world.group_message_ids[2], reason="test")
        second = platform.remove_message(world.group_message_ids[2], reason="test")
        assert second.ok and "already" in second.detail and second.platform_ref == first.platform_ref

    def test_restoring_a_message_never_removed_is_refused(self, platform: Platform, world: ContractWorld) -> None:
        result = platform.restore_message(world.group_message_ids[3], reason="test")
        assert not result.ok and result.detail
        assert platform.get_message(world.group_message_ids[3]).state is MessageState.VISIBLE

    def test_an_action_without_a_reason_is_bad_input(self, platform: Platform, world: ContractWorld) -> None:
        with pytest.raises(ValueError):
            platform.remove_message(world.group_message_ids[0], reason="  ")
        assert platform.get_message(world.group_message_ids[0]).state is MessageState.VISIBLE

    # -- restricting a message's visibility (Capability.RESTRICT_MESSAGE) -------------------

    def test_capabilities_are_declared(self, platform: Platform) -> None:
        assert isinstance(platform.capabilities, frozenset)
        assert all(isinstance(c, Capability) for c in platform.capabilities)

    def test_restrict_then_lift_keeps_the_text(self, platform: Platform, world: ContractWorld) -> None:
        message_id = world.group_message_ids[0]
        text = platform.get_message(message_id).text
        restricted = platform.restrict_message(message_id, reason="test: visibility", until=_future(3))
        assert restricted.ok and restricted.platform_ref and "everywhere" in restricted.detail
        assert (platform.get_message(message_id).state, platform.get_message(message_id).text) == (MessageState.RESTRICTED, text)
        lifted = platform.lift_message_restriction(message_id, reason="test: appeal upheld")
        assert lifted.ok and lifted.platform_ref and lifted.platform_ref != restricted.platform_ref
        assert platform.get_message(message_id).state is MessageState.VISIBLE

    def test_geo_restriction_names_its_territories(self, platform: Platform, world: ContractWorld) -> None:
        result = platform.restrict_message(world.group_message_ids[2], reason="test: geo", territories=frozenset({"de", "AT"}))
        assert result.ok and "AT, DE" in result.detail
        assert platform.get_message(world.group_message_ids[2]).state is MessageState.RESTRICTED

    def test_restricting_twice_on_the_same_terms_is_ok_and_says_so(self, platform: Platform, world: ContractWorld) -> None:
        until, where = _future(2), frozenset({"FR"})
        first = platform.restrict_message(world.group_message_ids[2], reason="test", territories=where, until=until)
        second = platform.restrict_message(world.group_message_ids[2], reason="test", territories=where, until=until)
        assert second.ok and "already" in second.detail and second.platform_ref == first.platform_ref

    def test_new_terms_replace_a_restriction(self, platform: Platform, world: ContractWorld) -> None:
        first = platform.restrict_message(world.group_message_ids[2], reason="test", territories=frozenset({"FR"}))
        wider = platform.restrict_message(world.group_message_ids[2], reason="test")
        assert wider.ok and wider.platform_ref != first.platform_ref and "everywhere" in wider.detail
        assert platform.lift_message_restriction(world.group_message_ids[2], reason="test").ok
        assert platform.get_message(world.group_message_ids[2]).state is MessageState.VISIBLE

    def test_lifting_twice_is_ok_and_says_so(self, platform: Platform, world: ContractWorld) -> None:
        platform.restrict_message(world.group_message_ids[2], reason="test")
        first = platform.lift_message_restriction(world.group_message_ids[2], reason="test")
        second = platform.lift_message_restriction(world.group_message_ids[2], reason="test")
        assert second.ok and "already" in second.detail and second.platform_ref == first.platform_ref

    def test_lifting_a_message_never_restricted_is_refused(self, platform: Platform, world: ContractWorld) -> None:
        result = platform.lift_message_restriction(world.group_message_ids[3], reason="test")
        assert not result.ok and result.detail
        assert platform.get_message(world.group_message_ids[3]).state is MessageState.VISIBLE

    def test_restricting_a_removed_message_is_refused(self, platform: Platform, world: ContractWorld) -> None:
        platform.remove_message(world.group_message_ids[4], reason="test")
        result = platform.restrict_message(world.group_message_ids[4], reason="test")
        assert not result.ok and "removed" in result.detail
        assert platform.get_message(world.group_message_ids[4]).state is MessageState.REMOVED

    @pytest.mark.parametrize("territories", [frozenset({"XX"}), frozenset({"Germany"}), frozenset()])
    def test_territories_that_are_not_country_codes_are_bad_input(
        self, platform: Platform, world: ContractWorld, territories: frozenset[str]
    ) -> None:
        with pytest.raises(ValueError):
            platform.restrict_message(world.group_message_ids[0], reason="test", territories=territories)
        assert platform.get_message(world.group_message_ids[0]).state is MessageState.VISIBLE

    def test_restriction_until_in_the_past_is_bad_input(self, platform: Platform, world: ContractWorld) -> None:
        with pytest.raises(ValueError):
            platform.restrict_message(world.group_message_ids[0], reason="test", until=_future(-1))
        assert platform.get_message(world.group_message_ids[0]).state is MessageState.VISIBLE

    def test_restricting_an_unknown_message_raises_lookup_error(self, platform: Platform, world: ContractWorld) -> None:
        with pytest.raises(LookupError):
            platform.restrict_message("no-such-id-42", reason="test")

    # -- actions on accounts and chats -----------------------------------------------------

    def test_restrict_then_reinstate(self, platform: Platform, world: ContractWorld) -> None:
        restricted = platform.restrict_account(world.other_account_id, reason="test", until=_future())
        assert restricted.ok and restricted.platform_ref
        assert platform.get_account(world.other_account_id).state is AccountState.RESTRICTED
        assert platform.reinstate_account(world.other_account_id, reason="test").ok
        assert platform.get_account(world.other_account_id).state is AccountState.ACTIVE

    def test_suspend_escalates_a_restriction(self, platform: Platform, world: ContractWorld) -> None:
        platform.restrict_account(world.other_account_id, reason="test")
        assert platform.suspend_account(world.other_account_id, reason="test", until=_future(7)).ok
        assert platform.get_account(world.other_account_id).state is AccountState.SUSPENDED

    def test_suspending_twice_on_the_same_terms_is_ok(self, platform: Platform, world: ContractWorld) -> None:
        first = platform.suspend_account(world.other_account_id, reason="test")
        second = platform.suspend_account(world.other_account_id, reason="test")
        assert second.ok and "already" in second.detail and second.platform_ref == first.platform_ref

    def test_reinstating_an_active_account_is_refused(self, platform: Platform, world: ContractWorld) -> None:
        result = platform.reinstate_account(world.other_account_id, reason="test")
        assert not result.ok and result.detail

    def test_until_in_the_past_is_bad_input(self, platform: Platform, world: ContractWorld) -> None:
        with pytest.raises(ValueError):
            platform.suspend_account(world.other_account_id, reason="test", until=_future(-1))
        assert platform.get_account(world.other_account_id).state is AccountState.ACTIVE

    def test_close_chat_is_idempotent(self, platform: Platform, world: ContractWorld) -> None:
        first = platform.close_chat(world.group_chat_id, reason="test")
        second = platform.close_chat(world.group_chat_id, reason="test")
        assert first.ok and second.ok and "already" in second.detail
        assert platform.get_chat(world.group_chat_id).closed

    def test_close_then_reopen(self, platform: Platform, world: ContractWorld) -> None:
        closed = platform.close_chat(world.group_chat_id, reason="test: closure")
        reopened = platform.reopen_chat(world.group_chat_id, reason="test: appeal upheld")
        assert reopened.ok and reopened.platform_ref and reopened.platform_ref != closed.platform_ref
        assert not platform.get_chat(world.group_chat_id).closed
        again = platform.reopen_chat(world.group_chat_id, reason="test")
        assert again.ok and "already" in again.detail and again.platform_ref == reopened.platform_ref

    def test_reopening_a_chat_never_closed_is_refused(self, platform: Platform, world: ContractWorld) -> None:
        result = platform.reopen_chat(world.group_chat_id, reason="test")
        assert not result.ok and result.detail and not platform.get_chat(world.group_chat_id).closed

    # -- data held --------------------------------------------------------------------------

    def test_secret_chats_hold_no_content_and_others_hold_everything(self, platform: Platform) -> None:
        assert platform.categories_held(ChatKind.SECRET) == frozenset(DataCategory) - {DataCategory.CONTENT}
        for kind in (ChatKind.DIRECT, ChatKind.GROUP, ChatKind.CHANNEL):
            assert platform.categories_held(kind) == frozenset(DataCategory)

    def test_subscriber_data_names_the_account(self, platform: Platform, world: ContractWorld) -> None:
        data = platform.retrieve(world.account_id, DataCategory.SUBSCRIBER)
        assert data.held and data.category is DataCategory.SUBSCRIBER
        assert data.records[0]["username"] == world.username and data.records[0]["phone"] == world.phone

    def test_identification_data_has_address_port_and_time(self, platform: Platform, world: ContractWorld) -> None:
        data = platform.retrieve(world.account_id, DataCategory.IDENTIFICATION)
        assert data.held and data.records
        assert all({"ip", "port", "at"} <= record.keys() for record in data.records)

    def test_traffic_data_has_no_text_and_covers_secret_chats(self, platform: Platform, world: ContractWorld) -> None:
        data = platform.retrieve(world.account_id, DataCategory.TRAFFIC)
        assert data.held and all("text" not in record for record in data.records)
        assert world.secret_message_id in {record["message_id"] for record in data.records}

    def test_content_leaves_out_secret_chats_and_says_so(self, platform: Platform, world: ContractWorld) -> None:
        data = platform.retrieve(world.account_id, DataCategory.CONTENT)
        ids = {record["message_id"] for record in data.records}
        assert data.held and set(world.group_message_ids) <= ids and world.secret_message_id not in ids
        assert "secret" in data.note.lower()

    def test_retrieve_respects_the_period(self, platform: Platform, world: ContractWorld) -> None:
        times = [platform.get_message(i).sent_at for i in world.group_message_ids]
        data = platform.retrieve(world.account_id, DataCategory.CONTENT, since=times[4], until=times[5])
        assert [record["message_id"] for record in data.records] == [world.group_message_ids[4]]

    def test_retrieve_for_unknown_account_raises(self, platform: Platform, world: ContractWorld) -> None:
        with pytest.raises(LookupError):
            platform.retrieve("no-such-account", DataCategory.SUBSCRIBER)
