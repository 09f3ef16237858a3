"""Who looked at a person's data, for auditors: `GET /api/v1/access-log?subject=<id>` and
`/console/access-log?subject=<id>` (AUDIT_READ), newest first (docs/access-log.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict

from trustdesk.core.access import service as access
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.deps import SessionDep, require
from trustdesk.http.rendering import render

api_router = APIRouter(prefix="/access-log", tags=["audit"])
page_router = APIRouter(include_in_schema=False)
AuditReader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
SubjectQuery = Annotated[str, Query(min_length=1, max_length=200, description="The person: an account id, or a target as given.")]
PAGE_SIZE = 100


class AccessEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    channel: str
    subject_kind: str
    subject_id: str
    what: str
    object_ref: str | None
    purpose_kind: str
    purpose_ref: str
    reason: str | None
    request_id: str | None


@api_router.get("", response_model=list[AccessEntryRead])
def access_log(
    session: SessionDep, principal: AuditReader, subject: SubjectQuery, before: RowId | None = None
) -> list[AccessEntryRead]:
    """Every logged view of one person's data (who, when, why, what), newest first; `before`
    pages back (an entry id)."""
    rows = access.log_for_subject(session, principal=principal, subject_id=subject, before_id=before, limit=PAGE_SIZE)
    return [AccessEntryRead.model_validate(r) for r in rows]


@page_router.get("/console/access-log", response_class=HTMLResponse)
def access_log_page(
    request: Request,
    session: SessionDep,
    principal: AuditReader,
    subject: Annotated[str, Query(max_length=200)] = "",
    before: RowId | None = None,
) -> HTMLResponse:
    request.state.principal = principal
    rows = (
        access.log_for_subject(session, principal=principal, subject_id=subject, before_id=before, limit=PAGE_SIZE)
        if subject
        else []
    )
    return render(request, "console/access_log.html", active="access", subject=subject, entries=rows, page_size=PAGE_SIZE)
