"""The purpose check and the access log for the web: one dependency that a route showing a
person's data declares (`PersonView`), so that no such route can forget either. The route's
path names the person (`subject_param`); the caller says why with `?purpose=case:12` (and
may add `&why=...` in their own words); the purpose must be a record, visible to the caller,
that concerns that person (the room's checks say which do), else nothing is shown (422 when
no purpose is given, 403 when it does not justify the view). The view is logged in the same
transaction as the response, so a success status means the log row is stored."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from trustdesk.core.access import service as access
from trustdesk.core.access.service import Channel, Justification, Purpose, PurposeCheck, Subject
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, SessionDep, require

ChecksFor = Callable[[Container], Mapping[Purpose, PurposeCheck]]


@dataclass(frozen=True)
class PersonView:
    principal: Principal
    subject: Subject
    justification: Justification


def channel_of(request: Request) -> Channel:
    return Channel.CONSOLE if request.url.path.startswith("/console") else Channel.API


def person_view(
    *, what: str, permission: Permission, subject_kind: str, subject_param: str, checks: ChecksFor
) -> Callable[..., PersonView]:
    """A dependency: the caller holds `permission`, gave a purpose that concerns the person
    the path names, and the view is logged."""

    allowed = require(permission)

    # `principal` takes its dependency as a default: the annotations are strings (PEP 563),
    # which FastAPI resolves in this module's namespace, where `permission` is not.
    def _dependency(
        request: Request,
        session: SessionDep,
        container: ContainerDep,
        principal: Principal = Depends(allowed),  # noqa: B008 - FastAPI's way, evaluated once here
        *,
        purpose: Annotated[str | None, Query(max_length=40, description="Why: case:<id>, appeal:<id> or request:<id>.")] = None,
        why: Annotated[
            str | None, Query(max_length=500, description="Why, in the viewer's words (kept in the access log).")
        ] = None,
    ) -> PersonView:
        subject = Subject(subject_kind, str(request.path_params[subject_param]))
        justification = access.parse_purpose(purpose, reason=why)
        access.require_purpose(
            session, principal=principal, justification=justification, subject=subject, checks=checks(container)
        )
        access.record_views(
            session,
            principal=principal,
            clock=container.clock,
            subjects=[subject],
            what=what,
            justification=justification,
            channel=channel_of(request),
            request_id=getattr(request.state, "request_id", None),
        )
        return PersonView(principal, subject, justification)

    return _dependency


def record_view(
    request: Request,
    session: Session,
    container: Container,
    *,
    principal: Principal,
    subjects: list[Subject],
    what: str,
    justification: Justification,
    object_ref: str | None = None,
) -> None:
    """Log a view whose record is its own purpose (a case, a lawful request): the route has
    loaded it through its scoped service, which is the check."""
    access.record_views(
        session,
        principal=principal,
        clock=container.clock,
        subjects=subjects,
        what=what,
        justification=justification,
        channel=channel_of(request),
        object_ref=object_ref,
        request_id=getattr(request.state, "request_id", None),
    )
