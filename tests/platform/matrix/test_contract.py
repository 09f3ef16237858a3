"""The Synapse adapter held to the platform contract, on the real Synapse of this module (one
homeserver for the module, a fresh world per test made by real Matrix clients).

Where Matrix cannot do what the contract asks, the test is overridden with an explicit skip
that says why (docs/matrix.md, "Where Matrix differs from the contract"):
- restore after removal: a Matrix redaction strips the event on every server; it is final.
- media's message: Synapse's admin API cannot tell which event carries a media item, so
  `get_media` by id alone leaves `message_id` empty (media reached through a message has it).
- visibility and geographic restriction of a message: a homeserver delivers every event of a
  room to every member and federates it; there is nothing per viewer or per country to set.
  The adapter declares no `Capability.RESTRICT_MESSAGE` and answers ok=False saying so.
- reopening a chat: a room shutdown removed every member, admins included; the adapter
  declares no `Capability.REOPEN_CHAT` and answers ok=False saying so."""

from __future__ import annotations

import hashlib
import time

import pytest

from tests.platform.contract import ContractWorld, PlatformContract
from tests.platform.factories import PNG_BYTES
from tests.platform.matrix.conftest import MatrixWorld, eventually
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.matrix.admin import q
from trustdesk.platform.port import Capability, MessageState

NO_VISIBILITY = (
    "Matrix has no per-viewer visibility or geo-blocking (every event reaches every member of the room); "
    "test_restricting_a_message_is_refused_and_says_why checks the adapter says so"
)
NO_REOPENING = (
    "a Synapse room shutdown removes every member, admins included, so a room cannot be reopened; "
    "test_reopening_after_a_shutdown_is_refused_and_says_why checks the adapter says so"
)

PHONE_DIGITS = "4915123450001"


def build_matrix_world(matrix: MatrixWorld) -> ContractWorld:
    """Alice and Bob (fresh accounts), a group room with six messages of Alice's (the second an
    image) and an encrypted room where Alice sent ciphertext; Alice's phone as a threepid."""
    suffix = time.time_ns() % 10**10
    alice, bob = matrix.user(f"alice_c{suffix}"), matrix.user(f"bob_c{suffix}")
    _set_phone(matrix, alice.user_id, f"{PHONE_DIGITS[:-4]}{suffix % 10**4:04d}")
    group = alice.create_room(invite=(bob.user_id,), name="contract group")
    secret = alice.create_room(invite=(bob.user_id,), encrypted=True, name="contract secret")
    bob.join(group), bob.join(secret)
    upload = alice.upload(PNG_BYTES)
    ids = []
    for n in range(6):
        sent = alice.send_image(group, upload.content_uri, len(PNG_BYTES)) if n == 1 else alice.send(group, f"group message {n}")
        ids.append(sent.event_id)
        time.sleep(0.005)  # distinct origin_server_ts, which the period tests rely on
    secret_id = alice.send_ciphertext(secret).event_id
    eventually(lambda: matrix.platform.admin.whois(alice.user_id).get("devices"))
    return ContractWorld(
        account_id=alice.user_id,
        username=alice.user_id[1:].split(":")[0],
        phone=f"+{PHONE_DIGITS[:-4]}{suffix % 10**4:04d}",
        other_account_id=bob.user_id,
        group_chat_id=group,
        group_message_ids=tuple(ids),
        media_id=upload.content_uri.removeprefix("mxc://"),
        secret_chat_id=secret,
        secret_message_id=secret_id,
    )


def _set_phone(matrix: MatrixWorld, user_id: str, digits: str) -> None:
    matrix.platform.admin.call(
        "PUT", f"/_synapse/admin/v2/users/{q(user_id)}", json={"threepids": [{"medium": "msisdn", "address": digits}]}
    )


class TestMatrixContract(PlatformContract):
    @pytest.fixture
    def platform(self, matrix: MatrixWorld) -> MatrixPlatform:
        return matrix.platform

    @pytest.fixture
    def world(self, matrix: MatrixWorld) -> ContractWorld:
        return build_matrix_world(matrix)

    def test_remove_then_restore_brings_back_the_same_text(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        pytest.skip(
            "Matrix redactions are final (the event is stripped on every server); "
            "test_restore_after_removal_is_refused_and_says_why checks the adapter says so"
        )

    def test_restore_after_removal_is_refused_and_says_why(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        platform.remove_message(world.group_message_ids[0], reason="test: removal")
        result = platform.restore_message(world.group_message_ids[0], reason="test: appeal upheld")
        assert not result.ok and "final" in result.detail
        assert platform.get_message(world.group_message_ids[0]).state is MessageState.REMOVED

    def test_get_media_bytes_match_size_and_sha256(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        pytest.skip(
            "Synapse cannot tell which event carries a media item: get_media by id alone has no "
            "message_id; test_media_reached_through_its_message_names_it checks the rest"
        )

    def test_media_reached_through_its_message_names_it(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        item, data = platform.get_media(world.media_id)
        assert (item.size, item.sha256) == (len(data), hashlib.sha256(data).hexdigest()) and data == PNG_BYTES
        carried = platform.get_message(world.group_message_ids[1]).media
        assert [(m.id, m.sha256, m.message_id) for m in carried] == [(world.media_id, item.sha256, world.group_message_ids[1])]

    def test_restrict_then_lift_keeps_the_text(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        pytest.skip(NO_VISIBILITY)

    def test_geo_restriction_names_its_territories(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        pytest.skip(NO_VISIBILITY)

    def test_restricting_twice_on_the_same_terms_is_ok_and_says_so(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        pytest.skip(NO_VISIBILITY)

    def test_new_terms_replace_a_restriction(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        pytest.skip(NO_VISIBILITY)

    def test_lifting_twice_is_ok_and_says_so(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        pytest.skip(NO_VISIBILITY)

    def test_restricting_a_removed_message_is_refused(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        pytest.skip(NO_VISIBILITY)

    def test_close_then_reopen(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        pytest.skip(NO_REOPENING)

    def test_restricting_a_message_is_refused_and_says_why(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        assert Capability.RESTRICT_MESSAGE not in platform.capabilities
        result = platform.restrict_message(world.group_message_ids[0], reason="test", territories=frozenset({"DE"}))
        assert not result.ok and "no per-viewer visibility or geo-blocking" in result.detail
        assert platform.get_message(world.group_message_ids[0]).state is MessageState.VISIBLE
        lifted = platform.lift_message_restriction(world.group_message_ids[0], reason="test")
        assert not lifted.ok and "no per-viewer visibility" in lifted.detail

    def test_reopening_after_a_shutdown_is_refused_and_says_why(self, platform: MatrixPlatform, world: ContractWorld) -> None:
        assert Capability.REOPEN_CHAT not in platform.capabilities
        platform.close_chat(world.group_chat_id, reason="test: closure")
        result = platform.reopen_chat(world.group_chat_id, reason="test: appeal upheld")
        assert not result.ok and "removed every member" in result.detail
        assert platform.get_chat(world.group_chat_id).closed
