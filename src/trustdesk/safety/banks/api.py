"""Banks API (`/api/v1/banks`, `/api/v1/exchanges`) and the lookup API (`/api/v1/match`).
Thin: parse, call the service, shape the answer. Meta's HMA equivalents are named on each
route (see docs/hash-matching.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

from trustdesk.core.errors import InvalidInput
from trustdesk.core.identity.permissions import Permission, Principal
from trustdesk.core.ids import RowId, RowIdOrZero
from trustdesk.core.urls import Audience, base
from trustdesk.http.container import Container
from trustdesk.http.deps import ContainerDep, SessionDep, actor_of, require, require_outside_transaction
from trustdesk.safety.banks import flood, lookup, service, transfer
from trustdesk.safety.banks.flows import add_entries_flow
from trustdesk.safety.banks.matcher import MatchService, shared_matcher
from trustdesk.safety.banks.schemas import (
    SIGNAL_NAME_HELP,
    AddedRead,
    BankCreate,
    BankRead,
    BankUpdate,
    EntriesIn,
    EntryRead,
    EntryStateIn,
    ExchangeCreate,
    ExchangeRead,
    FetchRead,
    FloodAlertRead,
    FloodResolveIn,
    HashesRead,
    LookupRead,
    MatcherRead,
    MatchesRead,
    RetroactionRead,
)
from trustdesk.safety.exchanges import service as exchanges

if TYPE_CHECKING:
    from trustdesk.core.paging import Pager

router = APIRouter(tags=["banks"])
Reader = Annotated[Principal, Depends(require(Permission.SAFETY_READ))]
Manager = Annotated[Principal, Depends(require(Permission.BANKS_MANAGE))]
Looker = Annotated[Principal, Depends(require(Permission.MATCH_LOOKUP))]
# Routes that hash or parse an upload check the caller first, then work with no transaction open.
Uploader = Annotated[Principal, Depends(require_outside_transaction(Permission.MATCH_LOOKUP))]
Importer = Annotated[Principal, Depends(require_outside_transaction(Permission.BANKS_MANAGE))]


def matcher_of(container: Container) -> MatchService:
    return shared_matcher(container)


def pager_of(container: Container) -> Pager | None:
    return container.pager


def _summary(session: Any, bank_id: int) -> BankRead:
    return next(BankRead.of(s) for s in service.list_banks(session) if s.bank.id == bank_id)


def _added(result: Any) -> AddedRead:
    run = result.retroaction
    return AddedRead(
        added=len(result.result.added),
        skipped=result.result.skipped,
        entry_ids=[e.id for e in result.result.added],
        retroaction=RetroactionRead.model_validate(run) if run else None,
    )


# -- banks (HMA: /c/banks, /c/bank/<name>, /c/bank/<name>/content) ---------------------------------


@router.get("/banks", response_model=list[BankRead])
def list_banks(session: SessionDep, _: Reader) -> list[BankRead]:
    return [BankRead.of(s) for s in service.list_banks(session)]


@router.post("/banks", response_model=BankRead, status_code=201)
def create_bank(body: BankCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> BankRead:
    bank = service.create_bank(session, actor=actor_of(request, principal), clock=container.clock, **body.model_dump())
    return _summary(session, bank.id)


@router.get("/banks/flood-alerts", response_model=list[FloodAlertRead])
def flood_alerts(session: SessionDep, _: Reader) -> list[FloodAlertRead]:
    return [FloodAlertRead.model_validate(a) for a in flood.open_alerts(session)]


@router.post("/banks/flood-alerts/{alert_id}/resolve", response_model=FloodAlertRead)
def resolve_flood(
    alert_id: RowId, body: FloodResolveIn, request: Request, session: SessionDep, container: ContainerDep, principal: Manager
) -> FloodAlertRead:
    alert = flood.resolve(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        alert_id=alert_id,
        resume=body.resume,
        reason=body.reason,
    )
    return FloodAlertRead.model_validate(alert)


@router.get("/banks/{bank_id}", response_model=BankRead)
def get_bank(bank_id: RowId, session: SessionDep, _: Reader) -> BankRead:
    service.get_bank(session, bank_id=bank_id)
    return _summary(session, bank_id)


@router.patch("/banks/{bank_id}", response_model=BankRead)
def update_bank(
    bank_id: RowId, body: BankUpdate, request: Request, session: SessionDep, container: ContainerDep, principal: Manager
) -> BankRead:
    service.update_bank(
        session, actor=actor_of(request, principal), clock=container.clock, bank_id=bank_id, **body.model_dump(exclude_unset=True)
    )
    return _summary(session, bank_id)


@router.get("/banks/{bank_id}/entries", response_model=list[EntryRead])
def list_entries(
    bank_id: RowId,
    session: SessionDep,
    _: Reader,
    after_id: RowIdOrZero = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    signal_type: Annotated[str | None, Query(max_length=32, description=SIGNAL_NAME_HELP)] = None,
) -> list[EntryRead]:
    entries = service.list_entries(session, bank_id=bank_id, after_id=after_id, limit=limit, signal_type=signal_type)
    return [EntryRead.model_validate(e) for e in entries]


@router.post("/banks/{bank_id}/entries", response_model=AddedRead, status_code=201)
def add_entries(
    bank_id: RowId, body: EntriesIn, request: Request, session: SessionDep, container: ContainerDep, principal: Manager
) -> AddedRead:
    entries = [service.NewEntry(**e.model_dump()) for e in body.entries]
    return _added(
        add_entries_flow(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            bank_id=bank_id,
            entries=entries,
            reason=body.reason,
            trigger=f"entries added by {principal.name}",
            platform=container.platform,
            pager=pager_of(container),
        )
    )


@router.post("/banks/{bank_id}/entries/disable", response_model=list[EntryRead])
def disable_entries(
    bank_id: RowId, body: EntryStateIn, request: Request, session: SessionDep, container: ContainerDep, principal: Manager
) -> list[EntryRead]:
    changed = service.set_entries_enabled(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        bank_id=bank_id,
        entry_ids=body.entry_ids,
        enabled=False,
        reason=body.reason,
    )
    return [EntryRead.model_validate(e) for e in changed]


@router.post("/banks/{bank_id}/entries/enable", response_model=list[EntryRead])
def enable_entries(
    bank_id: RowId, body: EntryStateIn, request: Request, session: SessionDep, container: ContainerDep, principal: Manager
) -> list[EntryRead]:
    changed = service.set_entries_enabled(
        session,
        actor=actor_of(request, principal),
        clock=container.clock,
        bank_id=bank_id,
        entry_ids=body.entry_ids,
        enabled=True,
        reason=body.reason,
    )
    return [EntryRead.model_validate(e) for e in changed]


# The routes that take a file are plain `def`s: FastAPI runs them in a worker thread, and
# parsing and hashing go to the CPU pool before the request's transaction starts, so no
# request waits, on the event loop or on SQLite's lock, for another's upload (core/cpu.py).


@router.post("/banks/{bank_id}/import", response_model=AddedRead, status_code=201)
def import_entries(
    bank_id: RowId,
    request: Request,
    container: ContainerDep,
    principal: Importer,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    format: Annotated[transfer.TransferFormat, Form()] = transfer.TransferFormat.CSV,
) -> AddedRead:
    entries = container.cpu.call(transfer.parse, file.file.read(), fmt=format)
    return _added(
        add_entries_flow(
            session,
            actor=actor_of(request, principal),
            clock=container.clock,
            bank_id=bank_id,
            entries=entries,
            reason=f"import of {file.filename or 'a file'}",
            trigger=f"import of {file.filename or 'a file'}",
            platform=container.platform,
            pager=pager_of(container),
        )
    )


@router.get(
    "/banks/{bank_id}/export",
    response_class=StreamingResponse,
    responses={200: {"description": "The entries, one a line.", "content": {"text/csv": {}, "text/plain": {}}}},
)
def export_entries(
    bank_id: RowId, session: SessionDep, _: Reader, format: transfer.TransferFormat = transfer.TransferFormat.CSV
) -> StreamingResponse:
    service.get_bank(session, bank_id=bank_id)
    lines: Iterator[str] = iter(
        list(transfer.export(session, bank_id=bank_id, fmt=format))
    )  # read inside the request's transaction
    media = "text/csv" if format is transfer.TransferFormat.CSV else "text/plain"
    suffix = "csv" if format is transfer.TransferFormat.CSV else "txt"
    return StreamingResponse(
        lines, media_type=media, headers={"Content-Disposition": f'attachment; filename="bank-{bank_id}.{suffix}"'}
    )


# -- exchanges (HMA: /c/exchanges) ----------------------------------------------------------------


@router.get("/exchanges", response_model=list[ExchangeRead])
def list_exchanges(session: SessionDep, _: Reader) -> list[ExchangeRead]:
    return [ExchangeRead.model_validate(e) for e in exchanges.list_exchanges(session)]


@router.post("/exchanges", response_model=ExchangeRead, status_code=201)
def create_exchange(
    body: ExchangeCreate, request: Request, session: SessionDep, container: ContainerDep, principal: Manager
) -> ExchangeRead:
    exchange = exchanges.create_exchange(session, actor=actor_of(request, principal), clock=container.clock, **body.model_dump())
    return ExchangeRead.model_validate(exchange)


@router.post("/exchanges/{name}/fetch", response_model=FetchRead)
def fetch_exchange(name: str, request: Request, session: SessionDep, container: ContainerDep, principal: Manager) -> FetchRead:
    exchanges.get_exchange(session, name=name)
    report = exchanges.run_fetch(
        exchanges.savepoints(session),
        actor=actor_of(request, principal),
        clock=container.clock,
        name=name,
        credentials=container.settings.exchange_credentials,
    )
    return FetchRead(**report.__dict__)


# -- lookup (HMA: /h/hash, /m/lookup, /m/raw_lookup) ----------------------------------------------


@router.post("/match/hash", response_model=HashesRead)
def hash_file(container: ContainerDep, _: Uploader, file: Annotated[UploadFile, File()]) -> HashesRead:
    return HashesRead.of(
        lookup.hash_in(
            container.hashing, file.file, content_type=file.content_type, max_pixels=container.settings.image_max_pixels
        )
    )


@router.post("/match/lookup", response_model=LookupRead)
def lookup_media(
    request: Request,
    container: ContainerDep,
    principal: Uploader,
    session: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
    media_id: Annotated[str | None, Form()] = None,
) -> LookupRead:
    """Hash and match: upload a file (matched, not stored), or name a platform media id
    (fetched from the platform, remembered for retroaction, counted by the flood guard)."""
    if (file is None) == (media_id is None):
        raise InvalidInput("Send either a file or a media_id (one of them).", field="file")
    matcher = matcher_of(container)
    if file is not None:
        found = lookup.lookup_file(
            session,
            matcher=matcher,
            data=file.file,
            content_type=file.content_type,
            cpu=container.hashing,
            max_pixels=container.settings.image_max_pixels,
        )
    else:
        assert container.platform is not None and media_id is not None
        found = lookup.lookup_platform_media(
            session,
            matcher=matcher,
            platform=container.platform,
            actor=actor_of(request, principal),
            clock=container.clock,
            media_id=media_id,
            pager=pager_of(container),
            base_url=base(container.settings, Audience.CONSOLE, request),
            cpu=container.hashing,
            max_pixels=container.settings.image_max_pixels,
        )
    return LookupRead(
        hashes=HashesRead.of(found.hashes),
        media_hash_id=found.media_hash_id,
        flood_alerts=found.flood_alerts,
        **MatchesRead.of(found.result).model_dump(),
    )


@router.get("/match/raw", response_model=MatchesRead)
def raw_lookup(session: SessionDep, container: ContainerDep, _: Looker, signal_type: str, value: str) -> MatchesRead:
    return MatchesRead.of(lookup.lookup_raw(session, matcher=matcher_of(container), signal_type=signal_type, value=value))


@router.get("/match/status", response_model=MatcherRead)
def matcher_status(session: SessionDep, container: ContainerDep, _: Reader) -> MatcherRead:
    matcher = matcher_of(container)
    matcher.refresh(session)
    stats = matcher.stats()
    return MatcherRead(total_bytes=stats.total_bytes, **stats.__dict__)
