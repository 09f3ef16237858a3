"""Building the container: the adapters the settings choose (platform, pager, DSA database, blob
store), and the process's signal registry (`signal_types`). The top's job, so that the HTTP
base's `Container` names no adapter and `core` no domain; the app factory and the CLI both build
theirs here."""

from __future__ import annotations

from trustdesk.core.blobs import LocalBlobStore
from trustdesk.core.database import Database
from trustdesk.core.dsa_database import build_dsa_database
from trustdesk.core.paging import build_pager
from trustdesk.core.settings import PlatformKind, Settings
from trustdesk.http.container import Container
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.port import Platform
from trustdesk.platform.webhook.adapter import WebhookPlatform
from trustdesk.safety.signals.types import registry as signal_registry

__all__ = ["Container", "build_container", "build_platform"]


def build_platform(settings: Settings) -> Platform:
    """The adapter the `platform` setting names."""
    if settings.platform == PlatformKind.WEBHOOK:
        return WebhookPlatform.from_settings(settings)
    if settings.platform == PlatformKind.MATRIX:
        return MatrixPlatform.from_settings(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return DemoPlatform.from_url(f"sqlite:///{(settings.data_dir / 'demo-platform.db').resolve()}")


def build_container(settings: Settings) -> Container:
    # First, so that a `signal_types` name Trustdesk lacks stops the start (UnknownSignalType, naming it).
    signal_registry.install(settings.signal_types)
    return Container(
        settings=settings,
        db=Database.from_url(settings.sqlalchemy_url),
        platform=build_platform(settings),
        pager=build_pager(settings),
        dsa_database=build_dsa_database(settings),
        blobs=LocalBlobStore(settings.blob_dir or settings.data_dir / "blobs"),
    )
