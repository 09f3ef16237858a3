"""The review queue's search, filters and sort orders (issue #18). Property: for any cases
and any filter and sort, walking the pages cursor to cursor gives exactly the cases that the
filter's plain meaning selects (written out here in Python), each once, in the sort's order.
Claim next takes the most urgent case no one else holds; a bad filter is an error at its
field. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from tests.conftest import TEST_ACTOR
from trustdesk.core.clock import FrozenClock
from trustdesk.core.errors import InvalidInput, NotFound
from trustdesk.core.identity.permissions import operator_principal
from trustdesk.safety.review import finder
from trustdesk.safety.review.models import Case
from trustdesk.safety.review.service import ensure_queues

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
CASE = st.tuples(
    st.sampled_from(["open", "escalated", "decided"]),
    st.integers(0, 3).map(lambda p: p * 30),  # priority 0, 30, 60, 90
    st.sampled_from([None, "drugs", "fraud"]),
    st.sampled_from([None, "me", "bo"]),  # who holds a claim (still running)
    st.integers(-3, 30),  # hours until due
    st.integers(0, 5),  # minutes after T0 opened
)
FILTER = st.builds(
    finder.CaseFilter,
    state=st.sampled_from(finder.STATES),
    policy=st.sampled_from(["", "drugs"]),
    min_priority=st.sampled_from([None, 30, 90]),
    assignee=st.sampled_from(["", "me", "unclaimed", "others", "bo"]),
    due=st.sampled_from(list(finder.DUE)),
    sort=st.sampled_from(list(finder.SORTS)),
)


def _cases(session, rows) -> list[Case]:  # type: ignore[no-untyped-def]
    session.execute(delete(Case))
    made = []
    for n, (state, priority, policy, holder, due, minute) in enumerate(rows):
        case = Case(
            subject_kind="message",
            subject_id=f"m{n}",
            queue="general",
            priority=priority,
            state=state,
            source="notice",
            sources=["notice"],
            reason="r",
            signals={},
            policy_hint=policy,
            opened_at=NOW - timedelta(days=1) + timedelta(minutes=minute),
            due_at=NOW + timedelta(hours=due),
            claimed_by=holder,
            claim_expires_at=NOW + timedelta(minutes=10) if holder else None,
        )
        session.add(case)
        made.append(case)
    session.flush()
    return made


def _meant(cases: list[Case], f: finder.CaseFilter) -> list[int]:
    """What the filter says in words, applied to the rows in Python, in the sort's order."""
    states = {"waiting": ("open", "escalated")}.get(f.state, (f.state,))
    window = finder.DUE[f.due]
    keep = [
        c
        for c in cases
        if c.state in states
        and (not f.policy or c.policy_hint == f.policy)
        and (f.min_priority is None or c.priority >= f.min_priority)
        and (window is None or c.due_at < NOW + window)
        and {
            "": True,
            "me": c.claimed_by == "me",
            "unclaimed": c.claimed_by is None,
            "others": c.claimed_by not in (None, "me"),
        }.get(f.assignee, c.claimed_by == f.assignee)
    ]
    key = {
        "priority": lambda c: (-c.priority, c.opened_at, c.id),
        "due": lambda c: (c.due_at, c.id),
        "oldest": lambda c: (c.opened_at, c.id),
        "newest": lambda c: (-c.opened_at.timestamp(), -c.id),
    }[f.sort]
    return [c.id for c in sorted(keep, key=key)]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(CASE, max_size=14), found=FILTER, size=st.integers(1, 5))
def test_pages_of_a_filtered_view_are_what_the_filter_means(db, clock, rows, found, size: int) -> None:  # type: ignore[no-untyped-def]
    principal = operator_principal("me")
    with db.transaction() as session:
        ensure_queues(session, actor=TEST_ACTOR, clock=clock)
        cases = _cases(session, rows)
        walked, cursor = [], None
        for _ in range(len(rows) + 2):
            page, cursor = finder.find_cases(
                session, principal=principal, queue="general", found=found, now=NOW, limit=size, cursor=cursor
            )
            walked += [c.id for c in page]
            if cursor is None:
                break
        assert cursor is None, "the cursor does not advance"
        assert walked == _meant(cases, found)


def test_a_filter_survives_its_own_link_and_bad_values_are_refused_at_their_field() -> None:
    found = finder.CaseFilter.parse({"policy": "drugs", "min_priority": "60", "due": "4h", "sort": "due"})
    assert finder.CaseFilter.parse(found.query()) == found
    assert finder.CaseFilter().query() == {}
    for field, value in [("state", "gone"), ("sort", "random"), ("due", "soon"), ("min_priority", "101")]:
        with pytest.raises(InvalidInput) as refused:
            finder.CaseFilter.parse({field: value})
        assert refused.value.extensions["field"] == field


def test_claim_next_takes_the_most_urgent_case_no_one_else_holds(db) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(NOW)
    me, bo = operator_principal("me"), operator_principal("bo")
    with db.transaction() as session:
        ensure_queues(session, actor=TEST_ACTOR, clock=clock)
        held, urgent, later = _cases(
            session, [("open", 90, None, "bo", 5, 0), ("open", 60, None, None, 5, 1), ("open", 30, None, None, 5, 2)]
        )
        view = finder.CaseFilter()
        first = finder.claim_next(session, principal=me, actor=TEST_ACTOR, clock=clock, queue="general", found=view)
        assert first.id == urgent.id and first.claimed_by == "me"  # bo's claim still runs
        second = finder.claim_next(session, principal=me, actor=TEST_ACTOR, clock=clock, queue="general", found=view)
        assert second.id == later.id  # the one already mine is not offered again
        with pytest.raises(NotFound):  # bo holds the first already, the others are mine
            finder.claim_next(session, principal=bo, actor=TEST_ACTOR, clock=clock, queue="general", found=view)
        assert session.scalar(select(Case.claimed_by).where(Case.id == held.id)) == "bo"
