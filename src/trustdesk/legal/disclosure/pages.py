"""Console pages for the legal team (decision, four eyes, package, holds, notices, policy
dry-run) and the portal download for the requesting officer. Thin: parse the form, call the
service inside a savepoint, render; a refused action shows its reason and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.core.urls import Audience, absolute
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, FormDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render
from trustdesk.legal import service as legal_requests
from trustdesk.legal.disclosure import delivery, notice, preservation, service
from trustdesk.legal.pages.portal import Officer
from trustdesk.legal.policy import jurisdictions
from trustdesk.legal.policy import service as policy
from trustdesk.legal.policy.rules import load_policy
from trustdesk.legal.signing import provider_key

console_router = APIRouter(prefix="/console/legal", include_in_schema=False)
portal_router = APIRouter(prefix="/portal/disclosures", include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Permission.REQUESTS_READ))]
Text = Annotated[str, Form()]


def _attempt(session: Session, action: Callable[[], Any]) -> tuple[Any, str | None]:
    """Run one service call in a savepoint: on a refusal nothing it wrote stays."""
    savepoint = session.begin_nested()
    try:
        result = action()
    except TrustdeskError as exc:
        savepoint.rollback()
        return None, exc.detail
    savepoint.commit()
    return result, None


def _request_page(
    request: Request,
    session: Session,
    container: Container,
    principal: Principal,
    request_id: int,
    *,
    error: str | None = None,
    link: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = legal_requests.view(session, principal=principal, request_id=request_id)
    disclosures = service.disclosures_for(session, principal=principal, request_id=request_id)
    acts = {d.id: service.approvals(session, disclosure_id=d.id) for d in disclosures}
    reviews = {d.id: (service.reviews_required(session, d), service.reviews_missing(session, d)) for d in disclosures}
    return render(
        request,
        "console/disclosure/request.html",
        status_code=status_code,
        active="requests",
        view=view,
        error=error,
        link=link,
        decisions=policy.decisions_for(session, principal=principal, request_id=request_id),
        disclosures=disclosures,
        acts=acts,
        reviews=reviews,
        holds=preservation.holds_for(session, request_id=request_id),
        policy=load_policy(),
    )


@console_router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request: Request, request_id: RowId, session: SessionDep, container: ContainerDep, principal: Reader
) -> HTMLResponse:
    return _request_page(request, session, container, principal, request_id)


class _Who(TypedDict):
    """Who acts, and when: the arguments every action's service takes."""

    actor: Actor
    clock: Clock
    principal: Principal


def _actions(
    request: Request, container: Container, principal: Principal, session: Session, request_id: int, form: dict[str, str]
) -> dict[str, Callable[[], Any]]:
    who: _Who = {"actor": actor_of(request, principal), "clock": container.clock, "principal": principal}
    target = int(form.get("target") or 0)
    settings = container.settings
    return {
        "propose": lambda: policy.propose_decision(
            session,
            **who,
            platform=container.platform,
            request_id=request_id,
            data_dir=settings.data_dir,
            note=form.get("note", ""),
        ),
        "adopt": lambda: policy.adopt(session, **who, decision_id=target),
        "prepare": lambda: service.prepare(session, **who, request_id=request_id, note=form.get("note", "")),
        "approve": lambda: service.approve(session, **who, disclosure_id=target, note=form.get("note", "")),
        "review": lambda: service.review(session, **who, disclosure_id=target, note=form.get("note", "")),
        "widen": lambda: service.widen(
            session, **who, disclosure_id=target, categories=form.get("categories", "").split(","), note=form.get("note", "")
        ),
        "package": lambda: service.package(
            session,
            **who,
            platform=container.platform,
            key=provider_key(settings.data_dir),
            blobs=container.blobs,
            disclosure_id=target,
        ),
        "freeze": lambda: preservation.freeze(session, **who, platform=container.platform, request_id=request_id),
        "notify": lambda: notice.schedule(session, **who, request_id=request_id),
    }


@console_router.post("/requests/{request_id}/{action}", response_model=None)
def act(
    request: Request,
    request_id: RowId,
    action: str,
    session: SessionDep,
    container: ContainerDep,
    principal: Reader,
    sent: FormDep,
) -> Response:
    """A plain `def` (the form is read on the loop by FormDep): the actions read and write the
    database, and `package` builds and signs the archive, none of it on the event loop."""
    form = {k: v for k, v in sent.items() if isinstance(v, str)}
    actions = _actions(request, container, principal, session, request_id, form)
    if action not in actions:
        return _request_page(
            request, session, container, principal, request_id, error=f"Unknown action '{action}'.", status_code=404
        )
    result, error = _attempt(session, actions[action])
    if error:
        return _request_page(request, session, container, principal, request_id, error=error, status_code=409)
    if action == "package":
        link = absolute(container.settings, Audience.PORTAL, f"/portal/disclosures/{result[1]}", request)
        return _request_page(request, session, container, principal, request_id, link=link)
    return RedirectResponse(f"/console/legal/requests/{request_id}", status_code=303)


@console_router.get("/holds", response_class=HTMLResponse)
def holds_page(request: Request, session: SessionDep, principal: Reader, error: str | None = None) -> HTMLResponse:
    return render(
        request,
        "console/disclosure/holds.html",
        active="requests",
        holds=preservation.list_holds(session, principal=principal),
        error=error,
    )


@console_router.post("/holds/{hold_id}/extend", response_model=None)
def extend_hold(
    request: Request, hold_id: RowId, session: SessionDep, container: ContainerDep, principal: Reader, reason: Text = ""
) -> Response:
    _, error = _attempt(
        session,
        lambda: preservation.extend(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            hold_id=hold_id,
            reason=reason,
        ),
    )
    if error:
        return render(
            request,
            "console/disclosure/holds.html",
            status_code=409,
            active="requests",
            error=error,
            holds=preservation.list_holds(session, principal=principal),
        )
    return RedirectResponse("/console/legal/holds", status_code=303)


@console_router.post("/holds/release-expired", response_model=None)
def release_expired(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Annotated[Principal, Depends(require(Permission.REQUESTS_HANDLE))],
) -> Response:
    preservation.release_expired(session, actor=actor_of(request, principal), clock=container.clock)
    return RedirectResponse("/console/legal/holds", status_code=303)


def _notices(
    request: Request,
    session: Session,
    container: Container,
    principal: Principal,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "console/disclosure/notices.html",
        status_code=status_code,
        active="requests",
        error=error,
        queue=notice.queue(session, principal=principal, clock=container.clock),
    )


@console_router.get("/notices", response_class=HTMLResponse)
def notices_page(request: Request, session: SessionDep, container: ContainerDep, principal: Reader) -> HTMLResponse:
    return _notices(request, session, container, principal)


@console_router.post("/notices/{notice_id}/sent", response_model=None)
def notice_sent(
    request: Request, notice_id: RowId, session: SessionDep, container: ContainerDep, principal: Reader, channel: Text = ""
) -> Response:
    _, error = _attempt(
        session,
        lambda: notice.mark_sent(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            notice_id=notice_id,
            channel=channel,
        ),
    )
    if error:
        return _notices(request, session, container, principal, error=error, status_code=409)
    return RedirectResponse("/console/legal/notices", status_code=303)


@console_router.get("/policy", response_class=HTMLResponse)
def policy_page(request: Request, container: ContainerDep, principal: Reader) -> HTMLResponse:
    return render(
        request,
        "console/policy/index.html",
        active="policy",
        policy=load_policy(),
        draft=None,
        rows=None,
        error=None,
        profiles=jurisdictions.load(container.settings.data_dir),
    )


@console_router.post("/policy/dry-run", response_class=HTMLResponse)
def policy_dry_run(
    request: Request, session: SessionDep, container: ContainerDep, principal: Reader, draft: Text = ""
) -> HTMLResponse:
    result, error = _attempt(
        session, lambda: policy.dry_run(session, principal=principal, draft_text=draft, data_dir=container.settings.data_dir)
    )
    draft_policy, rows = result or (None, None)
    return render(
        request,
        "console/policy/index.html",
        status_code=422 if error else 200,
        active="policy",
        policy=load_policy(),
        draft=draft,
        draft_policy=draft_policy,
        rows=rows,
        error=error,
        profiles=jurisdictions.load(container.settings.data_dir),
    )


@portal_router.get("/{secret}", response_model=None)
def download(request: Request, secret: str, session: SessionDep, container: ContainerDep, principal: Officer) -> Response:
    """The requesting officer's download. Another officer is refused, and the refusal is
    recorded (the handler returns normally, so the record is committed)."""
    if principal is None:
        return RedirectResponse("/portal/login", status_code=303)
    actor = actor_of(request, principal)
    opened = delivery.open_package(
        session,
        actor=actor,
        clock=container.clock,
        principal=principal,
        secret=secret,
        blobs=container.blobs,
        data_dir=container.settings.data_dir,
    )
    if not opened.allowed:
        return render(
            request, "portal/error.html", status_code=opened.status, officer=principal, error=opened.reason, title="Not available"
        )
    name = f"{opened.package.manifest.get('request', {}).get('reference', 'disclosure')}-{opened.package.sha256[:12]}.zip"
    return Response(
        opened.data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
