from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from trustdesk.core.audit import checkpoints, service
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.http.deps import ContainerDep, SessionDep, require
from trustdesk.http.pagination import Page, decode_cursor, encode_cursor

router = APIRouter(prefix="/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    reason: str | None
    details: dict[str, Any]
    change_digest: str
    policy_version: str | None
    request_id: str | None
    prev_hash: str
    entry_hash: str


class VerificationRead(BaseModel):
    ok: bool
    checked: int
    first_broken: int | None
    problem: str | None
    checkpoints: int = Field(0, description="Signed checkpoints of the deployment's log that the chain was held to.")


@router.get("", response_model=Page[AuditEntryRead])
def list_audit(
    session: SessionDep,
    _: Auditor,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[AuditEntryRead]:
    before = decode_cursor(cursor).get("before_seq")
    rows = service.list_entries(
        session,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
        before_seq=before,
        limit=limit,
    )
    next_cursor = encode_cursor({"before_seq": rows[-1].seq}) if len(rows) == limit else None
    return Page[AuditEntryRead](items=[AuditEntryRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/verify", response_model=VerificationRead)
def verify_chain(session: SessionDep, container: ContainerDep, _: Auditor) -> VerificationRead:
    """The chain, held to the deployment's signed checkpoints where it has a log."""
    path = checkpoints.Anchor.of(container.settings).log
    try:
        marks = checkpoints.read(path).checkpoints if path.exists() else []
    except checkpoints.CheckpointLogError as exc:
        return VerificationRead(ok=False, checked=0, first_broken=None, problem=exc.detail)
    result = service.verify(session, checkpoints=marks)
    return VerificationRead(
        ok=result.ok, checked=result.checked, first_broken=result.first_broken, problem=result.problem, checkpoints=len(marks)
    )
