"""What a running Trustdesk holds: settings, database, clock, platform adapter, DSA
Transparency Database, and a named, typed field for every service the domains share. Built once by the top
(`trustdesk.web.container.build_container`, for the app factory and the CLI) and handed to
whoever needs it; never a module-level global.

The base imports no domain: the domains' types are named for the type checker only, and a
field a domain fills on first use starts as None (the banks' matcher, the content screen,
the pipeline's runtime)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trustdesk.core.blobs import BlobStore, InMemoryBlobStore
from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.cpu import CpuPool
from trustdesk.core.database import Database
from trustdesk.core.dsa_database import DsaDatabase
from trustdesk.core.paging import Pager
from trustdesk.core.settings import CpuPoolKind, Settings

if TYPE_CHECKING:  # named for the type checker only (tests/test_layering.py)
    from trustdesk.platform.matrix.screen import ContentScreen
    from trustdesk.platform.port import Platform
    from trustdesk.safety.banks.matcher import MatchService
    from trustdesk.safety.pipeline.hashes import HashMatcher, SessionHashMatcher
    from trustdesk.safety.pipeline.runtime import PipelineRuntime


@dataclass
class PipelineSlot:
    """The pipeline of this process (`safety/pipeline/runtime.py`): what a deployment or a
    test sets before the first use, and the runtime built then."""

    rules_dir: Path | str | None = None  # where the rule files are; default <data_dir>/rules, else the shipped examples
    prefix: str | None = None  # the bus subject prefix; None: the `pipeline_prefix` setting
    autostart: bool = True  # the embedded worker starts with the app (tests drive it themselves)
    hash_matcher: HashMatcher | SessionHashMatcher | None = None  # default: the banks' matcher
    runtime: PipelineRuntime | None = None


@dataclass
class Container:
    settings: Settings
    db: Database
    platform: Platform
    clock: Clock = field(default_factory=SystemClock)
    # Packages and attachments by content hash (core/blobs.py); build_container makes the
    # shared directory's; the in-memory default is for containers that tests build by hand.
    blobs: BlobStore = field(default_factory=InMemoryBlobStore)
    dsa_database: DsaDatabase | None = None  # the DSA Transparency Database (core/dsa_database); None: submission is refused
    pager: Pager | None = None  # on-call paging (core/paging); None: alerts are recorded, nobody is paged
    matcher: MatchService | None = None  # the banks' matcher, made on first use (safety/banks/matcher.py)
    content_screen: ContentScreen | None = None  # the Matrix pre-send check's screen; None: an empty list
    pipeline: PipelineSlot = field(default_factory=PipelineSlot)
    cpu: CpuPool = field(init=False)  # CPU-bound work, off the event loop (core/cpu.py)
    hashing: CpuPool = field(init=False)  # media hashing: `hash_workers` processes, else the CPU pool

    def __post_init__(self) -> None:
        self.cpu = CpuPool(self.settings.cpu_workers, self.settings.cpu_pool, timeout=self.settings.cpu_job_timeout_seconds)
        workers = self.settings.hash_workers
        self.hashing = CpuPool(workers, CpuPoolKind.PROCESS) if workers else self.cpu

    def close_pools(self) -> None:
        """Stop the CPU pool's workers and the hashing pool's (a later job starts them again)."""
        self.cpu.close()
        if self.hashing is not self.cpu:
            self.hashing.close()
