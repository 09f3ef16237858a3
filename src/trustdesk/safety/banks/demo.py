"""Demo banks: the fictional 'Iron Dawn Front' poster of the demo platform as a shared hash
list would carry it, so that its re-shared edits match. The demo's past uploads are first
remembered as the pipeline would have hashed them, then the bank is filled, so retroaction
finds the three posters and opens review cases: the whole path, on a fresh `make run`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core.audit import Actor
from trustdesk.core.clock import Clock
from trustdesk.platform.demo import imagery
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.demo.seed import seed_demo
from trustdesk.safety.banks import service
from trustdesk.safety.banks.flows import add_entries_flow
from trustdesk.safety.banks.lookup import hash_bytes, remember
from trustdesk.safety.banks.models import Bank, BankKind

DEMO_BANK = "Iron Dawn Front propaganda (demo)"
DEMO_NEGATIVE_BANK = "Cleared by review (demo)"


def load_demo_banks(session: Session, *, platform: DemoPlatform, actor: Actor, clock: Clock) -> Bank:
    """Idempotent: a second call finds the bank and changes nothing."""
    existing = session.scalars(select(Bank).where(Bank.name == DEMO_BANK)).first()
    if existing is not None:
        return existing
    cast = seed_demo(platform)
    for media_id in cast.media.values():
        item, data = platform.get_media(media_id)
        remember(
            session,
            clock=clock,
            platform_name=platform.name,
            media_id=item.id,
            hashes=hash_bytes(data, content_type=item.content_type),
        )
    bank = service.create_bank(
        session,
        actor=actor,
        clock=clock,
        name=DEMO_BANK,
        policy="terrorism",
        labels=["demo", "terrorist propaganda"],
        description="Fictional: the 'Iron Dawn Front' poster, as a partner's hash list would share it (PDQ).",
    )
    service.create_bank(
        session,
        actor=actor,
        clock=clock,
        name=DEMO_NEGATIVE_BANK,
        kind=BankKind.NEGATIVE,
        description="Content a reviewer cleared: never reported as a match again.",
        threshold=8,
    )
    pdq = hash_bytes(imagery.poster_original()[1]).pdq
    assert pdq is not None
    add_entries_flow(
        session,
        actor=actor,
        clock=clock,
        bank_id=bank.id,
        trigger="demo data",
        entries=[service.NewEntry("pdq", pdq, notes="Poster of the fictional Iron Dawn Front", exchange=None)],
    )
    return bank
