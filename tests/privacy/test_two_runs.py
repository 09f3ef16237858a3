"""Two retention runs at once (two processes, or a job and an operator) take turns: each is
committed and audited, and a row is emptied once (issue #21)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.concurrency import db, in_background, wait_s  # noqa: F401 - the module's own database
from tests.privacy.conftest import PrivacyFactory
from trustdesk.core.audit.models import AuditEntry
from trustdesk.core.blobs import InMemoryBlobStore
from trustdesk.core.clock import FrozenClock
from trustdesk.core.database import Database
from trustdesk.privacy import retention
from trustdesk.safety.reports.models import Notice


def test_two_runs_at_once_empty_each_row_once(db: Database, clock: FrozenClock) -> None:  # noqa: F811
    world = PrivacyFactory(db, clock)
    people = [world.person(at=clock.now() - timedelta(days=1000)) for _ in range(3)]
    blobs = InMemoryBlobStore()
    runs = [in_background(lambda: retention.run(db, clock=clock, blobs=blobs)) for _ in range(2)]
    for thread, _ in runs:
        thread.join(wait_s())
    reports = [out[0] for _, out in runs]
    assert sorted(r.tables["notices"].emptied for r in reports) == [0, 3]
    with db.transaction() as session:
        ids = [p.notice_id for p in people]
        emails = session.scalars(select(Notice.notifier_email).where(Notice.id.in_(ids))).all()
        assert emails == [None, None, None]
        assert session.scalar(select(func.count()).where(AuditEntry.action == "privacy.retention.run")) == 2
