"""`insert_many` writes exactly what `session.execute` would: the same rows read back, on
SQLite (driver executemany) and PostgreSQL (COPY), whatever the text holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import StatementError

from trustdesk.core.database import Database, insert_many
from trustdesk.safety.pipeline.models import HandledEvent, RuleHit

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# Text as events carry it: quotes, backslashes, tabs and newlines (COPY's own delimiters),
# any script, emoji; no NUL, which no PostgreSQL text holds.
TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)


def _rows(prefix: str, texts: list[str]) -> tuple[list[dict], list[dict]]:
    events = [
        {
            "event_id": f"{prefix}{i}",
            "kind": "message",
            "platform": "demo",
            "actor": t or "a",
            "occurred_at": AT - timedelta(seconds=i),
            "handled_at": AT,
            "payload": t,
            "verdicts": [t, "kw"] if i % 2 else [],
            "hits": i,
            "worker": "w",
        }
        for i, t in enumerate(texts)
    ]
    hits = [
        {
            "event_id": f"{prefix}{i}",
            "ruleset": "r",
            "ruleset_version": 1,
            "rule": "x",
            "rule_version": 2,
            "shadow": i % 3 == 0,
            "effects": [{"effect": "verdict", "args": {"verdict": t}}],
            "at": AT,
        }
        for i, t in enumerate(texts)
    ]
    return events, hits


def _read(db: Database, prefix: str) -> tuple[list[tuple], list[tuple]]:
    with db.transaction() as session:
        events = session.execute(
            select(HandledEvent.__table__).where(HandledEvent.event_id.startswith(prefix)).order_by(HandledEvent.event_id)
        ).all()
        hits = session.execute(
            select(RuleHit.__table__).where(RuleHit.event_id.startswith(prefix)).order_by(RuleHit.event_id)
        ).all()
    return [tuple(e) for e in events], [tuple(h)[1:] for h in hits]  # hit ids differ


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=12))
def test_rows_read_back_as_session_execute_writes_them(db: Database, texts: list[str]) -> None:
    plain_events, plain_hits = _rows("p", texts)
    fast_events, fast_hits = _rows("f", texts)
    with db.transaction() as session:
        session.execute(insert(HandledEvent.__table__), plain_events)
        session.execute(insert(RuleHit.__table__), plain_hits)
        insert_many(session, insert(HandledEvent.__table__), fast_events)
        insert_many(session, insert(RuleHit.__table__), fast_hits)
    (pe, ph), (fe, fh) = _read(db, "p"), _read(db, "f")
    assert [e[1:] for e in fe] == [e[1:] for e in pe] and len(fe) == len(texts)
    assert [h[1:] for h in fh] == [h[1:] for h in ph]
    assert all(e[4].tzinfo is not None and e[4] == AT - timedelta(seconds=int(e[0][1:])) for e in fe)  # aware UTC, to the second
    with db.transaction() as session:
        session.execute(delete(RuleHit.__table__))
        session.execute(delete(HandledEvent.__table__))


def test_rows_missing_a_value_are_refused_as_session_execute_refuses_them(db: Database) -> None:
    """Rows that do not share one column set take `session.execute`'s path: the same clear
    error, and nothing written."""
    events, _ = _rows("k", ["a", "b"])
    del events[1]["verdicts"]
    with pytest.raises(StatementError, match="A value is required for bind parameter 'verdicts'"), db.transaction() as session:
        insert_many(session, insert(HandledEvent.__table__), events)
    assert _read(db, "k") == ([], [])
