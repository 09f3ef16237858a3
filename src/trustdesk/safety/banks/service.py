"""Bank operations: create and configure banks, add entries, enable and disable them.

Keyword-only, session first, flush never commit. Input is checked completely before the
first row is written, so a bad row in a batch of ten thousand changes nothing. Every entry
mutation also writes a `BankEntryChange`, the log the in-memory matchers follow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor, record
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Conflict, InvalidInput, NotFound
from trustdesk.safety.banks.models import Bank, BankEntry, BankEntryChange, BankKind
from trustdesk.safety.banks.signals import normalise, parse_signal_type, stored_value
from trustdesk.safety.enforcement.policies import load_policies

MAX_THRESHOLD = 64  # beyond PDQ's 31 the index probes many more buckets; 64 is already loose
MAX_BATCH = 200_000


@dataclass(frozen=True)
class NewEntry:
    signal_type: str  # a name in the process's signal registry (signals/types, the signal_types setting)
    value: str
    notes: str = ""
    external_id: str | None = None
    exchange: str | None = None
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class AddResult:
    added: list[BankEntry]
    skipped: int = 0
    change_id: int | None = None


@dataclass(frozen=True)
class BankSummary:
    bank: Bank
    entries: int
    enabled_entries: int
    by_signal: dict[str, int] = field(default_factory=dict)


# -- banks ------------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise InvalidInput("A bank needs a name of 1 to 120 characters.", field="name")
    return name


def _check_threshold(threshold: int) -> int:
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise InvalidInput(
            f"The PDQ distance threshold runs from 0 to {MAX_THRESHOLD} bits (31 is PDQ's standard).", field="threshold"
        )
    return threshold


def _check_rollout(percent: int) -> int:
    if not 0 <= percent <= 100:
        raise InvalidInput("Rollout is a percentage from 0 to 100.", field="rollout_percent")
    return percent


def _policy_and_category(kind: BankKind, policy: str | None) -> tuple[str | None, str | None]:
    """A positive bank says which platform policy its content breaks; the DSA category
    follows from that policy (policies.json), so the two can never disagree."""
    if policy is None or not policy.strip():
        if kind is BankKind.POSITIVE:
            raise InvalidInput("A positive bank names the platform policy its content breaks.", field="policy")
        return None, None
    found = load_policies().get(policy.strip())
    return found.key, found.category


def create_bank(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    name: str,
    description: str = "",
    kind: BankKind | str = BankKind.POSITIVE,
    policy: str | None = None,
    labels: Sequence[str] = (),
    threshold: int = 31,
    enabled: bool = True,
    rollout_percent: int = 100,
    all_orientations: bool | None = None,
) -> Bank:
    """`all_orientations`: match uploads in any of their eight rotations and flips; None
    takes the default for the kind: on for a positive bank (hash lists from exchanges and
    other tools are hashed on the raw pixel grid, EXIF orientation ignored), off for a
    negative bank (the platform's own cleared content, hashed upright: matching it in
    more orientations would only suppress more)."""
    name, kind = _check_name(name), BankKind(kind)
    if all_orientations is None:
        all_orientations = kind is BankKind.POSITIVE
    if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise Conflict(f"A bank named '{name}' exists already.")
    policy, category = _policy_and_category(kind, policy)
    now = clock.now()
    bank = Bank(
        name=name,
        description=description.strip(),
        kind=kind.value,
        policy=policy,
        dsa_category=category,
        labels=_labels(labels),
        threshold=_check_threshold(threshold),
        enabled=enabled,
        rollout_percent=_check_rollout(rollout_percent),
        all_orientations=all_orientations,
        created_at=now,
        created_by=str(actor),
        updated_at=now,
    )
    session.add(bank)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="bank.create",
        object_type="bank",
        object_id=bank.id,
        details={
            "name": name,
            "kind": kind.value,
            "policy": policy,
            "threshold": threshold,
            "rollout_percent": rollout_percent,
            "all_orientations": all_orientations,
        },
    )
    return bank


def _labels(labels: Sequence[str]) -> list[str]:
    cleaned = [label.strip() for label in labels if label.strip()]
    if any(len(label) > 64 for label in cleaned):
        raise InvalidInput("Labels are at most 64 characters each.", field="labels")
    return list(dict.fromkeys(cleaned))


def update_bank(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    bank_id: int,
    reason: str | None = None,
    description: str | None = None,
    policy: str | None = None,
    labels: Sequence[str] | None = None,
    threshold: int | None = None,
    enabled: bool | None = None,
    rollout_percent: int | None = None,
    all_orientations: bool | None = None,
) -> Bank:
    bank = get_bank(session, bank_id=bank_id)
    before = _config(bank)
    if description is not None:
        bank.description = description.strip()
    if policy is not None:
        bank.policy, bank.dsa_category = _policy_and_category(BankKind(bank.kind), policy)
    if labels is not None:
        bank.labels = _labels(labels)
    if threshold is not None:
        bank.threshold = _check_threshold(threshold)
    if rollout_percent is not None:
        bank.rollout_percent = _check_rollout(rollout_percent)
    if enabled is not None:
        bank.enabled = enabled
    if all_orientations is not None:
        bank.all_orientations = all_orientations
    after = _config(bank)
    if after != before:
        bank.updated_at = clock.now()
        session.flush()
        changed = {k: [before[k], after[k]] for k in after if after[k] != before[k]}
        record(
            session,
            actor=actor,
            clock=clock,
            action="bank.update",
            object_type="bank",
            object_id=bank.id,
            reason=reason,
            details=changed,
        )
    return bank


def _config(bank: Bank) -> dict[str, object]:
    return {
        "description": bank.description,
        "policy": bank.policy,
        "labels": list(bank.labels),
        "threshold": bank.threshold,
        "enabled": bank.enabled,
        "rollout_percent": bank.rollout_percent,
        "all_orientations": bank.all_orientations,
    }


def get_bank(session: Session, *, bank_id: int) -> Bank:
    bank = session.get(Bank, bank_id)
    if bank is None:
        raise NotFound(f"No bank with id {bank_id}.")
    return bank


def get_bank_by_name(session: Session, *, name: str) -> Bank:
    bank = session.scalars(select(Bank).where(Bank.name == name.strip())).first()
    if bank is None:
        known = ", ".join(session.scalars(select(Bank.name).order_by(Bank.name)).all()) or "none yet"
        raise NotFound(f"No bank named '{name}'. Banks: {known}.")
    return bank


def list_banks(session: Session) -> list[BankSummary]:
    counts: dict[int, dict[str, int]] = {}
    enabled: dict[int, int] = {}
    query = select(BankEntry.bank_id, BankEntry.signal_type, BankEntry.enabled, func.count()).group_by(
        BankEntry.bank_id, BankEntry.signal_type, BankEntry.enabled
    )
    for bank_id, signal_type, is_enabled, n in session.execute(query):
        by_signal = counts.setdefault(bank_id, {})
        by_signal[signal_type] = by_signal.get(signal_type, 0) + n
        enabled[bank_id] = enabled.get(bank_id, 0) + (n if is_enabled else 0)
    banks = session.scalars(select(Bank).order_by(Bank.name)).all()
    return [
        BankSummary(
            bank=b,
            entries=sum(counts.get(b.id, {}).values()),
            enabled_entries=enabled.get(b.id, 0),
            by_signal=counts.get(b.id, {}),
        )
        for b in banks
    ]


# -- entries ----------------------------------------------------------------------------------


def _validated(entries: Sequence[NewEntry]) -> list[tuple[str, str, NewEntry]]:
    """Check every row before writing any; the error names the first bad row (1-based).
    Each row: (type, stored value, the entry with its value normalised)."""
    if len(entries) > MAX_BATCH:
        raise InvalidInput(f"At most {MAX_BATCH} entries at once; split the list.")
    rows = []
    for number, entry in enumerate(entries, start=1):
        try:
            signal_type = parse_signal_type(str(entry.signal_type))
            value = normalise(signal_type, entry.value)
            rows.append((signal_type, stored_value(signal_type, value), replace(entry, value=value)))
        except InvalidInput as exc:
            raise InvalidInput(f"Entry {number}: {exc.detail}", field="entries", row=number) from None
    return rows


def add_entries(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    bank_id: int,
    entries: Sequence[NewEntry],
    reason: str | None = None,
) -> AddResult:
    """Add entries; ones the bank already holds (same type and value) are skipped, not
    duplicated, so importing the same list twice is harmless."""
    bank = get_bank(session, bank_id=bank_id)
    if not entries:
        raise InvalidInput("No entries given: the list is empty.", field="entries")
    rows = _validated(entries)
    existing = _existing_values(session, bank_id=bank.id, rows=rows)
    fresh: dict[tuple[str, str], tuple[str, str, NewEntry]] = {}
    for signal_type, value, entry in rows:
        if (signal_type, value) not in existing:
            fresh.setdefault((signal_type, value), (signal_type, value, entry))
    if not fresh:
        return AddResult(added=[], skipped=len(rows))
    now = clock.now()
    change = BankEntryChange(kind="created", bank_id=bank.id, entry_ids=[], at=now)
    session.add(change)
    session.flush()
    added = [
        BankEntry(
            bank_id=bank.id,
            signal_type=st,
            value=value,
            signal_data=entry.value if entry.value != value else None,
            notes=entry.notes.strip(),
            enabled=True,
            exchange=entry.exchange,
            external_id=entry.external_id,
            fetched_at=entry.fetched_at,
            created_at=now,
            created_by=str(actor),
            change_id=change.id,
        )
        for st, value, entry in fresh.values()
    ]
    session.add_all(added)
    session.flush()
    record(
        session,
        actor=actor,
        clock=clock,
        action="bank.entries.add",
        object_type="bank",
        object_id=bank.id,
        reason=reason,
        change=[(e.signal_type, e.value) for e in added],
        details={"added": len(added), "skipped": len(rows) - len(added), "first_id": added[0].id, "last_id": added[-1].id},
    )
    return AddResult(added=added, skipped=len(rows) - len(added), change_id=change.id)


def _existing_values(session: Session, *, bank_id: int, rows: list[tuple[str, str, NewEntry]]) -> set[tuple[str, str]]:
    values = sorted({value for _, value, _ in rows})
    found: set[tuple[str, str]] = set()
    for start in range(0, len(values), 500):  # bounded IN lists for both backends
        chunk = values[start : start + 500]
        query = select(BankEntry.signal_type, BankEntry.value).where(BankEntry.bank_id == bank_id, BankEntry.value.in_(chunk))
        found.update((t, v) for t, v in session.execute(query))
    return found


def set_entries_enabled(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    bank_id: int,
    entry_ids: Sequence[int],
    enabled: bool,
    reason: str,
) -> list[BankEntry]:
    """Enable or disable entries of one bank; the matchers see it at their next refresh."""
    if not reason.strip():
        raise InvalidInput("Say why: a reason is required to enable or disable entries.", field="reason")
    bank = get_bank(session, bank_id=bank_id)
    ids = sorted(set(entry_ids))
    if not ids:
        raise InvalidInput("No entries given.", field="entry_ids")
    entries = session.scalars(select(BankEntry).where(BankEntry.bank_id == bank.id, BankEntry.id.in_(ids))).all()
    missing = sorted(set(ids) - {e.id for e in entries})
    if missing:
        raise NotFound(f"Bank '{bank.name}' has no entries {', '.join(map(str, missing[:10]))}.")
    changed = [e for e in entries if e.enabled != enabled]
    for entry in changed:
        entry.enabled = enabled
    if changed:
        log_state_change(session, clock=clock, bank_id=bank.id, entry_ids=[e.id for e in changed])
        record(
            session,
            actor=actor,
            clock=clock,
            action="bank.entries.enable" if enabled else "bank.entries.disable",
            object_type="bank",
            object_id=bank.id,
            reason=reason,
            details={"entry_ids": [e.id for e in changed][:1000]},
        )
    return changed


def log_state_change(session: Session, *, clock: Clock, bank_id: int, entry_ids: list[int]) -> None:
    session.add(BankEntryChange(kind="state", bank_id=bank_id, entry_ids=entry_ids, at=clock.now()))
    session.flush()


def get_entry(session: Session, *, entry_id: int, bank_id: int | None = None) -> BankEntry:
    entry = session.get(BankEntry, entry_id)
    if entry is None or (bank_id is not None and entry.bank_id != bank_id):
        raise NotFound(f"No bank entry {entry_id}" + (f" in bank {bank_id}." if bank_id is not None else "."))
    return entry


def list_entries(
    session: Session,
    *,
    bank_id: int,
    limit: int = 100,
    after_id: int = 0,
    signal_type: str | None = None,
) -> list[BankEntry]:
    get_bank(session, bank_id=bank_id)
    query = select(BankEntry).where(BankEntry.bank_id == bank_id, BankEntry.id > after_id)
    if signal_type is not None:
        query = query.where(BankEntry.signal_type == parse_signal_type(signal_type))
    return list(session.scalars(query.order_by(BankEntry.id).limit(min(max(limit, 1), 1000))))
