"""Console pages for hash banks (/console/safety/banks): banks and their entry counts,
thresholds and state, exchanges and their fetch state, flood alerts, a lookup form that
shows the hashes and the matches, and one bank's entries. Thin: parse, call, render."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from trustdesk.core.errors import TrustdeskError
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require, require_outside_transaction
from trustdesk.http.rendering import render
from trustdesk.safety.banks import flood, lookup, service, transfer
from trustdesk.safety.banks.api import matcher_of
from trustdesk.safety.banks.flows import add_entries_flow
from trustdesk.safety.banks.models import BankKind, RetroactionRun
from trustdesk.safety.enforcement.policies import load_policies
from trustdesk.safety.exchanges import service as exchanges
from trustdesk.safety.signals.types import registry as signal_registry

router = APIRouter(prefix="/console/safety/banks", include_in_schema=False)
Reader = Annotated[Principal, Depends(require(Permission.SAFETY_READ))]
Manager = Annotated[Principal, Depends(require(Permission.BANKS_MANAGE))]
Uploader = Annotated[Principal, Depends(require_outside_transaction(Permission.MATCH_LOOKUP))]  # hashes with no transaction open


def _index(
    request: Request, session: Any, container: Any, principal: Principal, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    request.state.principal = principal
    matcher = matcher_of(container)
    matcher.refresh(session)
    return render(
        request,
        "console/banks/index.html",
        status_code=status_code,
        active="safety",
        banks=service.list_banks(session),
        exchanges=exchanges.list_exchanges(session),
        alerts=flood.open_alerts(session),
        stats=matcher.stats(),
        policies=sorted(load_policies().policies.values(), key=lambda p: p.title),
        kinds=list(BankKind),
        can_manage=principal.can(Permission.BANKS_MANAGE),
        can_lookup=principal.can(Permission.MATCH_LOOKUP),
        **extra,
    )


def _done(path: str, request: Request) -> Response:
    return RedirectResponse(path, status_code=303)


@router.get("", response_class=HTMLResponse)
def banks_page(request: Request, session: SessionDep, container: ContainerDep, principal: Reader) -> HTMLResponse:
    return _index(request, session, container, principal)


@router.post("", response_model=None)
def create_bank(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Manager,
    name: Annotated[str, Form()],
    kind: Annotated[BankKind, Form()] = BankKind.POSITIVE,
    policy: Annotated[str, Form()] = "",
    threshold: Annotated[int, Form()] = 31,
    rollout_percent: Annotated[int, Form()] = 100,
    description: Annotated[str, Form()] = "",
    orientations: Annotated[str, Form()] = "",
) -> Response:
    all_orientations = {"all": True, "upright": False}.get(orientations)  # "" (or other): the kind's default
    try:
        with session.begin_nested():
            bank = service.create_bank(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                name=name,
                kind=kind,
                policy=policy or None,
                threshold=threshold,
                rollout_percent=rollout_percent,
                description=description,
                all_orientations=all_orientations,
            )
    except TrustdeskError as exc:
        return _index(request, session, container, principal, status_code=exc.status, error=exc.detail)
    return _done(f"/console/safety/banks/{bank.id}", request)


@router.post("/{bank_id}/toggle", response_model=None)
def toggle_bank(
    bank_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Manager,
    reason: Annotated[str, Form()] = "",
) -> Response:
    bank = service.get_bank(session, bank_id=bank_id)
    service.update_bank(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        bank_id=bank_id,
        enabled=not bank.enabled,
        reason=reason or None,
    )
    return _done("/console/safety/banks", request)


@router.post("/exchanges/{name}/fetch", response_class=HTMLResponse)
def fetch_now(name: str, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> HTMLResponse:
    exchanges.get_exchange(session, name=name)
    report = exchanges.run_fetch(
        exchanges.savepoints(session),
        actor=actor_of(request, principal),
        clock=container.clock,
        name=name,
        credentials=container.settings.exchange_credentials,
    )
    if report.error:
        return _index(request, session, container, principal, error=f"Fetching {name} failed: {report.error}")
    return _index(
        request,
        session,
        container,
        principal,
        notice=f"Fetched {name}: {report.records} records, {report.added} added, {report.retro_matches} past uploads matched.",
    )


@router.post("/flood/{alert_id}/resolve", response_class=HTMLResponse)
def resolve_flood(
    alert_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Manager,
    reason: Annotated[str, Form()],
    resume: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    try:
        with session.begin_nested():
            flood.resolve(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                alert_id=alert_id,
                resume=resume,
                reason=reason,
            )
    except TrustdeskError as exc:
        return _index(request, session, container, principal, status_code=exc.status, error=exc.detail)
    return _index(request, session, container, principal, notice=f"Flood alert {alert_id} resolved.")


@router.post("/lookup", response_class=HTMLResponse)
def lookup_form(
    request: Request, container: ContainerDep, principal: Uploader, session: SessionDep, file: Annotated[UploadFile, File()]
) -> HTMLResponse:
    request.state.principal = principal
    try:
        found = lookup.lookup_file(
            session,
            matcher=matcher_of(container),
            data=file.file,
            content_type=file.content_type,
            cpu=container.hashing,
            max_pixels=container.settings.image_max_pixels,
        )
    except TrustdeskError as exc:
        return render(request, "console/banks/_lookup.html", error=exc.detail, filename=file.filename)
    return render(request, "console/banks/_lookup.html", found=found, filename=file.filename)


# -- one bank -------------------------------------------------------------------------------


def _bank_page(
    request: Request, session: Any, principal: Principal, bank_id: int, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    request.state.principal = principal
    bank = service.get_bank(session, bank_id=bank_id)
    summary = next(s for s in service.list_banks(session) if s.bank.id == bank_id)
    runs = (
        session.query(RetroactionRun).filter(RetroactionRun.bank_id == bank_id).order_by(RetroactionRun.id.desc()).limit(5).all()
    )
    return render(
        request,
        "console/banks/bank.html",
        status_code=status_code,
        active="safety",
        bank=bank,
        summary=summary,
        entries=service.list_entries(session, bank_id=bank_id, limit=200),
        runs=runs,
        signal_types=signal_registry.active().names(),  # the types this instance uses (signal_types)
        formats=list(transfer.TransferFormat),
        can_manage=principal.can(Permission.BANKS_MANAGE),
        **extra,
    )


@router.get("/{bank_id}", response_class=HTMLResponse)
def bank_page(bank_id: RowId, request: Request, session: SessionDep, principal: Reader) -> HTMLResponse:
    return _bank_page(request, session, principal, bank_id)


@router.post("/{bank_id}/entries", response_class=HTMLResponse)
def add_entry(
    bank_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Manager,
    signal_type: Annotated[str, Form()],
    value: Annotated[str, Form()],
    notes: Annotated[str, Form()] = "",
) -> HTMLResponse:
    return _add(
        request,
        session,
        container,
        principal,
        bank_id,
        [service.NewEntry(signal_type, value, notes=notes)],
        "entry added in the console",
    )


@router.post("/{bank_id}/import", response_class=HTMLResponse)
def import_file(
    bank_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Manager,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form()] = "csv",
) -> HTMLResponse:
    data = file.file.read()  # spooled upload, read in this worker thread
    try:
        entries = transfer.parse(data, fmt=format)
    except (TrustdeskError, ValueError) as exc:
        return _bank_page(request, session, principal, bank_id, status_code=422, error=getattr(exc, "detail", str(exc)))
    return _add(request, session, container, principal, bank_id, entries, f"import of {file.filename or 'a file'}")


def _add(
    request: Request,
    session: Any,
    container: Any,
    principal: Principal,
    bank_id: int,
    entries: list[service.NewEntry],
    trigger: str,
) -> HTMLResponse:
    try:
        with session.begin_nested():
            added = add_entries_flow(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                bank_id=bank_id,
                entries=entries,
                reason=trigger,
                trigger=trigger,
                platform=container.platform,
                pager=container.pager,
            )
    except TrustdeskError as exc:
        return _bank_page(request, session, principal, bank_id, status_code=exc.status, error=exc.detail)
    run = added.retroaction
    notice = f"{len(added.result.added)} added, {added.result.skipped} already in the bank."
    if run is not None:
        notice += f" Retroaction: {run.media_scanned} stored uploads scanned, {run.matches} new matches, {run.cases} review cases, {run.removed} removed automatically."
    return _bank_page(request, session, principal, bank_id, notice=notice)


@router.post("/{bank_id}/entries/{entry_id}/toggle", response_class=HTMLResponse)
def toggle_entry(
    bank_id: RowId,
    entry_id: RowId,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Manager,
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    entry = service.get_entry(session, entry_id=entry_id, bank_id=bank_id)
    try:
        with session.begin_nested():
            service.set_entries_enabled(
                session,
                actor=actor_of(request, principal),
                clock=container.clock,
                bank_id=bank_id,
                entry_ids=[entry_id],
                enabled=not entry.enabled,
                reason=reason,
            )
    except TrustdeskError as exc:
        return _bank_page(request, session, principal, bank_id, status_code=exc.status, error=exc.detail)
    return _bank_page(
        request, session, principal, bank_id, notice=f"Entry {entry_id} {'enabled' if entry.enabled else 'disabled'}."
    )
