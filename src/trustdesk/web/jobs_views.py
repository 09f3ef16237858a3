"""The scheduled jobs' record on the console (`/console/jobs`) and the API (`GET
/api/v1/jobs`): every registered job with its interval, and what its row says of the last
run, the next one and the failures, whichever process ran it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.jobs.models import JobState
from trustdesk.core.jobs.scheduler import states
from trustdesk.http.deps import ContainerDep, require
from trustdesk.http.rendering import render
from trustdesk.web.jobs import registered_jobs

api_router = APIRouter(prefix="/jobs", tags=["operations"])
page_router = APIRouter(include_in_schema=False)
JobsReader = Annotated[Principal, Depends(require(Permission.JOBS_READ))]


class JobRead(BaseModel):
    name: str
    description: str
    enabled: bool
    every_s: float
    next_run_at: datetime | None
    running_since: datetime | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_duration_ms: int | None
    last_outcome: str | None
    last_summary: str | None
    last_error: str | None
    runs: int
    failures: int
    consecutive_failures: int


def job_views(container: ContainerDep) -> list[JobRead]:
    rows: dict[str, JobState] = {row.name: row for row in states(container.db)}
    views = []
    for job in registered_jobs(container):
        row = rows.get(job.name)
        views.append(
            JobRead(
                name=job.name,
                description=job.description,
                enabled=job.enabled,
                every_s=job.every_s,
                next_run_at=row.next_run_at if row and job.enabled else None,
                running_since=row.last_started_at if row and row.holder else None,
                last_started_at=row.last_started_at if row else None,
                last_finished_at=row.last_finished_at if row else None,
                last_duration_ms=row.last_duration_ms if row else None,
                last_outcome=row.last_outcome if row else None,
                last_summary=row.last_summary if row else None,
                last_error=row.last_error if row else None,
                runs=row.runs if row else 0,
                failures=row.failures if row else 0,
                consecutive_failures=row.consecutive_failures if row else 0,
            )
        )
    return views


@api_router.get("", response_model=list[JobRead])
def list_jobs(container: ContainerDep, _: JobsReader) -> list[JobRead]:
    """Every scheduled job and its record (jobs:read)."""
    return job_views(container)


@page_router.get("/console/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, container: ContainerDep, principal: JobsReader) -> HTMLResponse:
    request.state.principal = principal
    return render(request, "console/jobs.html", active="jobs", jobs=job_views(container))
