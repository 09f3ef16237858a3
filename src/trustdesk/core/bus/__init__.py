"""The event bus (see `port`): `build_bus(settings)` picks the adapter the `bus` setting names."""

from __future__ import annotations

from trustdesk.core.bus.journal import Journal, JournaledBus
from trustdesk.core.bus.memory import InProcessBus
from trustdesk.core.bus.port import DEFAULT_PREFIX, Bus, BusStats, DeadLetter, Delivery
from trustdesk.core.settings import BusKind, Settings

JOURNAL_FILE = "bus-journal.db"  # under data_dir: the in-process bus's accepted, unsettled messages


def build_bus(settings: Settings, *, prefix: str = DEFAULT_PREFIX, ack_wait: float = 30.0) -> Bus:
    if settings.bus is BusKind.NATS:
        from trustdesk.core.bus.nats import NatsBus

        return NatsBus(settings.nats_url, prefix=prefix, ack_wait=ack_wait)
    return JournaledBus(Journal(settings.data_dir / JOURNAL_FILE), prefix=prefix)


__all__ = ["DEFAULT_PREFIX", "Bus", "BusStats", "DeadLetter", "Delivery", "InProcessBus", "Journal", "JournaledBus", "build_bus"]
