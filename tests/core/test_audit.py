from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, text, update

from tests.conftest import TEST_ACTOR
from trustdesk.core import audit
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.audit.service import list_entries
from trustdesk.core.database import Database


def _write(db: Database, clock, n: int) -> None:
    with db.transaction() as session:
        for i in range(n):
            audit.record(
                session,
                actor=TEST_ACTOR,
                action="thing.change",
                object_type="thing",
                object_id=i,
                reason=f"r{i}",
                change={"i": i},
                clock=clock,
            )


def test_a_fresh_chain_verifies(db: Database, clock) -> None:
    _write(db, clock, 5)
    with db.transaction() as session:
        result = audit.verify(session)
    assert result.ok and result.checked == 5


def test_entries_link_each_to_the_one_before(db: Database, clock) -> None:
    _write(db, clock, 3)
    with db.transaction() as session:
        rows = sorted(list_entries(session, limit=10), key=lambda e: e.seq)
    assert [r.prev_hash for r in rows[1:]] == [r.entry_hash for r in rows[:-1]]


def test_an_edited_row_is_named(db: Database, clock) -> None:
    _write(db, clock, 6)
    with db.transaction() as session:
        session.execute(text("UPDATE audit_entries SET reason = 'nothing to see' WHERE seq = 4"))
    with db.transaction() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_broken == 4 and result.checked == 3


def test_a_removed_row_is_named(db: Database, clock) -> None:
    _write(db, clock, 6)
    with db.transaction() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    with db.transaction() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_broken == 2


def test_a_removed_tail_is_caught_by_the_head(db: Database, clock) -> None:
    _write(db, clock, 4)
    with db.transaction() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
    with db.transaction() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_broken == 4


def test_a_relinked_forgery_still_breaks_at_the_forged_entry(db: Database, clock) -> None:
    """Rewriting an entry and its own hash does not help: the next entry's link breaks."""
    _write(db, clock, 5)
    with db.transaction() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(entry_hash="f" * 64))
    with db.transaction() as session:
        result = audit.verify(session)
    assert not result.ok and result.first_broken == 3


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    entries=st.lists(
        st.tuples(
            st.text(min_size=1, max_size=20),
            st.one_of(st.none(), st.text(max_size=50)),
            st.dictionaries(st.text(max_size=5), st.integers()),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_any_chain_of_entries_verifies(db: Database, clock, entries) -> None:
    with db.transaction() as session:
        before = audit.verify(session).checked
        for action, reason, details in entries:
            audit.record(session, actor=TEST_ACTOR, action=action, object_type="x", reason=reason, details=details, clock=clock)
        result = audit.verify(session)
        assert result.ok and result.checked == before + len(entries)
