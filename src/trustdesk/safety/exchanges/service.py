"""Configure exchanges and fetch them into banks through python-threatexchange.

A fetch walks `fetch_iter(checkpoint)` and commits after every delta: the entries it brought,
the checkpoint after it, and the retroaction over the new entries, together. Interrupted or
failed, the next fetch resumes from the last committed checkpoint. Records the exchange
deletes disable their entries (never delete them); a record listed again is re-enabled."""

from __future__ import annotations

import dataclasses
import hashlib
import typing as t
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import dacite
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session
from threatexchange.exchanges.auth import CredentialHelper
from threatexchange.exchanges.impl import fb_threatexchange_api, file_api, ncmec_api, static_sample, stop_ncii_api
from threatexchange.exchanges.impl import techagainstterrorism_api as tat_api
from threatexchange.exchanges.signal_exchange_api import TSignalExchangeAPICls
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound, TrustdeskError, Unavailable
from trustdesk.safety.banks import service as banks
from trustdesk.safety.banks.flows import add_entries_flow
from trustdesk.safety.banks.models import BankEntry, BankKind
from trustdesk.safety.banks.signals import stored_value
from trustdesk.safety.exchanges.models import Exchange, FetchState
from trustdesk.safety.signals.types.registry import active

APIS: dict[str, TSignalExchangeAPICls] = {
    api.get_name(): api  # type: ignore[misc]
    for api in (
        static_sample.StaticSampleSignalExchangeAPI,
        file_api.LocalFileSignalExchangeAPI,
        ncmec_api.NCMECSignalExchangeAPI,
        stop_ncii_api.StopNCIISignalExchangeAPI,
        tat_api.TATSignalExchangeAPI,
        fb_threatexchange_api.FBThreatExchangeSignalExchangeAPI,
    )
}
CREDENTIALS: dict[str, type[CredentialHelper]] = {
    "ncmec": ncmec_api.NCMECCredentials,
    "stop_ncii": stop_ncii_api.StopNCIICredentials,
    "tat": tat_api.TATCredentials,
    "fb_threatexchange": fb_threatexchange_api.FBThreatExchangeCredentials,
}
# python-threatexchange's signal types by name; a Trustdesk type's `exchange_name` is one of these.
LIBRARY_SIGNAL_TYPES: dict[str, type[t.Any]] = {cls.get_name(): cls for cls in (PdqSignal, VideoMD5Signal, VideoSHA256Signal)}
try:  # the library's vPDQ type imports the vpdq package, which the set-up builds where FFmpeg's libraries are
    from threatexchange.extensions.vpdq.vpdq import VPDQSignal

    LIBRARY_SIGNAL_TYPES[VPDQSignal.get_name()] = VPDQSignal
except ImportError:  # pragma: no cover - without vpdq, exchanges' vPDQ records are skipped
    pass
EXTERNAL_ID_LENGTH = 200  # safety_bank_entries.external_id
Progress = Callable[[int, int], None]  # (records seen so far, entries added so far)


@dataclass(frozen=True)
class FetchReport:
    exchange: str
    deltas: int
    records: int
    added: int
    disabled: int
    skipped_invalid: int
    retro_matches: int
    error: str | None = None


def create_exchange(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    name: str,
    api: str,
    bank_id: int,
    config: Mapping[str, t.Any] | None = None,
) -> Exchange:
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise InvalidInput("An exchange needs a name of 1 to 120 characters.", field="name")
    if api not in APIS:
        raise InvalidInput(f"Unknown exchange API '{api}'. Valid: {', '.join(sorted(APIS))}.", field="api")
    bank = banks.get_bank(session, bank_id=bank_id)
    if bank.kind != BankKind.POSITIVE:
        raise InvalidInput("Exchanges fill positive banks; a negative bank holds your own cleared content.", field="bank_id")
    if session.scalar(select(Exchange.id).where(Exchange.name == name)) is not None:
        raise Conflict(f"An exchange named '{name}' exists already.")
    exchange = Exchange(
        name=name,
        api=api,
        config=dict(config or {}),
        bank_id=bank.id,
        enabled=True,
        state=FetchState.NEVER.value,
        created_at=clock.now(),
        created_by=str(actor),
    )
    collab(exchange)  # refuses a config the library would not accept, before anything is stored
    session.add(exchange)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="exchange.create",
        object_type="exchange",
        object_id=exchange.id,
        details={"name": name, "api": api, "bank_id": bank.id, "config": exchange.config},
    )
    return exchange


def collab(exchange: Exchange) -> t.Any:
    """The library's collaboration config for this exchange."""
    config_cls = APIS[exchange.api].get_config_cls()
    settable = {f.name for f in dataclasses.fields(config_cls) if f.init}
    values = {"name": exchange.name, "api": exchange.api, "enabled": exchange.enabled, **exchange.config}
    try:
        return config_cls(**{k: v for k, v in values.items() if k in settable})
    except TypeError as exc:
        raise InvalidInput(f"The {exchange.api} exchange's settings are incomplete or wrong: {exc}.", field="config") from None


def _api(exchange: Exchange, credentials: Mapping[str, Mapping[str, SecretStr]]) -> t.Any:
    api_cls = APIS[exchange.api]
    helper = CREDENTIALS.get(exchange.api)
    if helper is None:
        return api_cls.for_collab(collab(exchange))
    given = credentials.get(exchange.api)
    if not given:
        raise Unavailable(
            f"No credentials for the {exchange.api} exchange: set TRUSTDESK_EXCHANGE_CREDENTIALS "
            f"(a JSON object with an '{exchange.api}' key) or exchange_credentials in the config file."
        )
    secrets = {k: v.get_secret_value() for k, v in given.items()}
    return api_cls.for_collab(collab(exchange), credentials=helper(**secrets))  # type: ignore[call-arg]


def _checkpoint(exchange: Exchange) -> t.Any:
    if exchange.checkpoint is None:
        return None
    checkpoint = dacite.from_dict(
        APIS[exchange.api].get_checkpoint_cls(), exchange.checkpoint, config=dacite.Config(check_types=False)
    )
    return None if checkpoint.is_stale() else checkpoint


def get_exchange(session: Session, *, name: str) -> Exchange:
    exchange = session.scalars(select(Exchange).where(Exchange.name == name)).first()
    if exchange is None:
        raise NotFound(f"No exchange named '{name}'.")
    return exchange


def list_exchanges(session: Session) -> list[Exchange]:
    return list(session.scalars(select(Exchange).order_by(Exchange.name)))


# -- fetching (a job: it owns its transactions, one per delta) -----------------------------------


UnitOfWork = Callable[[], t.ContextManager[Session]]


def savepoints(session: Session) -> UnitOfWork:
    """Units of work inside one caller-owned transaction (an API request): each delta is a
    savepoint, so a failure keeps the deltas before it and records the failure."""

    @contextmanager
    def unit() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    return unit


def run_fetch(
    transaction: UnitOfWork,
    *,
    actor: Actor,
    clock: Clock,
    name: str,
    credentials: Mapping[str, Mapping[str, SecretStr]],
    progress: Progress | None = None,
) -> FetchReport:
    """Fetch one exchange. `transaction` opens one unit of work (`Database.transaction` for a
    job that commits per delta, `savepoints(session)` inside a request)."""
    totals = dict(deltas=0, records=0, added=0, disabled=0, skipped_invalid=0, retro_matches=0)
    with transaction() as session:
        exchange = get_exchange(session, name=name)
        exchange.last_started_at = clock.now()
    try:
        api, checkpoint = _api(exchange, credentials), _checkpoint(exchange)
        for delta in api.fetch_iter(signal_types(), checkpoint):
            with transaction() as session:
                counts = apply_delta(session, actor=actor, clock=clock, exchange=get_exchange(session, name=name), delta=delta)
            for key, value in counts.items():
                totals[key] += value
            totals["deltas"] += 1
            if progress is not None:
                progress(totals["records"], totals["added"])
    except Exception as exc:  # any failure of the remote side: recorded, resumable
        detail = exc.detail if isinstance(exc, TrustdeskError) else f"{type(exc).__name__}: {exc}"
        _finish(transaction, clock=clock, name=name, error=detail)
        return FetchReport(exchange=name, error=detail, **totals)
    _finish(transaction, clock=clock, name=name, error=None)
    return FetchReport(exchange=name, error=None, **totals)


def _finish(transaction: UnitOfWork, *, clock: Clock, name: str, error: str | None) -> None:
    with transaction() as session:
        exchange = get_exchange(session, name=name)
        exchange.state = (FetchState.FAILED if error else FetchState.OK).value
        exchange.last_error = error[:2000] if error else None
        exchange.last_finished_at = clock.now()


def apply_delta(session: Session, *, actor: Actor, clock: Clock, exchange: Exchange, delta: t.Any) -> dict[str, int]:
    """Store one delta: its new and re-listed entries, its deletions, its checkpoint."""
    api_cls, config = APIS[exchange.api], collab(exchange)
    ours = active().exchange_names()
    new, gone, invalid = [], [], 0
    for key, value in delta.updates.items():
        if value is None:
            gone.append(_external_id(key))
            continue
        for signal_cls, signals in api_cls.naive_convert_to_signal_type(signal_types(), config, {key: value}).items():
            for signal in signals:
                try:
                    kind = ours[signal_cls.get_name()]
                    new.append(
                        banks.NewEntry(
                            kind.name,
                            kind.normalise(signal),
                            exchange=exchange.name,
                            external_id=_external_id(key),
                            fetched_at=clock.now(),
                        )
                    )
                except (KeyError, TrustdeskError):
                    invalid += 1
    relisted = _relist(session, actor=actor, clock=clock, exchange=exchange, entries=new)
    added = (
        add_entries_flow(
            session,
            actor=actor,
            clock=clock,
            bank_id=exchange.bank_id,
            entries=new,
            trigger=f"fetched from exchange '{exchange.name}'",
            reason=f"exchange {exchange.name}",
        )
        if new
        else None
    )
    disabled = _disable_gone(session, actor=actor, clock=clock, exchange=exchange, external_ids=gone)
    exchange.checkpoint = dataclasses.asdict(delta.checkpoint)
    n_added = len(added.result.added) if added else 0
    exchange.fetched_total += len(delta.updates)
    exchange.last_added, exchange.last_removed = n_added, disabled
    retro = added.retroaction.matches if added and added.retroaction else 0
    return dict(
        records=len(delta.updates), added=n_added + relisted, disabled=disabled, skipped_invalid=invalid, retro_matches=retro
    )


def signal_types() -> list[type[t.Any]]:
    """The library's signal types that a fetch asks for: those of this instance's types."""
    return [LIBRARY_SIGNAL_TYPES[k.exchange_name] for k in active() if k.exchange_name in LIBRARY_SIGNAL_TYPES]


def _external_id(key: t.Any) -> str:
    """The record's id as the exchange names it; one longer than the column (a local file's
    key is its whole line, a vPDQ signal's kilobytes) by its SHA-256, the same every fetch,
    so that the record's deletion still finds it."""
    text = " ".join(map(str, key)) if isinstance(key, tuple) else str(key)
    return text if len(text) <= EXTERNAL_ID_LENGTH else "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _relist(session: Session, *, actor: Actor, clock: Clock, exchange: Exchange, entries: list[banks.NewEntry]) -> int:
    """Entries this exchange had deleted and now lists again are enabled again."""
    values = {stored_value(e.signal_type, e.value) for e in entries}
    if not values:
        return 0
    query = select(BankEntry.id).where(
        BankEntry.bank_id == exchange.bank_id,
        BankEntry.exchange == exchange.name,
        BankEntry.enabled.is_(False),
        BankEntry.value.in_(sorted(values)[:5000]),
    )
    ids = list(session.scalars(query))
    if ids:
        banks.set_entries_enabled(
            session,
            actor=actor,
            clock=clock,
            bank_id=exchange.bank_id,
            entry_ids=ids,
            enabled=True,
            reason=f"listed again by exchange '{exchange.name}'",
        )
    return len(ids)


def _disable_gone(session: Session, *, actor: Actor, clock: Clock, exchange: Exchange, external_ids: list[str]) -> int:
    if not external_ids:
        return 0
    query = select(BankEntry.id).where(
        BankEntry.bank_id == exchange.bank_id,
        BankEntry.exchange == exchange.name,
        BankEntry.enabled.is_(True),
        BankEntry.external_id.in_(external_ids),
    )
    ids = list(session.scalars(query))
    if ids:
        banks.set_entries_enabled(
            session,
            actor=actor,
            clock=clock,
            bank_id=exchange.bank_id,
            entry_ids=ids,
            enabled=False,
            reason=f"removed by exchange '{exchange.name}'",
        )
    return len(ids)
