"""The event bus (see `port`): `build_bus(settings)` picks the adapter the `bus` setting names."""

from __future__ import annotations

from trustdesk.core.bus.memory import InProcessBus
from trustdesk.core.bus.port import DEFAULT_PREFIX, Bus, BusStats, DeadLetter, Delivery
from trustdesk.core.settings import BusKind, Settings


def build_bus(settings: Settings, *, prefix: str = DEFAULT_PREFIX, ack_wait: float = 30.0) -> Bus:
    if settings.bus is BusKind.NATS:
        from trustdesk.core.bus.nats import NatsBus

        return NatsBus(settings.nats_url, prefix=prefix, ack_wait=ack_wait)
    return InProcessBus(prefix=prefix)


__all__ = ["DEFAULT_PREFIX", "Bus", "BusStats", "DeadLetter", "Delivery", "InProcessBus", "build_bus"]
