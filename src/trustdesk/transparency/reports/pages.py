"""Web pages of the reports. Public, no sign-in: `/transparency` lists the published reports
and serves each version's files exactly as they were frozen. Staff: `/console/transparency`
makes drafts, previews them and publishes or discards them. Thin: parse, call the service."""

from __future__ import annotations

from typing import Annotated, TypedDict

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from trustdesk.core.audit import checkpoints
from trustdesk.core.errors import NotFound, TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render
from trustdesk.transparency.reports import annex, service
from trustdesk.transparency.reports.models import ReportFile, ReportState, TransparencyReport
from trustdesk.transparency.reports.periods import current_year
from trustdesk.transparency.reports.service import TITLES, ReportKind

public_router = APIRouter(prefix="/transparency", include_in_schema=False)
console_router = APIRouter(prefix="/console/transparency", include_in_schema=False)
Publisher = Annotated[Principal, Depends(require(Permission.TRANSPARENCY_PUBLISH))]
IMMUTABLE = "public, max-age=31536000, immutable"


def _serve(file: ReportFile, *, cache: str) -> Response:
    disposition = "inline" if file.name.endswith(".html") else "attachment"
    headers = {
        "Content-Disposition": f'{disposition}; filename="{file.name}"',
        "ETag": f'"{file.sha256}"',
        "Cache-Control": cache,
        "X-Content-SHA256": file.sha256,
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    }
    return Response(file.content, media_type=file.media_type, headers=headers)


class _Published(TypedDict):
    slug: str
    title: str
    period: str
    versions: list[TransparencyReport]


def _published(session: Session) -> list[_Published]:
    """Published reports, one entry per report and period, newest version first."""
    groups: dict[str, _Published] = {}
    for row in service.list_reports(session, state=ReportState.PUBLISHED):
        entry = groups.setdefault(
            row.slug, {"slug": row.slug, "title": TITLES[ReportKind(row.kind)], "period": row.period, "versions": []}
        )
        entry["versions"].append(row)
    return list(groups.values())


@public_router.get("", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, container: ContainerDep) -> HTMLResponse:
    anchor = checkpoints.published(checkpoints.Anchor.of(container.settings).log)
    return render(request, "transparency/index.html", reports=_published(session), anchor=anchor, principal=None)


@public_router.get("/audit-checkpoints.json", response_model=None)
def audit_checkpoints_json(container: ContainerDep) -> Response:
    """Every record of the audit checkpoint log as written (signatures included), and the
    keys: what an outsider keeps to hold the platform to its audit chain later."""
    anchor = checkpoints.published(checkpoints.Anchor.of(container.settings).log, recent=None)
    body = {
        "about": "Signed checkpoints of Trustdesk's audit chain; see docs/transparency.md, 'The audit chain'.",
        "signed_bytes": "canonical JSON of each record without 'sig': keys sorted, no spaces, ASCII",
        "keys": anchor.keys,
        "records": anchor.records,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


@public_router.get("/{slug}", response_model=None)
def latest(slug: str, session: SessionDep) -> RedirectResponse:
    kind, _, period = slug.partition("-")
    version = service.latest_version(session, kind=kind, period=period)
    if version == 0:
        raise NotFound(f"No published report {slug}.")
    return RedirectResponse(f"/transparency/{slug}/{version}/", status_code=307)


@public_router.get("/{slug}/{version}", response_model=None)
def version_page_redirect(slug: str, version: RowId) -> RedirectResponse:
    """The page's address ends in '/', so that its links to its files stay relative."""
    return RedirectResponse(f"/transparency/{slug}/{version}/", status_code=308)


@public_router.get("/{slug}/{version}/", response_model=None)
def version_page(slug: str, version: RowId, session: SessionDep) -> Response:
    row = service.get_published(session, slug=slug, version=version)
    return _serve(service.get_file(row, name=service.html_file(row).name), cache=IMMUTABLE)


@public_router.get("/{slug}/{version}/{name}", response_model=None)
def download(slug: str, version: RowId, name: str, session: SessionDep) -> Response:
    row = service.get_published(session, slug=slug, version=version)
    return _serve(service.get_file(row, name=name), cache=IMMUTABLE)


# -- console -----------------------------------------------------------------------------------


def _console(
    request: Request, session: Session, container: ContainerDep, principal: Principal, status_code: int = 200, **extra: object
) -> HTMLResponse:
    request.state.principal = principal
    now = container.clock.now()
    return render(
        request,
        "console/transparency/index.html",
        active="transparency",
        kinds=[(k.value, TITLES[k]) for k in ReportKind],
        default_period=current_year(now).label,
        drafts=service.list_reports(session, state=ReportState.DRAFT),
        published=_published(session),
        now=now,
        status_code=status_code,
        **extra,
    )


@console_router.get("", response_class=HTMLResponse)
def console_page(request: Request, session: SessionDep, container: ContainerDep, principal: Publisher) -> HTMLResponse:
    return _console(request, session, container, principal)


@console_router.post("/drafts", response_class=HTMLResponse)
def make_draft(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Publisher,
    kind: Annotated[str, Form()],
    period: Annotated[str, Form()],
) -> HTMLResponse:
    try:
        with session.begin_nested():
            row = service.create_draft(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                principal=principal,
                kind=kind,
                period=period,
                provider=annex.provider_of(container.settings),
            )
    except TrustdeskError as exc:
        return _console(request, session, container, principal, error=exc.detail, status_code=exc.status)
    return _console(
        request,
        session,
        container,
        principal,
        notice=f"Draft {row.id} of {row.slug} is ready: preview it, then publish or discard it.",
    )


@console_router.get("/drafts/{report_id}", response_model=None)
def preview_redirect(report_id: RowId) -> RedirectResponse:
    return RedirectResponse(f"/console/transparency/drafts/{report_id}/", status_code=308)


@console_router.get("/drafts/{report_id}/", response_model=None)
def preview(report_id: RowId, session: SessionDep, principal: Publisher) -> Response:
    row = service.get_draft(session, principal=principal, report_id=report_id)
    return _serve(service.get_file(row, name=service.html_file(row).name), cache="no-store")


@console_router.get("/drafts/{report_id}/{name}", response_model=None)
def preview_file(report_id: RowId, name: str, session: SessionDep, principal: Publisher) -> Response:
    return _serve(
        service.get_file(service.get_draft(session, principal=principal, report_id=report_id), name=name), cache="no-store"
    )


def _decide(request: Request, session: Session, container: ContainerDep, principal: Principal, action: object) -> HTMLResponse:
    try:
        with session.begin_nested():
            row: TransparencyReport = action()  # type: ignore[operator]
    except TrustdeskError as exc:
        return _console(request, session, container, principal, error=exc.detail, status_code=exc.status)
    done = (
        f"Published {row.slug} version {row.version}."
        if row.state == ReportState.PUBLISHED
        else f"Discarded draft {row.id} of {row.slug}."
    )
    return _console(request, session, container, principal, notice=done)


@console_router.post("/drafts/{report_id}/publish", response_class=HTMLResponse)
def publish(
    request: Request,
    report_id: RowId,
    session: SessionDep,
    container: ContainerDep,
    principal: Publisher,
    correction_note: Annotated[str, Form()] = "",
) -> HTMLResponse:
    return _decide(
        request,
        session,
        container,
        principal,
        lambda: service.publish(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            report_id=report_id,
            correction_note=correction_note,
        ),
    )


@console_router.post("/drafts/{report_id}/discard", response_class=HTMLResponse)
def discard(
    request: Request,
    report_id: RowId,
    session: SessionDep,
    container: ContainerDep,
    principal: Publisher,
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    return _decide(
        request,
        session,
        container,
        principal,
        lambda: service.discard(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            report_id=report_id,
            reason=reason,
        ),
    )
