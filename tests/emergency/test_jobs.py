"""The emergency sweep as a scheduled job: two processes (two schedulers, each with its own
engine) sweeping one database page on call once for a deadline, on SQLite and PostgreSQL;
and the server starting its scheduler when `jobs_in_server` says so."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import StaffFactory
from tests.emergency.conftest import file_tco
from tests.legal.conftest import LegalFactory
from trustdesk.core import migrate
from trustdesk.core.database import Database
from trustdesk.core.identity.permissions import Role
from trustdesk.core.jobs.scheduler import states
from trustdesk.emergency import flows
from trustdesk.emergency.jobs import SWEEP
from trustdesk.emergency.removal import Lane
from trustdesk.http.container import Container
from trustdesk.legal.intake import Channel
from trustdesk.web.app import create_app
from trustdesk.web.jobs import registered_jobs, scheduler_for


@pytest.fixture
def shared(fresh_database_url) -> Iterator[tuple[Database, Database]]:
    url = fresh_database_url("sweep")
    migrate.upgrade(url)
    first, second = Database.from_url(url), Database.from_url(url)
    yield first, second
    first.dispose()
    second.dispose()


def _poll_together(*containers: Container) -> list[list]:
    schedulers = [scheduler_for(c) for c in containers]
    barrier, results = threading.Barrier(len(schedulers)), [[] for _ in schedulers]

    def poll(i: int) -> None:
        barrier.wait()
        results[i] = schedulers[i].run_due()

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(len(schedulers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_processes_sweeping_page_a_near_deadline_once(
    shared, settings, clock, platform, world, pager, blobs, tmp_path: Path
) -> None:
    db_a, db_b = shared
    StaffFactory(db_a, clock).create(Role.ON_CALL, username="oncall1")
    order = file_tco(LegalFactory(db_a, clock, platform, tmp_path, blobs), world, channel=Channel.STAFF)  # waits for a person
    only_sweep = {
        name: 0.0
        for name in (
            "legal.deadline_alerts",
            "legal.release_expired_holds",
            "legal.enforcing_state_lapse",
            "safety.pipeline_purge",
            "safety.exchange_fetch",
            "safety.pipeline_watch",
            "privacy.retention",
            "privacy.retry_deferred",
        )
    }
    settings = settings.model_copy(update={"emergency_sweep_s": 10.0, "jobs_every_s": only_sweep})
    containers = [Container(settings=settings, db=db, clock=clock, platform=platform, pager=pager) for db in shared]
    with db_a.transaction() as session:
        flows.take_in(
            session, lane=Lane(platform=platform, clock=clock, pager=pager, base_url="https://td.test"), request_id=order.id
        )
    scheduler_for(containers[0]).ensure_rows()  # the job's first tick: one period after it is first seen
    pager.sent.clear()
    clock.advance(minutes=46)  # the hour is near its end: the sweep pages on call
    ran = [o.name for outcomes in _poll_together(*containers) for o in outcomes]
    assert ran == [SWEEP], "one process won the tick and swept"
    # one page per subject (core/paging): the order's page says the deadline is near, and is
    # escalated; each delivery (page, level) went out once, not once per process
    deliveries = Counter((m.page_id, m.level) for m, _ in pager.sent)
    assert any("near" in m.subject for m, _ in pager.sent) and set(deliveries.values()) == {1}, (
        f"each went out once: {deliveries}"
    )
    sent = len(pager.sent)
    clock.advance(seconds=10)
    again = [o for outcomes in _poll_together(*containers) for o in outcomes]
    assert [o.name for o in again] == [SWEEP] and len(pager.sent) == sent, "the next tick swept once and paged nobody again"
    [row] = [r for r in states(db_a) if r.name == SWEEP]
    assert (row.runs, row.failures, row.last_outcome) == (2, 0, "ok")


def _scheduling() -> bool:
    return any(t.name == "trustdesk-jobs" and t.is_alive() for t in threading.enumerate())


def test_the_server_runs_its_scheduler_when_the_setting_asks(settings, container) -> None:
    assert settings.jobs_in_server is False, "off in tests: every other app a test starts runs no job"
    off = {job.name: 0.0 for job in registered_jobs(container)}  # the thread, with nothing to run on the test's connection
    on = settings.model_copy(update={"jobs_in_server": True, "jobs_every_s": off})
    # The scheduler reads the container's settings: with the defaults it ran real jobs on the
    # test's one shared connection, beside the test ("savepoint does not exist" under load).
    container.settings = on
    with TestClient(create_app(on, container=container)):
        assert _scheduling(), "the lifespan started the scheduler"
    assert not _scheduling(), "and stopped it on shutdown"
