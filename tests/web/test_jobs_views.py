"""The scheduled jobs' record: the console page (role-filtered nav), the API, /metrics; what a
scheduler stored, whichever process it was."""

from __future__ import annotations

import pytest

from trustdesk.core.identity.permissions import Permission, Role
from trustdesk.core.jobs import Scheduler
from trustdesk.legal.jobs import DEADLINE_ALERTS, RELEASE_EXPIRED_HOLDS
from trustdesk.web.jobs import registered_jobs


@pytest.fixture
def ran(container, db, clock) -> None:
    """Two jobs on, the rest off; one poll a minute after they were first seen."""
    jobs = {job.name: 0.0 for job in registered_jobs(container)}
    jobs[DEADLINE_ALERTS], jobs[RELEASE_EXPIRED_HOLDS] = 60.0, 3600.0
    container.settings = container.settings.model_copy(update={"jobs_every_s": jobs})
    scheduler = Scheduler(db, registered_jobs(container), clock=clock)
    scheduler.run_due()
    clock.advance(seconds=61)
    assert {o.name for o in scheduler.run_due()} == {DEADLINE_ALERTS, RELEASE_EXPIRED_HOLDS}


@pytest.mark.parametrize(
    ("role", "sees"), [(Role.AUDITOR, True), (Role.ON_CALL, True), (Role.ADMIN, True), (Role.REVIEWER, False)]
)
def test_the_jobs_page_is_for_those_who_watch_operations(client, staff, ran, role, sees) -> None:
    staff.sign_in(client, staff.create(role))
    page = client.get("/console/jobs")
    assert page.status_code == (200 if sees else 403)
    assert ('href="/console/jobs"' in client.get("/console").text) is sees, "the nav shows the area only to those it opens to"
    if sees:
        assert f'data-job="{DEADLINE_ALERTS}"' in page.text and "0 new alert(s)" in page.text
        assert "off" in page.text, "a job turned off says so"


def test_the_api_and_metrics_show_each_job_s_record(client, staff, ran) -> None:
    headers = {"Authorization": f"Bearer {staff.token(Permission.JOBS_READ)}"}
    jobs = {j["name"]: j for j in client.get("/api/v1/jobs", headers=headers).json()}
    alerts = jobs[DEADLINE_ALERTS]
    assert (alerts["enabled"], alerts["runs"], alerts["failures"], alerts["last_outcome"]) == (True, 1, 0, "ok")
    assert alerts["next_run_at"] and alerts["last_duration_ms"] is not None
    assert jobs["safety.exchange_fetch"]["enabled"] is False and jobs["safety.exchange_fetch"]["runs"] == 0
    assert (
        client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {staff.token(Permission.SAFETY_READ)}"}).status_code == 403
    )
    metrics = client.get("/metrics").text
    assert f'trustdesk_job_runs_total{{job="{DEADLINE_ALERTS}"}} 1.0' in metrics
    assert f'trustdesk_job_last_run_ok{{job="{RELEASE_EXPIRED_HOLDS}"}} 1.0' in metrics
    assert f'trustdesk_job_next_run_timestamp_seconds{{job="{DEADLINE_ALERTS}"}}' in metrics


def test_retention_runs_as_a_job_on_its_own_schedule(container, db, clock) -> None:
    """The privacy room's retention (issue #21) is a registered job: daily by default, and a
    due tick runs it and records its audited run, counts only."""
    from sqlalchemy import select

    from trustdesk.core.audit.models import AuditEntry
    from trustdesk.privacy.jobs import RETENTION, RETRY_DEFERRED

    jobs = {job.name: job for job in registered_jobs(container)}
    assert jobs[RETENTION].every_s == 86400.0 and RETRY_DEFERRED in jobs
    only = {name: 0.0 for name in jobs} | {RETENTION: 60.0}
    container.settings = container.settings.model_copy(update={"jobs_every_s": only})
    scheduler = Scheduler(db, registered_jobs(container), clock=clock)
    scheduler.run_due()
    clock.advance(seconds=61)
    [outcome] = scheduler.run_due()
    assert outcome.name == RETENTION and outcome.ok, outcome
    with db.transaction() as session:
        runs = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.retention.run")).all()
    assert runs and runs[-1].actor == "system:jobs"
