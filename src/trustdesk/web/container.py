"""What a running Trustdesk holds: settings, database, clock, platform adapter. Built once in
`create_app` (or by the CLI) and handed to whoever needs it; never a module-level global."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.cpu import CpuPool
from trustdesk.core.database import Database
from trustdesk.core.settings import PlatformKind, Settings
from trustdesk.emergency.paging import build_pager
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.port import Platform
from trustdesk.platform.webhook.adapter import WebhookPlatform


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


def build_platform(settings: Settings) -> Platform:
    """The adapter the `platform` setting names."""
    if settings.platform == PlatformKind.WEBHOOK:
        return WebhookPlatform.from_settings(settings)
    if settings.platform == PlatformKind.MATRIX:
        return MatrixPlatform.from_settings(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return DemoPlatform.from_url(f"sqlite:///{(settings.data_dir / 'demo-platform.db').resolve()}")


def build_container(settings: Settings) -> Container:
    container = Container(settings=settings, db=Database.from_url(settings.sqlalchemy_url))
    container.extras["pager"] = build_pager(settings)
    return container
