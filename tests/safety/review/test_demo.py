"""The review demo data: work in the queues for the demo reviewers, loaded once."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.safety.review.factories import TEST_ACTOR
from trustdesk.safety.review import service as review
from trustdesk.safety.review.demo import load_demo_review
from trustdesk.safety.review.models import Case


def test_demo_review_fills_the_queues_once(session, clock, platform, cast) -> None:
    assert load_demo_review(session, platform=platform, actor=TEST_ACTOR, clock=clock) == 4
    assert load_demo_review(session, platform=platform, actor=TEST_ACTOR, clock=clock) == 0
    assert session.scalar(select(func.count()).select_from(Case)) == 4
    assert {"illegal_goods", "appeals", "child_safety"} <= review.member_queues(session, username="reviewer")
    assert review.member_queues(session, username="legal") == {"legal", "senior"}
    trusted = session.scalars(select(Case).where(Case.trusted_flagger.is_(True))).one()
    assert trusted.queue == "terrorism"
