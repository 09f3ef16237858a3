"""The legal team's API for policy decisions, disclosures, holds, notices and the numbers for
transparency (under /api/v1/legal). Thin: parse, call the service, shape the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.core.urls import Audience, absolute
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, current_principal, require
from trustdesk.http.problems import problem
from trustdesk.legal.disclosure import delivery, notice, numbers, preservation, service
from trustdesk.legal.disclosure.models import HoldState
from trustdesk.legal.disclosure.schemas import (
    DecisionCreate,
    DecisionRead,
    DisclosureRead,
    DryRunCreate,
    DryRunRead,
    DryRunRowRead,
    ExtensionAsk,
    ExtensionRead,
    HoldConversion,
    HoldExtension,
    HoldRead,
    Note,
    NoticeQueueRead,
    NoticeRead,
    NoticeSent,
    PackageCreated,
    PackageRead,
    PreservationRead,
    ReadyPackageRead,
    Widening,
)
from trustdesk.legal.policy import jurisdictions
from trustdesk.legal.policy import service as policy
from trustdesk.legal.policy.rules import load_policy
from trustdesk.legal.signing import provider_key

router = APIRouter(prefix="/legal", tags=["lawful requests: policy and disclosure"])
# The authority's side: its system fetches the packages answering what it filed, and the
# authority asks for and follows its preservation's extensions.
delivery_router = APIRouter(prefix="/disclosure-packages", tags=["lawful requests: delivery to the authority"])
authority_router = APIRouter(prefix="/lawful-requests", tags=["lawful requests: preservation"])
Caller = Annotated[Principal, Depends(current_principal)]
Handler = Annotated[Principal, Depends(require(Permission.REQUESTS_HANDLE))]
Reader = Annotated[Principal, Depends(require(Permission.REQUESTS_READ))]
Approver = Annotated[Principal, Depends(require(Permission.DISCLOSURE_APPROVE))]


@router.get("/policy")
def policy_in_force() -> dict[str, object]:
    p = load_policy()
    return {"version": p.version, "sha256": p.sha256, "effective": p.effective, "text": p.text}


@router.get("/jurisdictions")
def profiles(container: ContainerDep, _: Reader) -> dict[str, object]:
    j = jurisdictions.load(container.settings.data_dir)
    return {
        "version": j.version,
        "home": j.home,
        "index": j.index,
        "estimates_year": j.estimates_year,
        "countries": [
            {
                "code": c.code,
                "name": c.name,
                "eu": c.eu,
                "eea": c.eea,
                "estimate": c.estimate,
                "tier": c.tier,
                "instruments": sorted(c.instruments),
                "cloud_act_partner": c.cloud_act_partner,
            }
            for c in j.countries.values()
        ],
    }


@router.post("/requests/{request_id}/decisions", response_model=DecisionRead, status_code=201)
def propose(
    request_id: RowId, body: DecisionCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> DecisionRead:
    decision = policy.propose_decision(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        platform=container.platform,
        request_id=request_id,
        data_dir=container.settings.data_dir,
        note=body.note,
    )
    return DecisionRead.model_validate(decision)


@router.get("/requests/{request_id}/decisions", response_model=list[DecisionRead])
def decisions(request_id: RowId, session: SessionDep, principal: Reader) -> list[DecisionRead]:
    return [DecisionRead.model_validate(d) for d in policy.decisions_for(session, principal=principal, request_id=request_id)]


@router.post("/decisions/{decision_id}/adopt")
def adopt(
    decision_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> dict[str, str]:
    adopted = policy.adopt(
        session, actor=actor_of(request, principal), clock=container.clock, principal=principal, decision_id=decision_id
    )
    return {"reference": adopted.reference, "state": adopted.state}


@router.post("/policy/dry-run", response_model=DryRunRead)
def dry_run(body: DryRunCreate, session: SessionDep, container: ContainerDep, principal: Reader) -> DryRunRead:
    draft, rows = policy.dry_run(session, principal=principal, draft_text=body.draft, data_dir=container.settings.data_dir)
    out = [
        DryRunRowRead(
            request_id=r.decision.request_id,
            reference=r.decision.facts["reference"],
            decided=r.decision.outcome,
            decided_under=r.decision.policy_version,
            draft_outcome=r.draft.outcome.value,
            draft_categories=sorted(c.value for c in r.draft.categories),
            draft_rules=list(r.draft.rule_ids),
            changed=r.changed,
        )
        for r in rows
    ]
    return DryRunRead(draft_version=draft.version, changed=sum(r.changed for r in out), rows=out)


@router.post("/requests/{request_id}/disclosures", response_model=DisclosureRead, status_code=201)
def prepare(
    request_id: RowId, body: Note, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> DisclosureRead:
    return DisclosureRead.model_validate(
        service.prepare(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            request_id=request_id,
            note=body.note,
        )
    )


@router.post("/disclosures/{disclosure_id}/approve", response_model=DisclosureRead)
def approve(
    disclosure_id: RowId, body: Note, request: Request, session: SessionDep, container: ContainerDep, principal: Approver
) -> DisclosureRead:
    return DisclosureRead.model_validate(
        service.approve(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            disclosure_id=disclosure_id,
            note=body.note,
        )
    )


@router.post("/disclosures/{disclosure_id}/review", response_model=DisclosureRead)
def review(
    disclosure_id: RowId, body: Note, request: Request, session: SessionDep, container: ContainerDep, principal: Approver
) -> DisclosureRead:
    """One extra review the decision requires (a weaker rule-of-law tier, an unclassified
    offence), by a legal officer who has not yet prepared, approved or reviewed it."""
    return DisclosureRead.model_validate(
        service.review(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            disclosure_id=disclosure_id,
            note=body.note,
        )
    )


@router.post("/disclosures/{disclosure_id}/widen", response_model=DisclosureRead)
def widen(
    disclosure_id: RowId, body: Widening, request: Request, session: SessionDep, container: ContainerDep, principal: Approver
) -> DisclosureRead:
    return DisclosureRead.model_validate(
        service.widen(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            disclosure_id=disclosure_id,
            categories=body.categories,
            note=body.note,
        )
    )


@router.post("/disclosures/{disclosure_id}/package", response_model=PackageCreated, status_code=201)
def package(
    disclosure_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> PackageCreated:
    settings = container.settings
    row, secret = service.package(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        platform=container.platform,
        key=provider_key(settings.data_dir),
        blobs=container.blobs,
        disclosure_id=disclosure_id,
    )
    link = (
        absolute(settings, Audience.PORTAL, f"/portal/disclosures/{secret}", request)
        if row.officer_id is not None
        else absolute(settings, Audience.PUBLIC, f"/api/v1/disclosure-packages/{row.id}", request)
    )
    return PackageCreated(package=PackageRead.model_validate(row), link=link)


@router.get("/holds", response_model=list[HoldRead])
def holds(session: SessionDep, principal: Reader, state: HoldState | None = None) -> list[HoldRead]:
    return [HoldRead.model_validate(h) for h in preservation.list_holds(session, principal=principal, state=state)]


@router.post("/requests/{request_id}/holds", response_model=list[HoldRead], status_code=201)
def freeze(
    request_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> list[HoldRead]:
    frozen = preservation.freeze(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        platform=container.platform,
        request_id=request_id,
    )
    return [HoldRead.model_validate(h) for h in frozen]


@router.post("/holds/{hold_id}/extend", response_model=HoldRead)
def extend(
    hold_id: RowId, body: HoldExtension, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> HoldRead:
    return HoldRead.model_validate(
        preservation.extend(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            hold_id=hold_id,
            reason=body.reason,
        )
    )


@router.post("/holds/{hold_id}/convert", response_model=HoldRead)
def convert(
    hold_id: RowId, body: HoldConversion, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> HoldRead:
    return HoldRead.model_validate(
        preservation.convert(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            hold_id=hold_id,
            production_request_id=body.production_request_id,
        )
    )


@router.get("/notices", response_model=NoticeQueueRead)
def notices(session: SessionDep, container: ContainerDep, principal: Reader) -> NoticeQueueRead:
    q = notice.queue(session, principal=principal, clock=container.clock)
    return NoticeQueueRead(
        **{k: [NoticeRead.model_validate(n) for n in getattr(q, k)] for k in ("due", "waiting", "withheld", "sent")}
    )


@router.post("/requests/{request_id}/notices", response_model=list[NoticeRead], status_code=201)
def schedule(
    request_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> list[NoticeRead]:
    rows = notice.schedule(
        session, actor=actor_of(request, principal), clock=container.clock, principal=principal, request_id=request_id
    )
    return [NoticeRead.model_validate(n) for n in rows]


@router.post("/notices/{notice_id}/sent", response_model=NoticeRead)
def sent(
    notice_id: RowId, body: NoticeSent, request: Request, session: SessionDep, container: ContainerDep, principal: Handler
) -> NoticeRead:
    return NoticeRead.model_validate(
        notice.mark_sent(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            principal=principal,
            notice_id=notice_id,
            channel=body.channel,
        )
    )


@router.get("/transparency/numbers")
def transparency_numbers(
    start: datetime, end: datetime, session: SessionDep, principal: Reader, country: str | None = None
) -> dict[str, object]:
    """Per-country numbers of government requests for [start, end) (the transparency report reads these)."""
    return {
        "start": start,
        "end": end,
        "countries": numbers.government_numbers(session, principal=principal, start=start, end=end, country=country),
    }


@delivery_router.get("", response_model=list[ReadyPackageRead])
def ready_packages(session: SessionDep, container: ContainerDep, principal: Caller) -> list[ReadyPackageRead]:
    """For an agency's service token: the packages answering requests its agency's system
    filed, until their link expires (another agency's are never listed)."""
    return [
        ReadyPackageRead(
            id=p.id,
            request_id=p.request_id,
            reference=str(p.manifest.get("request", {}).get("reference", "")),
            sha256=p.sha256,
            size=p.size,
            key_id=p.key_id,
            expires_at=p.link_expires_at,
            downloaded=delivery.downloaded(session, package_id=p.id),
        )
        for p in delivery.ready_for_agency(session, clock=container.clock, principal=principal)
    ]


@delivery_router.get(
    "/{package_id}",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The signed package (ZIP)."}},
)
def fetch_package(
    package_id: RowId, request: Request, session: SessionDep, container: ContainerDep, principal: Caller
) -> Response:
    """The signed package, for the agency whose system filed the request: the same rule,
    expiry and record as the officer's portal link (every attempt is a row and an audit
    entry; a refusal is committed too)."""
    opened = delivery.open_for_agency(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        package_id=package_id,
        blobs=container.blobs,
        data_dir=container.settings.data_dir,
    )
    if not opened.allowed:
        slug, title = (
            ("not-found", "Not found")
            if opened.status == 404
            else ("gone", "Gone")
            if opened.status == 410
            else ("forbidden", "Forbidden")
        )
        return problem(request, status=opened.status, slug=slug, title=title, detail=opened.reason)
    name = f"{opened.package.manifest.get('request', {}).get('reference', 'disclosure')}-{opened.package.sha256[:12]}.zip"
    return Response(
        opened.data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _preservation(state: preservation.PreservationState) -> PreservationRead:
    return PreservationRead(
        request_id=state.request_id,
        reference=state.reference,
        expires_at=state.expires_at,
        extensions=state.extensions,
        max_extensions=state.max_extensions,
        extension_days=state.extension_days,
        holds=state.holds,
        asks=[ExtensionRead.model_validate(a) for a in state.asks],
    )


@authority_router.get("/{request_id}/preservation", response_model=PreservationRead)
def preservation_of(request_id: RowId, session: SessionDep, principal: Caller) -> PreservationRead:
    """A preservation order's state: until when, extensions used and allowed, its asks."""
    return _preservation(preservation.preservation_state(session, principal=principal, request_id=request_id))


@authority_router.post("/{request_id}/preservation/extensions", response_model=ExtensionRead, status_code=201)
def ask_extension(
    request_id: RowId, body: ExtensionAsk, request: Request, session: SessionDep, container: ContainerDep, principal: Caller
) -> ExtensionRead:
    """The issuing authority asks for more time (EPOC-PR +30 days, 2703(f) +90 days): granted
    within the instrument's limit, or recorded as refused with the reason (`state`)."""
    row = preservation.ask_extension(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        principal=principal,
        request_id=request_id,
        reason=body.reason,
    )
    return ExtensionRead.model_validate(row)
