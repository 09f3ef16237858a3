"""The pipeline's running totals (issue #19): `/metrics` and the pipeline page read a few rows
per worker instead of counting every event and rule hit stored. Each worker adds to its own
rows; the sums equal what is stored; a duplicate adds nothing; and a totals row per worker
means two workers never write the same row."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from tests.safety.pipeline.conftest import DemoWorld, as_bytes, message_event
from trustdesk.core.database import Database
from trustdesk.safety.pipeline.events import parse_event
from trustdesk.safety.pipeline.handling import Handler, Received
from trustdesk.safety.pipeline.metrics import handled_count, rule_hit_counts
from trustdesk.safety.pipeline.models import HandledEvent, PipelineTotal, RuleHit


def _received(events: list[dict]) -> list[Received]:
    return [Received(parse_event(as_bytes(e)), as_bytes(e).decode()) for e in events]


def test_totals_are_what_is_stored_summed_over_workers(db: Database, clock, world: DemoWorld, handler: Handler) -> None:
    other = dataclasses.replace(handler, worker="other")
    first = [message_event(world.post(t), at=clock.now()) for t in ("buy xanax", "hello", "mdma here")]
    second = [message_event(world.post(t), at=clock.now()) for t in ("fresh mdma, dm me", "good morning")]
    handler.handle(_received(first))
    other.handle(_received(second))
    other.handle(_received(first[:1]))  # a duplicate, delivered again to another worker: not counted
    with db.transaction() as session:
        stored_events = session.scalar(select(func.count()).select_from(HandledEvent))
        stored_hits = {
            (rule, bool(shadow)): n
            for rule, shadow, n in session.execute(
                select(RuleHit.rule, RuleHit.shadow, func.count()).group_by(RuleHit.rule, RuleHit.shadow)
            )
        }
        assert handled_count(session) == stored_events == 5
        assert {(rule, shadow): n for rule, shadow, n in rule_hit_counts(session)} == stored_hits
        assert stored_hits  # the rules hit something, so the hit totals were exercised
        rows = session.execute(select(PipelineTotal.worker, PipelineTotal.value).where(PipelineTotal.figure == "events")).all()
    assert sorted(rows) == [("other", 2), ("test", 3)]
