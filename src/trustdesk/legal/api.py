"""The lawful-request API (under /api/v1) and the public discovery document. Thin: parse,
call the service, shape the answer. Agencies file with a service token carrying their
agency id and the portal:submit scope; staff with requests:handle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from trustdesk.core.errors import NotFound
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.core.urls import Audience, base
from trustdesk.http.access import record_view
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, current_principal, require
from trustdesk.http.pagination import next_page
from trustdesk.legal import alerts, discovery, objections, registry, service
from trustdesk.legal.access import request_view
from trustdesk.legal.instruments import load_catalogue
from trustdesk.legal.intake import Channel, submit_request
from trustdesk.legal.models import OfficerState, RequestState
from trustdesk.legal.schemas import (
    AgencyCreate,
    AgencyRead,
    AgencyVerification,
    AlertRead,
    CallbackCreate,
    ElementsCreate,
    EnforcingStateAnswerCreate,
    EnforcingStateAnswerRead,
    LawfulRequestCreate,
    LawfulRequestCreated,
    LawfulRequestDetail,
    LawfulRequestRead,
    MessageCreate,
    MessageRead,
    OfficerRead,
    OfficerStateChange,
    TransitionCreate,
    Withdrawal,
)
from trustdesk.legal.signing import provider_key

if TYPE_CHECKING:
    from trustdesk.core.paging import Pager

router = APIRouter(prefix="/lawful-requests", tags=["lawful requests"])
registry_router = APIRouter(prefix="/agencies", tags=["authority registry"])
discovery_router = APIRouter(tags=["discovery"])
Caller = Annotated[Principal, Depends(current_principal)]
Handler = Annotated[Principal, Depends(require(Permission.REQUESTS_HANDLE))]
Reader = Annotated[Principal, Depends(require(Permission.REQUESTS_READ))]
RegistryAdmin = Annotated[Principal, Depends(require(Permission.AGENCIES_MANAGE))]


def pager_of(container: Container) -> Pager | None:
    """The emergency lane's pager when the app was given one; alerts are recorded either way."""
    return container.pager


@discovery_router.get("/.well-known/lawful-requests.json")
def well_known(request: Request, container: ContainerDep) -> JSONResponse:
    document = discovery.document(container.settings, provider_key(container.settings.data_dir), request)
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/instruments")
def instruments() -> dict[str, Any]:
    catalogue = load_catalogue()
    return {"version": catalogue.version, "instruments": discovery.document_instruments(catalogue)}


@router.post("", response_model=LawfulRequestCreated, status_code=201)
def create(
    body: LawfulRequestCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Caller
) -> LawfulRequestCreated:
    channel = Channel.API if principal.agency_id is not None else Channel.STAFF
    created = submit_request(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        platform=container.platform,
        blobs=container.blobs,
        principal=principal,
        submission=body.submission(),
        channel=channel,
        agency_id=body.agency_id,
        max_targets=container.settings.lawful_request_max_targets,
        new_agency=body.unregistered_agency.new_agency() if body.unregistered_agency is not None else None,
    )
    receipt = service.receipt(created, key=provider_key(container.settings.data_dir))
    return LawfulRequestCreated(request=LawfulRequestRead.model_validate(created), receipt=receipt)


@router.get("", response_model=list[LawfulRequestRead])
def list_all(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Caller,
    open_only: bool = False,
    state: RequestState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    cursor: str | None = None,
) -> list[LawfulRequestRead]:
    """Nearest deadline first. A page at a time: when more follow, the `Link` header's
    `rel="next"` (and `X-Next-Cursor`) continue the list from where this page ended."""
    rows, after = service.page_requests(
        session, principal=principal, open_only=open_only, state=state, limit=limit, cursor=cursor
    )
    next_page(request, response, after)
    return [LawfulRequestRead.model_validate(r) for r in rows]


@router.get("/alerts", response_model=list[AlertRead])
def list_alerts(session: SessionDep, _: Reader) -> list[AlertRead]:
    return [AlertRead.model_validate(a) for a in alerts.list_alerts(session)]


@router.post("/alerts/scan", response_model=list[AlertRead])
def scan_alerts(request: Request, session: SessionDep, container: ContainerDep, principal: Handler) -> list[AlertRead]:
    raised = alerts.scan(
        session,
        clock=container.clock,
        pager=pager_of(container),
        actor=actor_of(request, principal),
        base_url=base(container.settings, Audience.CONSOLE, request),
    )
    return [AlertRead.model_validate(a) for a in raised]


@router.get("/{request_id}", response_model=LawfulRequestDetail)
def detail(
    request_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Caller
) -> LawfulRequestDetail:
    """One request with its targets; the view is logged against each person it names (core/access)."""
    v = service.view(session, principal=principal, request_id=request_id)
    subjects, why = request_view(v)
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
    return _detail_of(v)


def _detail(session: Any, principal: Principal, request_id: int) -> LawfulRequestDetail:
    return _detail_of(service.view(session, principal=principal, request_id=request_id))


def _detail_of(v: service.RequestView) -> LawfulRequestDetail:
    return LawfulRequestDetail(
        **LawfulRequestRead.model_validate(v.request).model_dump(),
        targets=v.targets,
        attachments=v.attachments,
        messages=v.messages,
        transitions=v.transitions,
    )


@router.post("/{request_id}/transitions", response_model=LawfulRequestDetail)
def move(
    request_id: RowId, body: TransitionCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Caller
) -> LawfulRequestDetail:
    service.transition(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        request_id=request_id,
        to_state=body.to_state,
        reason=body.reason,
        refusal_reason=body.refusal_reason,
    )
    return _detail(session, principal, request_id)


@router.post("/{request_id}/withdraw", response_model=LawfulRequestDetail)
def withdraw(
    request_id: RowId, body: Withdrawal, request: Request, session: SessionDep, container: ContainerDep, principal: Caller
) -> LawfulRequestDetail:
    service.withdraw(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        request_id=request_id,
        reason=body.reason,
    )
    return _detail(session, principal, request_id)


@router.post("/{request_id}/messages", response_model=MessageRead, status_code=201)
def message(
    request_id: RowId, body: MessageCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Caller
) -> MessageRead:
    sent = service.post_message(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        request_id=request_id,
        body=body.body,
    )
    return MessageRead.model_validate(sent)


@router.post("/{request_id}/elements", response_model=LawfulRequestDetail)
def elements(
    request_id: RowId, body: ElementsCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Caller
) -> LawfulRequestDetail:
    service.supply_elements(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        request_id=request_id,
        elements=body.elements,
        language=body.language,
    )
    return _detail(session, principal, request_id)


@router.post("/{request_id}/callbacks", response_model=LawfulRequestDetail, status_code=201)
def callback(
    request_id: RowId, body: CallbackCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> LawfulRequestDetail:
    service.record_callback(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        request_id=request_id,
        spoke_to=body.spoke_to,
        outcome=body.outcome,
        note=body.note,
    )
    return _detail(session, principal, request_id)


@router.post("/{request_id}/enforcing-state-answer", response_model=EnforcingStateAnswerRead, status_code=201)
def enforcing_state_answer(
    request_id: RowId,
    body: EnforcingStateAnswerCreate,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Caller,
) -> EnforcingStateAnswerRead:
    """The notified enforcing State's answer (Reg. 2023/1543 Arts. 10, 12): recorded by staff,
    or by that State's own authority with its token; the issuing authority cannot clear its order."""
    row = objections.record_answer(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        request_id=request_id,
        answer=body.answer,
        via=objections.Via.API if principal.agency_id is not None else objections.Via.STAFF,
        categories=[str(c) for c in body.categories],
        note=body.note,
    )
    return EnforcingStateAnswerRead.model_validate(row)


@registry_router.get("", response_model=list[AgencyRead])
def agencies(session: SessionDep, _: Reader) -> list[AgencyRead]:
    return [AgencyRead.model_validate(a) for a in registry.list_agencies(session)]


@registry_router.post("", response_model=AgencyRead, status_code=201)
def create_agency(
    body: AgencyCreate, request: Request, session: SessionDep, container: ContainerDep, principal: RegistryAdmin
) -> AgencyRead:
    agency = registry.create_agency(session, actor=actor_of(request, principal), clock=container.clock, **body.model_dump())
    return AgencyRead.model_validate(agency)


@registry_router.post("/{code}/verify", response_model=AgencyRead)
def verify_agency(
    code: str, body: AgencyVerification, request: Request, session: SessionDep, container: ContainerDep, principal: RegistryAdmin
) -> AgencyRead:
    """A person verifies an agency recorded unverified from a request: its call-back number
    from an official source. Its held requests can then be confirmed by a call-back."""
    agency = registry.verify_agency(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        agency_id=registry.get_agency(session, code=code).id,
        callback_phone=body.callback_phone,
        callback_source=body.callback_source,
        reason=body.reason,
    )
    return AgencyRead.model_validate(agency)


@registry_router.get("/{code}/officers", response_model=list[OfficerRead])
def officers(code: str, session: SessionDep, _: Reader) -> list[OfficerRead]:
    agency = registry.get_agency(session, code=code)
    return [OfficerRead.model_validate(o) for o in registry.list_officers(session, agency_id=agency.id)]


@registry_router.post("/officers/{officer_id}/{action}", response_model=OfficerRead)
def officer_state(
    officer_id: RowId,
    action: str,
    body: OfficerStateChange,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: RegistryAdmin,
) -> OfficerRead:
    states = {"verify": OfficerState.VERIFIED, "block": OfficerState.BLOCKED}
    if action not in states:
        raise NotFound(f"Officers can be verified or blocked, not '{action}'.")
    officer = registry.set_officer_state(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        officer_id=officer_id,
        state=states[action],
        reason=body.reason,
    )
    return OfficerRead.model_validate(officer)
