"""Events through the worker and the rules to their effects, on the test's database (both
backends): what a reviewer and the platform's users see happen, exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.safety.pipeline.conftest import TEST_ACTOR, DemoWorld, as_bytes, message_event
from trustdesk.core.audit import verify
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.bus import InProcessBus
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.platform.port import MessageState
from trustdesk.safety.pipeline import deadletters
from trustdesk.safety.pipeline.events import parse_event
from trustdesk.safety.pipeline.handling import Handler, Received
from trustdesk.safety.pipeline.hashes import InMemoryHashMatcher
from trustdesk.safety.pipeline.models import DeadLetterRecord, EntityLabel, HandledEvent, RuleAlert, RuleHit
from trustdesk.safety.pipeline.worker import Worker
from trustdesk.safety.review.models import Case
from trustdesk.safety.rules.backtest import run_backtest
from trustdesk.safety.rules.language import parse_rules


def _count(db: Database, model: type, *where: object) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def _run(bus: InProcessBus, worker: Worker, *events: dict) -> None:
    for event in events:
        bus.publish_now(f"events.{event['kind']}", as_bytes(event), msg_id=None)
    await worker.drain(idle_timeout=0)


@pytest.mark.anyio
async def test_drug_offer_opens_a_case_and_labels_the_sender(db, clock, world: DemoWorld, bus, worker) -> None:
    message = world.post("selling c0caine and pills for sale, dm me")
    await _run(bus, worker, message_event(message, at=clock.now()))
    with db.transaction() as session:
        case = session.scalars(select(Case).where(Case.subject_id == message.id)).one()
        assert (case.queue, case.subject_kind, case.rule_ref, case.priority) == (
            "illegal_goods",
            "message",
            "test/drug_offer@v5",
            40,
        )
        label = session.scalars(select(EntityLabel).where(EntityLabel.entity_id == world.sender)).one()
        assert (label.label, label.expires_at, label.set_by) == (
            "drug_offer",
            clock.now() + timedelta(days=1),
            "test/drug_offer@v5",
        )
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("pipeline.effect.%"))).all()
        assert {e.action for e in entries} == {"pipeline.effect.open_case", "pipeline.effect.add_label"}
        assert all(
            e.actor == "rule:test/drug_offer@v5" and e.details["rule_version"] == 5 and e.policy_version == "test@7"
            for e in entries
        )
        assert session.get(HandledEvent, f"msg:{message.id}").verdicts == ["drugs"]


@pytest.mark.anyio
async def test_a_batch_writes_its_effects_audit_entries_in_the_order_things_happened(
    db, clock, world: DemoWorld, bus, worker
) -> None:
    """The effects' entries are written once per batch, but flushed before a case is opened,
    so the chain reads case, its effects, next case, its effects; and it verifies."""
    first, second = world.post("mdma here"), world.post("pills for sale")
    await _run(bus, worker, message_event(first, at=clock.now()), message_event(second, at=clock.now()))
    with db.transaction() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        pipeline = [(e.action, e.object_id) for e in entries if e.actor == "rule:test/drug_offer@v5"]
        assert verify(session).ok
    assert [action for action, _ in pipeline if action.startswith("pipeline.")] == [
        "pipeline.effect.open_case",
        "pipeline.effect.add_label",
    ] * 2
    opened = [i for i, (action, _) in enumerate(pipeline) if not action.startswith("pipeline.")]
    assert len(opened) == 2 and pipeline[opened[0] + 1][1] == pipeline[opened[0] + 2][1] == f"msg:{first.id}"
    assert pipeline[opened[1] + 1][1] == f"msg:{second.id}"


@pytest.mark.anyio
async def test_verified_csam_match_removes_the_message(db, clock, world: DemoWorld, bus, worker) -> None:
    message = world.post("look", media=True)
    await _run(bus, worker, message_event(message, at=clock.now(), pdq=world.poster_pdq))
    assert world.platform.get_message(message.id).state is MessageState.REMOVED
    with db.transaction() as session:
        case = session.scalars(select(Case).where(Case.subject_id == message.id)).one()
        assert case.queue == "child_safety" and case.rule_ref == "test/known_csam@v3"
    assert _count(db, AuditEntry, AuditEntry.action == "pipeline.effect.take_action") == 1


@pytest.mark.anyio
async def test_an_event_handled_twice_changes_nothing_the_second_time(db, clock, world: DemoWorld, bus, worker) -> None:
    message = world.post("mdma here")
    event = message_event(message, at=clock.now())
    await _run(bus, worker, event, event)
    await _run(bus, worker, event)
    assert _count(db, HandledEvent) == 1
    assert _count(db, EntityLabel) == 1
    assert _count(db, AuditEntry, AuditEntry.action == "pipeline.effect.open_case") == 1
    assert worker.stats.duplicates == 2


@pytest.mark.anyio
async def test_shadow_rule_records_what_it_would_do_and_does_nothing(db, clock, world: DemoWorld, bus, worker) -> None:
    events = [message_event(world.post(f"hello {i}"), at=clock.now()) for i in range(5)]
    await _run(bus, worker, *events)
    with db.transaction() as session:
        hits = session.scalars(select(RuleHit).where(RuleHit.rule == "flood")).all()
        assert len(hits) == 2 and all(h.shadow for h in hits)  # the 4th and 5th message in the minute
        assert all(effect["would"] for h in hits for effect in h.effects)
    assert _count(db, EntityLabel, EntityLabel.label == "flooding") == 0
    assert _count(db, Case, Case.queue == "abuse") == 0


@pytest.mark.anyio
async def test_counters_span_batches_and_windows(db, clock: FrozenClock, world: DemoWorld, bus, worker) -> None:
    for i in range(5):
        await _run(bus, worker, message_event(world.post(f"hi {i}"), at=clock.now()))
    await _run(bus, worker, message_event(world.post("sixth"), at=clock.now()))
    assert _count(db, RuleAlert) == 1  # the sixth message within the minute, across six batches
    later = clock.now() + timedelta(minutes=5)
    await _run(bus, worker, message_event(world.post("much later"), at=later))
    assert _count(db, RuleHit, RuleHit.rule == "flood") == 3  # the old minute no longer counts


@pytest.mark.anyio
async def test_labels_expire(db, clock: FrozenClock, world: DemoWorld, bus, worker) -> None:
    with db.transaction() as session:
        session.add(
            EntityLabel(
                entity_kind="account",
                entity_id=world.sender,
                label="trusted_pharmacist",
                set_at=clock.now(),
                expires_at=clock.now() + timedelta(hours=1),
                set_by="staff:test",
            )
        )
    await _run(bus, worker, message_event(world.post("cocaine"), at=clock.now()))
    assert _count(db, Case) == 0
    clock.advance(hours=2)
    await _run(bus, worker, message_event(world.post("cocaine again"), at=clock.now()))
    assert _count(db, Case) == 1


@pytest.mark.anyio
async def test_a_malformed_event_is_dead_lettered_and_the_rest_go_on(db, clock, world: DemoWorld, bus, worker) -> None:
    good = message_event(world.post("mdma"), at=clock.now())
    bus.publish_now("events.message", b'{"id": "x1", "kind": "message", "occurred_at": "yesterday"}')
    bus.publish_now("events.message", b"not json at all")
    await _run(bus, worker, good)
    assert _count(db, HandledEvent) == 1
    with db.transaction() as session:
        dead = deadletters.waiting(session)
        assert len(dead) == 2
        assert any(d.event_id == "x1" and "occurred_at" in d.error for d in dead)
    assert len(await bus.dead_letters()) == 2


class _BrokenMatcher:
    def __init__(self) -> None:
        self.broken = True

    def match_pdq(self, pdq_hex: str, *, max_distance: int) -> list:
        if self.broken:
            raise ConnectionError("hash bank unreachable")
        return []

    def match_exact(self, digest_hex: str) -> list:
        return []

    def match_pdq_many(self, pdq_hexes: list[str], *, max_distance: int) -> list:
        return [self.match_pdq(h, max_distance=max_distance) for h in pdq_hexes]


@pytest.mark.anyio
async def test_a_failing_rule_retries_then_dead_letters_without_stopping_others(
    db, clock, world: DemoWorld, bus, handler: Handler, platform
) -> None:
    broken = _BrokenMatcher()
    handler.hashes = broken
    worker = Worker(bus, handler, batch=100, threaded=False, retry_delay=0, max_attempts=3)
    with_media = message_event(world.post("pic", media=True), at=clock.now(), pdq=world.poster_pdq)
    plain = message_event(world.post("mdma"), at=clock.now())
    await _run(bus, worker, with_media, plain)
    assert _count(db, HandledEvent) == 1 and worker.stats.retried == 2
    with db.transaction() as session:
        (dead,) = deadletters.waiting(session)
        assert dead.attempts == 3 and "ConnectionError: hash bank unreachable" in dead.error
    broken.broken = False
    with db.transaction() as session:
        await deadletters.replay(session, bus=bus, actor=TEST_ACTOR, clock=clock, dead_letter_id=dead.id)
    await worker.drain(idle_timeout=0)
    assert _count(db, HandledEvent) == 2
    assert _count(db, DeadLetterRecord, DeadLetterRecord.replayed_at.is_(None)) == 0


def test_backtest_shows_hits_and_changes_nothing(db, clock, world: DemoWorld, handler: Handler) -> None:
    items = [message_event(world.post(text), at=clock.now()) for text in ("buy xanax", "hello", "cheap x4n4x")]
    handler.handle([Received(parse_event(as_bytes(e)), as_bytes(e).decode()) for e in items])
    cases_before = _count(db, Case)
    candidate = parse_rules(
        'ruleset "next" version 1\nlist pills = ["xanax"]\nrule xanax {\n version 1\n when contains_any(event.text, pills)\n then open_case(queue="illegal_goods", priority=50)\n}\n'
    )
    with db.transaction() as session:
        result = run_backtest(session, actor=TEST_ACTOR, clock=clock, rule_file=candidate)
        assert result.events == 3 and result.results["xanax"]["hits"] == 2
        assert result.results["xanax"]["samples"] == [items[0]["id"], items[2]["id"]]
    assert _count(db, Case) == cases_before
    assert _count(db, AuditEntry, AuditEntry.action == "pipeline.backtest.run") == 1


def test_backtest_binds_a_session_matcher_to_its_transaction(
    db, clock, world: DemoWorld, handler: Handler, matcher: InMemoryHashMatcher
) -> None:
    """The runtime hands a backtest the handler's matcher, which for the banks is unbound:
    the backtest binds it as the handler does (it used to call match_pdq on it and fail)."""
    item = message_event(world.post(None, media=True), at=clock.now(), pdq=world.poster_pdq)
    handler.handle([Received(parse_event(as_bytes(item)), as_bytes(item).decode())])
    bound: list[tuple[Session, list[object]]] = []

    class Banks:
        def bound(self, session: Session, *, clock: object, media: Sequence[object]) -> InMemoryHashMatcher:
            bound.append((session, list(media)))
            return matcher

    candidate = parse_rules(
        'ruleset "next" version 1\nrule banked {\n version 1\n when event.kind in ["message", "media"] and hash_match("csam_verified")\n then verdict("banked")\n}\n'
    )
    with db.transaction() as session:
        result = run_backtest(session, actor=TEST_ACTOR, clock=clock, rule_file=candidate, hashes=Banks())
        assert result.results["banked"]["hits"] == 1 and bound == [(session, [])]


def test_a_label_set_and_removed_within_one_batch_is_stored_removed(
    db, clock, world: DemoWorld, rules_dir, handler: Handler
) -> None:
    """Labels that effects set are written with the batch's rows: a later event of the same
    batch sees them at once, a removal in the same batch finds the row, and the next batch
    reads the removal back from the database."""
    (rules_dir / "watch.rules").write_text(
        """ruleset "watch" version 1
rule watch { version 1 when event.kind == "message" and event.text == "watch me" then add_label(event.actor, "watched") }
rule unwatch { version 1 when event.kind == "message" and event.text == "all clear" then remove_label(event.actor, "watched") }
rule watched { version 1 when event.kind == "message" and has_label(event.actor, "watched") then verdict("watched") }
""",
        encoding="utf-8",
    )
    texts = ["watch me", "hello", "all clear", "hello again"]
    items = [message_event(world.post(t), at=clock.now()) for t in texts]
    handler.handle([Received(parse_event(as_bytes(e)), as_bytes(e).decode()) for e in items])
    later = message_event(world.post("hello later"), at=clock.now())
    handler.handle([Received(parse_event(as_bytes(later)), as_bytes(later).decode())])
    with db.transaction() as session:
        verdicts = [session.get(HandledEvent, e["id"]).verdicts for e in [*items, later]]
        labels = session.scalars(select(EntityLabel).where(EntityLabel.label == "watched")).all()
    assert ["watched" in v for v in verdicts] == [False, True, True, False, False]  # an event's effects apply after its rules
    assert [(lb.entity_id, lb.set_by, lb.removed_by, lb.removed_at is not None) for lb in labels] == [
        (world.sender, "watch/watch@v1", "watch/unwatch@v1", True)
    ]
