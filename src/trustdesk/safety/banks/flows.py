"""Work that crosses domains: adding entries and then matching past uploads against them
(retroaction routes what it finds into review, and removes it where policy allows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.core.paging import Pager
from trustdesk.platform.port import Platform
from trustdesk.safety.banks import service
from trustdesk.safety.banks.models import RetroactionRun
from trustdesk.safety.banks.retroaction import retroact


@dataclass(frozen=True)
class Added:
    result: service.AddResult
    retroaction: RetroactionRun | None


def add_entries_flow(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    bank_id: int,
    entries: Sequence[service.NewEntry],
    reason: str | None = None,
    trigger: str = "entries added",
    platform: Platform | None = None,
    pager: Pager | None = None,
) -> Added:
    """Add entries, then run retroaction over the ones that are new; with the platform, a
    bank the automation policy allows removes what it finds already posted."""
    result = service.add_entries(session, actor=actor, clock=clock, bank_id=bank_id, entries=entries, reason=reason)
    if not result.added:
        return Added(result=result, retroaction=None)
    run = retroact(
        session,
        actor=actor,
        clock=clock,
        bank_id=bank_id,
        entry_ids=[e.id for e in result.added],
        trigger=trigger,
        platform=platform,
        pager=pager,
    )
    return Added(result=result, retroaction=run)
