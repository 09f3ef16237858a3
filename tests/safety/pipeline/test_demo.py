"""The demo, end to end on the default wiring (banks matcher, shipped demo rules): the demo
platform's scripted messages go through the pipeline and open the cases a reviewer expects;
loading twice changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from trustdesk.core.audit import Actor
from trustdesk.safety.banks.demo import load_demo_banks
from trustdesk.safety.pipeline.demo import load_demo_pipeline
from trustdesk.safety.pipeline.models import RuleHit
from trustdesk.safety.review.models import Case

ACTOR = Actor("test", "demo")


def test_the_demo_messages_open_cases_through_the_rules(container, tmp_path) -> None:
    container.pipeline.rules_dir = tmp_path / "no-rules-here"  # the shipped demo rules
    with container.db.transaction() as session:
        load_demo_banks(session, platform=container.platform, actor=ACTOR, clock=container.clock)
    handled = load_demo_pipeline(container, actor=ACTOR)
    assert handled > 0
    with container.db.transaction() as session:
        hits = set(session.scalars(select(RuleHit.rule)))
        queues = set(session.scalars(select(Case.queue).where(Case.source == "rule")))
    assert {"shared_terror_propaganda", "extortion_demand", "drug_sale_offer"} <= hits
    assert {"terrorism", "abuse", "illegal_goods"} <= queues
    assert load_demo_pipeline(container, actor=ACTOR) == 0
