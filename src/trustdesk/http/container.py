"""What a running Trustdesk holds: settings, database, clock, platform adapter. Built once by
the top (`trustdesk.web.container.build_container`, for the app factory and the CLI) and
handed to whoever needs it; never a module-level global."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.cpu import CpuPool
from trustdesk.core.database import Database
from trustdesk.core.settings import Settings

if TYPE_CHECKING:  # named for the type checker only: the base imports no domain
    from trustdesk.platform.port import Platform


@dataclass
class Container:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    platform: Platform | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    cpu: CpuPool = field(init=False)  # CPU-bound work, off the event loop (core/cpu.py)

    def __post_init__(self) -> None:
        self.cpu = CpuPool(self.settings.cpu_workers, self.settings.cpu_pool)
