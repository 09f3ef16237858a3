"""Console pages for staff (/console/requests): the queue sorted by time left, a request
with its checklist, clock, call-back, workflow and messages, the authority registry, and
the deadline alerts. Thin: parse, call the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from trustdesk.core.errors import InvalidInput, NotFound, TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.core.urls import Audience, base
from trustdesk.http import saved_views
from trustdesk.http.access import record_view
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, FormDep, SessionDep, actor_of, require
from trustdesk.http.rendering import render
from trustdesk.legal import alerts, attachments, clocks, finder, registry, service
from trustdesk.legal.access import request_view
from trustdesk.legal.api import pager_of
from trustdesk.legal.clocks import describe_time_left, time_left
from trustdesk.legal.forms import ELEMENT_PREFIX, form_values, submission_from_form
from trustdesk.legal.instruments import IssuerKind, RefusalReason, load_catalogue
from trustdesk.legal.intake import Channel, submit_request
from trustdesk.legal.models import OfficerState, RequestState
from trustdesk.legal.service import CallbackOutcome
from trustdesk.legal.workflow import ALLOWED

router = APIRouter(prefix="/console/requests", include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Permission.REQUESTS_READ))]
Handler = Annotated[Principal, Depends(require(Permission.REQUESTS_HANDLE))]
RegistryAdmin = Annotated[Principal, Depends(require(Permission.AGENCIES_MANAGE))]


QUEUE_PAGE = 50  # requests a page of the queue


def _page(request: Request, principal: Principal, template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    request.state.principal = principal
    return render(request, f"console/requests/{template}", status_code=status_code, active="requests", **context)


@router.get("", response_class=HTMLResponse)
def queue(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Reader,
    cursor: str | None = None,
) -> HTMLResponse:
    try:
        found, error = _filter_of(request), None
    except InvalidInput as exc:
        found, error = finder.RequestFilter(), exc.detail
    return _queue(request, session, container, principal, found, cursor=cursor, error=error)


def _filter_of(request: Request) -> finder.RequestFilter:
    return finder.RequestFilter.parse({k: v for k, v in request.query_params.items() if k != "cursor"})


def _queue(
    request: Request,
    session: Session,
    container: Container,
    principal: Principal,
    found: finder.RequestFilter,
    *,
    cursor: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = container.clock.now()
    rows, after = finder.find_requests(session, principal=principal, found=found, now=now, limit=QUEUE_PAGE, cursor=cursor)
    agencies = {a.id: a for a in registry.list_agencies(session)}
    clocks = {r.id: describe_time_left(time_left(r.due_at or r.expires_at, now=now)) for r in rows}
    overdue = {r.id for r in rows if r.due_at is not None and r.due_at <= now}
    path = "/console/requests"
    return _page(
        request,
        principal,
        "queue.html",
        status_code=422 if error else status_code,
        rows=rows,
        agencies=agencies,
        clocks=clocks,
        overdue=overdue,
        found=found,
        path=path,
        error=error,
        show=found.show,
        sorts=[(k, words) for k, (words, _) in finder.SORTS.items()],
        states=list(RequestState),
        instruments=load_catalogue().incoming,
        countries=sorted({a.country for a in agencies.values()}),
        views=saved_views.views_of(session, username=principal.name, page="requests"),
        next_page=found.link(path, cursor=after) if after else None,
        first_page=found.link(path) if cursor else None,
        alerts=alerts.list_alerts(session, limit=5),
    )


@router.post("/views", response_model=None)
def save_view(request: Request, session: SessionDep, container: ContainerDep, principal: Reader, form: FormDep) -> Response:
    """Save the current filters of the queue under a name, for this person alone."""
    found = _filter_of(request)
    name = form.get("name")
    try:
        with session.begin_nested():
            saved_views.save_view(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                username=principal.name,
                page="requests",
                name=name if isinstance(name, str) else "",
                params=found.query(),
            )
    except TrustdeskError as exc:
        return _queue(request, session, container, principal, found, error=exc.detail, status_code=exc.status)
    return RedirectResponse(found.link("/console/requests"), status_code=303)


@router.post("/views/{view_id:int}/delete", response_model=None)
def delete_view(request: Request, view_id: RowId, session: SessionDep, container: ContainerDep, principal: Reader) -> Response:
    saved_views.delete_view(
        session, actor=actor_of(request, principal), clock=container.clock, username=principal.name, view_id=view_id
    )
    return RedirectResponse("/console/requests", status_code=303)


@router.get("/{request_id:int}", response_class=HTMLResponse)
def detail(request: Request, request_id: RowId, session: SessionDep, container: ContainerDep, principal: Reader) -> HTMLResponse:
    return _detail(request, session, container, principal, request_id)


def _detail(
    request: Request,
    session: Session,
    container: Container,
    principal: Principal,
    request_id: int,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    view = service.view(session, principal=principal, request_id=request_id)
    subjects, why = request_view(view)
    record_view(
        request,
        session,
        container,
        principal=principal,
        subjects=subjects,
        what="lawful_request",
        justification=why,
        object_ref=f"request:{request_id}",
    )
    now = container.clock.now()
    return _page(
        request,
        principal,
        "detail.html",
        status_code=status_code,
        view=view,
        instrument=load_catalogue().get(view.request.instrument),
        left=describe_time_left(time_left(view.request.due_at or view.request.expires_at, now=now)),
        next_states=sorted(ALLOWED[RequestState(view.request.state)]),
        reasons=load_catalogue().refusal_reasons,
        outcomes=list(CallbackOutcome),
        deadline_source=clocks.describe_source,
        **extra,
    )


@router.post("/{request_id:int}/{action}", response_model=None)
def act(
    request: Request,
    request_id: RowId,
    action: str,
    session: SessionDep,
    container: ContainerDep,
    principal: Handler,
    form: FormDep,
) -> Response:
    actor, clock = actor_of(request, principal), container.clock

    def text(key: str) -> str:
        value = form.get(key)
        return value if isinstance(value, str) else ""

    try:
        with session.begin_nested():
            if action == "transition":
                reason = RefusalReason(text("refusal_reason")) if text("refusal_reason") else None
                service.transition(
                    session,
                    actor=actor,
                    clock=clock,
                    principal=principal,
                    request_id=request_id,
                    to_state=RequestState(text("to_state")),
                    reason=text("reason"),
                    refusal_reason=reason,
                )
            elif action == "callback":
                service.record_callback(
                    session,
                    actor=actor,
                    clock=clock,
                    principal=principal,
                    request_id=request_id,
                    spoke_to=text("spoke_to"),
                    outcome=text("outcome"),
                    note=text("note"),
                )
            elif action == "messages":
                service.post_message(
                    session, actor=actor, clock=clock, principal=principal, request_id=request_id, body=text("body")
                )
            else:
                raise NotFound(f"Unknown action '{action}'.")
    except ValueError as exc:
        return _detail(request, session, container, principal, request_id, status_code=422, error=f"Not a valid choice: {exc}")
    except TrustdeskError as exc:
        return _detail(request, session, container, principal, request_id, status_code=exc.status, error=exc.detail)
    return RedirectResponse(f"/console/requests/{request_id}", status_code=303)


@router.get("/{request_id:int}/attachments/{attachment_id:int}", response_model=None)
def download(
    request_id: RowId, attachment_id: RowId, session: SessionDep, container: ContainerDep, principal: Reader
) -> Response:
    view = service.view(session, principal=principal, request_id=request_id)
    found = next((a for a in view.attachments if a.id == attachment_id), None)
    if found is None:
        raise NotFound(f"Request {view.request.reference} has no attachment {attachment_id}.")
    data = attachments.read(container.blobs, found.sha256, data_dir=container.settings.data_dir)
    return Response(
        data,
        media_type=found.content_type,
        headers={"Content-Disposition": f'attachment; filename="{found.sha256[:12]}"', "X-Content-Type-Options": "nosniff"},
    )


@router.get("/new", response_class=HTMLResponse)
def new_form(request: Request, session: SessionDep, principal: Handler, instrument: str = "eu_epoc") -> HTMLResponse:
    chosen = (
        load_catalogue().get(instrument)
        if instrument in {i.code.value for i in load_catalogue().incoming}
        else load_catalogue().get("eu_epoc")
    )
    return _page(
        request,
        principal,
        "new.html",
        instrument=chosen,
        instruments=load_catalogue().incoming,
        agencies=registry.list_agencies(session),
        kinds=list(IssuerKind),
        values={},
        prefix=ELEMENT_PREFIX,
    )


@router.post("/new", response_model=None)
def enter(request: Request, session: SessionDep, container: ContainerDep, principal: Handler, form: FormDep) -> Response:
    """A request that came by post or e-mail, entered by staff; incomplete orders are kept
    as they are and fail their checklist."""
    try:
        agency_id = int(str(form.get("agency_id", "")))
    except ValueError:
        agency_id = None
    try:
        with session.begin_nested():
            new_agency = _new_agency(form) if agency_id is None else None
            created = submit_request(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                platform=container.platform,
                blobs=container.blobs,
                principal=principal,
                submission=submission_from_form(form),
                channel=Channel.STAFF,
                agency_id=agency_id,
                max_targets=container.settings.lawful_request_max_targets,
                new_agency=new_agency,
            )
    except TrustdeskError as exc:
        code = str(form.get("instrument", "eu_epoc"))
        chosen = (
            load_catalogue().get(code)
            if code in {i.code.value for i in load_catalogue().incoming}
            else load_catalogue().get("eu_epoc")
        )
        return _page(
            request,
            principal,
            "new.html",
            status_code=exc.status,
            instrument=chosen,
            instruments=load_catalogue().incoming,
            agencies=registry.list_agencies(session),
            kinds=list(IssuerKind),
            values=form_values(form),
            prefix=ELEMENT_PREFIX,
            error=exc.detail,
        )
    return RedirectResponse(f"/console/requests/{created.id}", status_code=303)


def _new_agency(form: FormData) -> registry.NewAgency | None:
    """The authority's details staff read off a request whose agency is not in the registry."""
    name = str(form.get("new_agency_name", "")).strip()
    if not name:
        return None
    return registry.NewAgency(
        name=name,
        country=str(form.get("new_agency_country", "")).strip().upper(),
        kind=_issuer_kind(str(form.get("new_agency_kind", ""))),
        email_domains=str(form.get("new_agency_domains", "")).replace(",", " ").split(),
    )


@router.get("/agencies", response_class=HTMLResponse)
def agencies_page(request: Request, session: SessionDep, principal: Reader) -> HTMLResponse:
    return _registry(request, session, principal)


def _registry(request: Request, session: Session, principal: Principal, status_code: int = 200, **extra: object) -> HTMLResponse:
    officers: dict[int, list[object]] = {}
    for officer in registry.list_officers(session):
        officers.setdefault(officer.agency_id, []).append(officer)
    return _page(
        request,
        principal,
        "agencies.html",
        status_code=status_code,
        agencies=registry.list_agencies(session),
        officers=officers,
        can_manage=principal.can(Permission.AGENCIES_MANAGE),
        kinds=list(IssuerKind),
        **{"values": {}, **extra},
    )


@router.post("/agencies", response_class=HTMLResponse)
def create_agency(
    request: Request, session: SessionDep, container: ContainerDep, principal: RegistryAdmin, form: FormDep
) -> HTMLResponse:
    values = {
        k: str(form.get(k, "")).strip()
        for k in (
            "code",
            "name",
            "country",
            "kind",
            "email_domains",
            "callback_phone",
            "callback_source",
            "language",
            "parent_code",
        )
    }
    try:
        with session.begin_nested():
            agency = registry.create_agency(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                code=values["code"],
                name=values["name"],
                country=values["country"].upper(),
                kind=_issuer_kind(values["kind"]),
                email_domains=values["email_domains"].replace(",", " ").split(),
                callback_phone=values["callback_phone"],
                callback_source=values["callback_source"],
                language=values["language"] or "en",
                parent_code=values["parent_code"] or None,
            )
    except TrustdeskError as exc:
        return _registry(request, session, principal, status_code=exc.status, error=exc.detail, values=values)
    return _registry(request, session, principal, notice=f"Registered {agency.name}.")


@router.post("/agencies/{code}/verify", response_class=HTMLResponse)
def verify_agency(
    request: Request, code: str, session: SessionDep, container: ContainerDep, principal: RegistryAdmin, form: FormDep
) -> HTMLResponse:
    """A person verifies an agency recorded from a request: the number and its official source."""
    try:
        with session.begin_nested():
            agency = registry.verify_agency(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                principal=principal,
                agency_id=registry.get_agency(session, code=code).id,
                callback_phone=str(form.get("callback_phone", "")),
                callback_source=str(form.get("callback_source", "")),
                reason=str(form.get("reason", "")),
            )
    except TrustdeskError as exc:
        return _registry(request, session, principal, status_code=exc.status, error=exc.detail)
    return _registry(request, session, principal, notice=f"{agency.name} is verified; its held requests can now be called back.")


@router.post("/agencies/{code}/officers", response_class=HTMLResponse)
def add_officer(
    request: Request, code: str, session: SessionDep, container: ContainerDep, principal: RegistryAdmin, form: FormDep
) -> HTMLResponse:
    """Staff add an officer they have confirmed with the agency; the officer's second-factor
    key is shown once, to be passed on through the agency."""
    field = {k: str(form.get(k, "")) for k in ("name", "rank", "email", "supervisor", "password")}
    try:
        with session.begin_nested():
            officer = registry.register_officer(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                agency_code=code,
                verified=True,
                name=field["name"],
                rank=field["rank"],
                email=field["email"],
                supervisor=field["supervisor"],
                password=field["password"],
            )
    except TrustdeskError as exc:
        return _registry(request, session, principal, status_code=exc.status, error=exc.detail)
    return _registry(
        request,
        session,
        principal,
        notice=f"Added {officer.name}. Their authenticator key (shown once):",
        secret=registry.totp_uri(officer),
    )


def _issuer_kind(value: str) -> IssuerKind:
    try:
        return IssuerKind(value)
    except ValueError:
        raise InvalidInput(f"An agency is one of: {', '.join(IssuerKind)}.") from None


@router.post("/officers/{officer_id:int}/{action}", response_class=HTMLResponse)
def officer_action(
    request: Request,
    officer_id: RowId,
    action: str,
    session: SessionDep,
    container: ContainerDep,
    principal: RegistryAdmin,
    form: FormDep,
) -> HTMLResponse:
    states = {"verify": OfficerState.VERIFIED, "block": OfficerState.BLOCKED}
    try:
        if action not in states:
            raise InvalidInput(f"Officers can be verified or blocked, not '{action}'.")
        with session.begin_nested():
            officer = registry.set_officer_state(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                officer_id=officer_id,
                state=states[action],
                reason=str(form.get("reason", "")),
            )
    except TrustdeskError as exc:
        return _registry(request, session, principal, status_code=exc.status, error=exc.detail)
    return _registry(request, session, principal, notice=f"{officer.name} is now {officer.state}.")


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, session: SessionDep, principal: Reader) -> HTMLResponse:
    return _page(request, principal, "alerts.html", alerts=alerts.list_alerts(session))


@router.post("/alerts/scan", response_class=HTMLResponse)
def scan(request: Request, session: SessionDep, container: ContainerDep, principal: Handler) -> HTMLResponse:
    raised = alerts.scan(
        session,
        clock=container.clock,
        pager=pager_of(container),
        actor=actor_of(request, principal),
        base_url=base(container.settings, Audience.CONSOLE, request),
    )
    return _page(request, principal, "alerts.html", alerts=alerts.list_alerts(session), notice=f"{len(raised)} new alert(s).")
