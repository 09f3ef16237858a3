"""What only the demo platform promises about restricted messages: who still sees them, by
country; that a timed restriction lapses by itself; and that every step is logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from tests.platform.contract import ContractWorld
from tests.platform.factories import build_contract_world
from trustdesk.core.clock import FrozenClock
from trustdesk.platform.demo import DemoPlatform
from trustdesk.platform.demo.models import DemoAction, DemoMessageRestriction
from trustdesk.platform.port import MessageState, territories_of

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def demo(clock: FrozenClock) -> DemoPlatform:
    return DemoPlatform.from_url("sqlite://", clock=clock)


@pytest.fixture
def world(demo: DemoPlatform) -> ContractWorld:
    return build_contract_world(demo, now=NOW)


def _viewer(demo: DemoPlatform, country: str | None, name: str) -> str:
    return demo.posting.create_account(username=name, display_name=name, country=country).id


def test_a_geo_restriction_hides_the_message_only_in_its_territories(demo: DemoPlatform, world: ContractWorld) -> None:
    message_id = world.group_message_ids[0]
    in_austria, in_italy, nowhere = _viewer(demo, "AT", "anna"), _viewer(demo, "IT", "ivo"), _viewer(demo, None, "nemo")
    demo.restrict_message(message_id, reason="Illegal in Austria.", territories=frozenset({"AT", "DE"}))
    sees = {
        viewer: demo.posting.sees(viewer_id=viewer, message_id=message_id)
        for viewer in (in_austria, in_italy, nowhere, world.other_account_id, world.account_id)
    }
    # Bob is in FR (outside), Alice wrote it (the author always sees her own message).
    assert sees == {in_austria: False, in_italy: True, nowhere: True, world.other_account_id: True, world.account_id: True}


def test_a_restriction_everywhere_hides_it_from_everyone_but_its_author(demo: DemoPlatform, world: ContractWorld) -> None:
    message_id = world.group_message_ids[0]
    demo.restrict_message(message_id, reason="Hidden.")
    assert not demo.posting.sees(viewer_id=world.other_account_id, message_id=message_id)
    assert demo.posting.sees(viewer_id=world.account_id, message_id=message_id)


def test_a_timed_restriction_lapses_by_itself(demo: DemoPlatform, world: ContractWorld, clock: FrozenClock) -> None:
    message_id = world.group_message_ids[0]
    started = demo.restrict_message(message_id, reason="For a day.", until=NOW + timedelta(days=1))
    assert demo.get_message(message_id).state is MessageState.RESTRICTED
    clock.advance(days=1)
    assert demo.get_message(message_id).state is MessageState.VISIBLE
    assert demo.posting.sees(viewer_id=world.other_account_id, message_id=message_id)
    late = demo.lift_message_restriction(message_id, reason="Appeal upheld.")
    assert late.ok and "already ended" in late.detail and late.platform_ref == started.platform_ref


def test_removal_outranks_a_restriction_and_restoring_brings_the_restriction_back(
    demo: DemoPlatform, world: ContractWorld
) -> None:
    message_id = world.group_message_ids[0]
    demo.restrict_message(message_id, reason="Hidden in DE.", territories=frozenset({"DE"}))
    demo.remove_message(message_id, reason="Removed after all.")
    assert demo.get_message(message_id).state is MessageState.REMOVED
    demo.restore_message(message_id, reason="The removal was wrong.")
    assert demo.get_message(message_id).state is MessageState.RESTRICTED


def test_every_restriction_is_kept_and_logged(demo: DemoPlatform, world: ContractWorld) -> None:
    message_id = world.group_message_ids[0]
    demo.restrict_message(message_id, reason="In FR.", territories=frozenset({"FR"}))
    demo.restrict_message(message_id, reason="Everywhere.", until=NOW + timedelta(days=7))
    demo.lift_message_restriction(message_id, reason="Appeal upheld.")
    with demo.store.transaction() as session:
        rows = list(session.scalars(select(DemoMessageRestriction).order_by(DemoMessageRestriction.id)))
        logged = [
            a.action
            for a in session.scalars(select(DemoAction).where(DemoAction.target_id == message_id).order_by(DemoAction.id))
        ]
    assert [(r.territories, r.until, r.ended_at is not None) for r in rows] == [
        (["FR"], None, True),
        (None, NOW + timedelta(days=7), True),
    ]
    assert logged == ["restrict", "restrict", "lift_restriction"]


def test_a_closed_chat_reopens_and_members_post_again(demo: DemoPlatform, world: ContractWorld) -> None:
    demo.close_chat(world.group_chat_id, reason="Closed.")
    demo.reopen_chat(world.group_chat_id, reason="Appeal upheld.")
    posted = demo.posting.post_message(chat_id=world.group_chat_id, sender_id=world.account_id, text="back again")
    assert demo.get_message(posted.id).state is MessageState.VISIBLE


@given(st.sets(st.sampled_from(["de", " AT", "fr ", "Gr", "NO", "us", "TR"]), min_size=1))
def test_territories_are_normalised_to_capital_codes(codes: set[str]) -> None:
    assert territories_of(codes) == {code.strip().upper() for code in codes}


@given(st.text(min_size=1, max_size=4).filter(lambda t: len(t.strip()) != 2 or not t.strip().isalpha()))
@example("ß").via("capitalised, it is SS: South Sudan")
def test_anything_but_a_two_letter_code_is_refused(code: str) -> None:
    with pytest.raises(ValueError):
        territories_of({code})
