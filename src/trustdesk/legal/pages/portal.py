"""The authority portal (/portal): officers sign in with a password and a one-time code,
file requests on forms that follow each instrument's sections, follow their agency's
requests, talk to staff, supply missing elements and withdraw. An officer only ever sees
their own agency's requests (the service scopes every lookup)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from trustdesk.core.errors import Forbidden, InvalidInput, NotFound, TrustdeskError
from trustdesk.core.identity.permissions import Principal, PrincipalKind
from trustdesk.core.ids import RowId
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, FormDep, SessionDep, actor_of
from trustdesk.http.rendering import render
from trustdesk.legal import clocks, registry, service
from trustdesk.legal.checks import language_accepted
from trustdesk.legal.disclosure import delivery, preservation
from trustdesk.legal.discovery import accepted_languages
from trustdesk.legal.forms import ELEMENT_PREFIX, form_values, submission_from_form
from trustdesk.legal.instruments import ClockKind, IssuerKind, load_catalogue
from trustdesk.legal.intake import Channel, instrument_for, submit_request
from trustdesk.legal.models import RequestState
from trustdesk.legal.signing import provider_key
from trustdesk.legal.workflow import ALLOWED

router = APIRouter(prefix="/portal", include_in_schema=False)
PORTAL_COOKIE = "td_portal"


def portal_principal(request: Request, session: SessionDep, container: ContainerDep) -> Principal | None:
    cookie = request.cookies.get(PORTAL_COOKIE)
    principal = registry.resolve_portal_session(session, clock=container.clock, secret=cookie) if cookie else None
    request.state.principal = principal
    return principal


Officer = Annotated[Principal | None, Depends(portal_principal)]


def _csrf(principal: Principal, sent: object) -> None:
    if not isinstance(sent, str) or not principal.csrf_token or not secrets.compare_digest(sent, principal.csrf_token):
        raise Forbidden("The form is stale (CSRF check failed). Reload the page and try again.")


def _page(
    request: Request, template: str, principal: Principal | None, status_code: int = 200, **context: object
) -> HTMLResponse:
    return render(request, f"portal/{template}", status_code=status_code, officer=principal, **context)


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/portal/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html", None)


@router.post("/login", response_model=None)
def login(request: Request, container: ContainerDep, form: FormDep) -> Response:
    email, password, code = (str(form.get(k, "")) for k in ("email", "password", "totp"))
    settings = container.settings
    with container.db.transaction() as session:  # committed even on failure: the audit entry stays
        officer, error = registry.login(
            session,
            clock=container.clock,
            email=email,
            password=password,
            totp_code=code,
            max_failures=settings.login_max_failures,
            lockout_minutes=settings.login_lockout_minutes,
            request_id=getattr(request.state, "request_id", None),
        )
        if officer is None:
            assert error is not None
            return _page(request, "login.html", None, status_code=error.status, error=error.detail, email=email)
        secret = registry.open_portal_session(
            session, clock=container.clock, officer=officer, hours=min(settings.session_hours, 8)
        )
    response = RedirectResponse("/portal", status_code=303)
    response.set_cookie(
        PORTAL_COOKIE, secret, httponly=True, secure=settings.session_cookie_secure, samesite="strict", path="/portal"
    )
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, session: SessionDep, container: ContainerDep, principal: Officer, form: FormDep) -> Response:
    cookie = request.cookies.get(PORTAL_COOKIE)
    if principal is not None and cookie:
        _csrf(principal, form.get("csrf_token"))
        registry.end_portal_session(session, clock=container.clock, secret=cookie)
    response = _login_redirect()
    response.delete_cookie(PORTAL_COOKIE, path="/portal")
    return response


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request, session: SessionDep) -> HTMLResponse:
    return _page(request, "register.html", None, agencies=[a for a in registry.list_agencies(session) if a.verified], values={})


@router.post("/register", response_class=HTMLResponse)
def register(request: Request, session: SessionDep, container: ContainerDep, form: FormDep) -> HTMLResponse:
    """The same page for a new address and an already-registered one (`registry.self_register`)."""
    values = {k: str(form.get(k, "")) for k in ("agency", "name", "rank", "email", "supervisor")}
    try:
        with session.begin_nested():
            enrolment = registry.self_register(
                session,
                actor=actor_of(request, _anonymous(values["email"])),
                clock=container.clock,
                agency_code=values["agency"],
                name=values["name"],
                rank=values["rank"],
                email=values["email"],
                supervisor=values["supervisor"],
                password=str(form.get("password", "")),
            )
    except TrustdeskError as exc:
        return _page(
            request,
            "register.html",
            None,
            status_code=exc.status,
            agencies=[a for a in registry.list_agencies(session) if a.verified],
            values=values,
            error=exc.detail,
        )
    return _page(request, "registered.html", None, totp_uri=registry.totp_uri(enrolment), totp_secret=enrolment.totp_secret)


def _anonymous(email: str) -> Principal:
    return Principal(kind=PrincipalKind.ANONYMOUS, id=0, name=email[:64] or "-", permissions=frozenset())


@router.get("", response_model=None)
def home(request: Request, session: SessionDep, container: ContainerDep, principal: Officer) -> Response:
    if principal is None:
        return _login_redirect()
    agency = registry.get_agency(session, agency_id=principal.agency_id)
    requests = service.list_requests(session, principal=principal)
    offered = [i for i in load_catalogue().incoming if IssuerKind(agency.kind) in i.issued_by]
    return _page(
        request, "index.html", principal, agency=agency, requests=requests, instruments=offered, now=container.clock.now()
    )


@router.get("/requests/new", response_model=None)
def new_form(request: Request, session: SessionDep, principal: Officer, instrument: str = "eu_epoc", lang: str = "") -> Response:
    if principal is None:
        return _login_redirect()
    agency = registry.get_agency(session, agency_id=principal.agency_id)
    try:
        chosen = instrument_for(instrument)
    except InvalidInput as exc:
        return _page(request, "error.html", principal, status_code=exc.status, error=exc.detail)
    return _form(request, principal, chosen.code.value, lang or agency.language, values={})


def _form(
    request: Request,
    principal: Principal,
    code: str,
    language: str,
    values: dict[str, object],
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    return _page(
        request,
        "new.html",
        principal,
        status_code=status_code,
        instrument=load_catalogue().get(code),
        language=language,
        values=values,
        error=error,
        prefix=ELEMENT_PREFIX,
        accepted_languages=accepted_languages(),
    )


@router.post("/requests", response_model=None)
def file_request(request: Request, session: SessionDep, container: ContainerDep, principal: Officer, form: FormDep) -> Response:
    if principal is None:
        return _login_redirect()
    _csrf(principal, form.get("csrf_token"))
    try:
        with session.begin_nested():
            created = submit_request(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                platform=container.platform,
                blobs=container.blobs,
                principal=principal,
                submission=submission_from_form(form),
                channel=Channel.PORTAL,
                max_targets=container.settings.lawful_request_max_targets,
            )
    except TrustdeskError as exc:
        code = str(form.get("instrument", ""))
        if code not in {i.code.value for i in load_catalogue().incoming}:
            return _page(request, "error.html", principal, status_code=exc.status, error=exc.detail)
        return _form(
            request, principal, code, str(form.get("language", "en")), form_values(form), status_code=exc.status, error=exc.detail
        )
    return RedirectResponse(f"/portal/requests/{created.id}?filed=1", status_code=303)


@router.get("/requests/{request_id:int}", response_model=None)
def show(
    request: Request, request_id: RowId, session: SessionDep, container: ContainerDep, principal: Officer, filed: bool = False
) -> Response:
    if principal is None:
        return _login_redirect()
    return _detail(request, session, container, principal, request_id, notice="Request received." if filed else None)


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
    instrument = load_catalogue().get(view.request.instrument)
    receipt = service.receipt(view.request, key=provider_key(container.settings.data_dir))
    can_withdraw = RequestState.WITHDRAWN in ALLOWED[RequestState(view.request.state)]
    kept = (
        preservation.preservation_state(session, principal=principal, request_id=request_id)
        if instrument.clock.kind is ClockKind.PRESERVE
        else None
    )
    return _page(
        request,
        "request.html",
        principal,
        status_code=status_code,
        view=view,
        instrument=instrument,
        receipt=receipt,
        can_withdraw=can_withdraw,
        packages=delivery.delivered(session, request_id=view.request.id),
        now=container.clock.now(),
        prefix=ELEMENT_PREFIX,
        deadline_source=clocks.describe_source,
        preservation=kept,
        accepted_languages=accepted_languages(),
        untranslated=not language_accepted(view.request.checklist),
        **extra,
    )


@router.get("/requests/{request_id:int}/packages/{package_id:int}", response_model=None)
def download_package(
    request: Request, request_id: RowId, package_id: RowId, session: SessionDep, container: ContainerDep, principal: Officer
) -> Response:
    """The delivered package, from the request's page, for the requesting officer alone;
    every attempt, granted or refused, is a download row and an audit entry (the refusal is
    returned as a page, not raised, so that its record is committed)."""
    if principal is None:
        return _login_redirect()
    try:
        service.get_request(session, principal=principal, request_id=request_id)
        visible = True
    except NotFound:
        visible = False  # another agency's request: the attempt is still recorded, the answer is 'not found'
    opened = delivery.open_delivered(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        request_id=request_id,
        package_id=package_id,
        blobs=container.blobs,
        data_dir=container.settings.data_dir,
    )
    if not visible:
        return _page(request, "error.html", principal, status_code=404, error=f"No request {request_id} for your agency.")
    if not opened.allowed:
        return _page(request, "error.html", principal, status_code=opened.status, error=opened.reason, title="Not available")
    reference = opened.package.manifest.get("request", {}).get("reference", "disclosure")
    name = f"{reference}-{opened.package.sha256[:12]}.zip"
    return Response(
        opened.data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.post("/requests/{request_id:int}/{action}", response_model=None)
def act(
    request: Request,
    request_id: RowId,
    action: str,
    session: SessionDep,
    container: ContainerDep,
    principal: Officer,
    form: FormDep,
) -> Response:
    if principal is None:
        return _login_redirect()
    _csrf(principal, form.get("csrf_token"))
    actor, clock = actor_of(request, principal), container.clock
    try:
        with session.begin_nested():
            if action == "messages":
                service.post_message(
                    session, actor=actor, clock=clock, principal=principal, request_id=request_id, body=str(form.get("body", ""))
                )
            elif action == "withdraw":
                service.withdraw(
                    session,
                    actor=actor,
                    clock=clock,
                    principal=principal,
                    request_id=request_id,
                    reason=str(form.get("reason", "")),
                )
            elif action == "extension":
                preservation.ask_extension(
                    session,
                    actor=actor,
                    clock=clock,
                    principal=principal,
                    request_id=request_id,
                    reason=str(form.get("reason", "")),
                )
            elif action == "elements":
                elements = {k.removeprefix(ELEMENT_PREFIX): str(v) for k, v in form.items() if k.startswith(ELEMENT_PREFIX)}
                translation = str(form.get("translation_language", "")).strip() or None
                service.supply_elements(
                    session,
                    actor=actor,
                    clock=clock,
                    principal=principal,
                    request_id=request_id,
                    elements=elements,
                    language=translation,
                )
            else:
                raise InvalidInput(f"Unknown action '{action}'.")
    except TrustdeskError as exc:
        return _detail(request, session, container, principal, request_id, status_code=exc.status, error=exc.detail)
    return RedirectResponse(f"/portal/requests/{request_id}", status_code=303)
