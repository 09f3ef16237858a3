"""Keyset pagination (issue #19: the queues stopped at 200 requests and 100 cases, and what lay
past the cap could not be seen). Property: walking the pages of any size, cursor to cursor,
gives every row exactly once in the order of one unpaged read, whatever ties the sort keys
have (equal priorities, equal instants, no deadline); a cursor that was not handed out is
refused. On both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from tests.conftest import TEST_ACTOR
from trustdesk.core.errors import InvalidInput
from trustdesk.core.identity.permissions import operator_principal
from trustdesk.safety.review import service as review
from trustdesk.safety.review.models import Case
from trustdesk.safety.review.service import CASE_ORDER, ensure_queues

T0 = datetime(2026, 12, 1, tzinfo=UTC)
ROWS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=0, max_size=25)


def _cases(session, rows) -> None:  # type: ignore[no-untyped-def]
    session.execute(delete(Case))
    for priority, minute in rows:
        session.add(
            Case(
                subject_kind="message",
                subject_id="m",
                queue="illegal_goods",
                priority=priority,
                state="open",
                source="notice",
                sources=["notice"],
                reason="r",
                signals={},
                opened_at=T0 + timedelta(minutes=minute),
                due_at=T0 + timedelta(days=1),
            )
        )
    session.flush()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, size=st.integers(1, 7))
def test_pages_give_every_case_once_in_order(db, clock, rows, size: int) -> None:  # type: ignore[no-untyped-def]
    principal = operator_principal("test")
    with db.transaction() as session:
        ensure_queues(session, actor=TEST_ACTOR, clock=clock)
        _cases(session, rows)
        whole = [c.id for c in session.scalars(select(Case).order_by(*CASE_ORDER.order()))]
        walked, cursor, pages = [], None, 0
        while True:
            page, cursor = review.page_cases(session, principal=principal, queue="illegal_goods", limit=size, cursor=cursor)
            walked += [c.id for c in page]
            pages += 1
            assert len(page) <= size
            if cursor is None:
                break
            assert pages <= len(rows) + 1, "the cursor does not advance"
    assert walked == whole and len(walked) == len(rows)


def test_a_cursor_not_handed_out_is_refused(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as session, pytest.raises(InvalidInput):
        review.page_cases(session, principal=operator_principal("test"), cursor="eyJub3QiOiJvdXJzIn0")
