"""The banks domain behind the pipeline (the default wiring): a media event matching a bank
entry fires the rule, the media's hashes are remembered for retroaction and the match is
recorded; an alert for the on-call role pages the rota."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from tests.safety.pipeline.conftest import TEST_ACTOR, DemoWorld, as_bytes, message_event
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Role
from trustdesk.core.paging import InMemoryPager, Page
from trustdesk.platform.demo import imagery
from trustdesk.platform.port import MessageState
from trustdesk.safety.banks import service as banks
from trustdesk.safety.banks.flows import add_entries_flow
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.banks.models import HashMatch, MediaHash
from trustdesk.safety.pipeline.banking import BankHashMatcher
from trustdesk.safety.pipeline.handling import Handler
from trustdesk.safety.pipeline.models import RuleHit
from trustdesk.safety.pipeline.worker import Worker
from trustdesk.safety.review.models import Case


@pytest.fixture
def bank_handler(db: Database, clock: FrozenClock, world: DemoWorld, handler: Handler) -> Handler:
    with db.transaction() as session:
        bank = banks.create_bank(session, actor=TEST_ACTOR, clock=clock, name="csam_verified", policy="child_sexual_exploitation")
        add_entries_flow(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            bank_id=bank.id,
            trigger="test",
            entries=[banks.NewEntry("pdq", world.poster_pdq, notes="verified", exchange=None)],
        )
    handler.hashes = BankHashMatcher(MatchService(refresh_seconds=0))
    return handler


def _media_event(world: DemoWorld, clock: FrozenClock) -> tuple[dict, str]:
    message = world.post("look", media=True)
    event = message_event(message, at=clock.now(), pdq=world.poster_pdq)
    event["media"][0]["md5"] = hashlib.md5(imagery.poster_original()[1]).hexdigest()  # noqa: S324 - a bank digest, not security
    return event, message.id


@pytest.mark.anyio
async def test_a_bank_match_fires_the_rule_and_the_media_is_remembered(
    db, clock, world: DemoWorld, bus, bank_handler: Handler
) -> None:
    event, message_id = _media_event(world, clock)
    bus.publish_now("events.message", as_bytes(event), msg_id=None)
    await Worker(bus, bank_handler, threaded=False).drain(idle_timeout=0)
    assert world.platform.get_message(message_id).state is MessageState.REMOVED
    with db.transaction() as session:
        stored = session.scalars(select(MediaHash).where(MediaHash.media_id == event["media"][0]["media_id"])).one()
        assert stored.pdq == world.poster_pdq
        assert session.scalar(select(func.count()).select_from(HashMatch).where(HashMatch.media_hash_id == stored.id)) == 1
        assert session.scalars(select(RuleHit.rule)).all() == ["known_csam"]


@pytest.mark.anyio
async def test_an_on_call_alert_pages_the_rota_and_without_one_is_still_recorded(
    db, clock, world: DemoWorld, bus, handler: Handler, staff
) -> None:
    pager = InMemoryPager()
    handler.pager = pager
    worker = Worker(bus, handler, threaded=False)
    for n in range(6):  # the sixth message in a minute trips flood_alert
        message = world.post(f"hello {n}")
        bus.publish_now("events.message", as_bytes(message_event(message, at=clock.now())), msg_id=None)
    await worker.drain(idle_timeout=0)
    with db.transaction() as session:
        (hit,) = session.scalars(select(RuleHit).where(RuleHit.rule == "flood_alert")).all()
        assert "page_error" in hit.effects[0] and session.scalar(select(func.count()).select_from(Page)) == 0
    staff.create(Role.ON_CALL, username="oncall_one")
    clock.advance(minutes=5)
    for n in range(6):
        message = world.post(f"again {n}")
        bus.publish_now("events.message", as_bytes(message_event(message, at=clock.now())), msg_id=None)
    await worker.drain(idle_timeout=0)
    assert [r.username for _, r in pager.sent] == ["oncall_one"]
    message, _ = pager.sent[0]
    assert "again" not in str(message)  # the rule and the event id, never the text


@pytest.mark.anyio
async def test_the_same_image_in_two_messages_makes_one_case(db, clock, world: DemoWorld, bus, bank_handler: Handler) -> None:
    first, first_id = _media_event(world, clock)
    second, second_id = _media_event(world, clock)
    assert first["media"][0]["media_id"] != second["media"][0]["media_id"]
    for event in (first, second):
        bus.publish_now("events.message", as_bytes(event), msg_id=None)
    await Worker(bus, bank_handler, threaded=False).drain(idle_timeout=0)
    with db.transaction() as session:
        cases = session.scalars(select(Case).where(Case.queue == "child_safety")).all()
        assert [(c.subject_kind, c.subject_id, c.reports) for c in cases] == [("message", first_id, 2)]
