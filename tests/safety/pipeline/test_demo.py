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
        # by the rules, or by a rule joining the open hash-match case about the same image
        queues = {c.queue for c in session.scalars(select(Case)) if "rule" in c.sources}
        grouped = [c for c in session.scalars(select(Case)) if {"rule", "hash_match"} <= set(c.sources)]
    assert {"shared_terror_propaganda", "extortion_demand", "drug_sale_offer"} <= hits
    assert {"terrorism", "abuse", "illegal_goods"} <= queues
    # the demo's propaganda images: the retroaction's media case and the rule's report on the
    # message that sent the image are one case, not two unlinked ones
    assert grouped and all(c.subject_kind == "media" and c.reports == 2 for c in grouped)
    assert load_demo_pipeline(container, actor=ACTOR) == 0
