"""The pipeline of one process, assembled from the container: bus, rule book, handler,
worker. Built once per container and kept in `container.pipeline.runtime`.

Extension points a deployment sets in `container.pipeline` (`http.container.PipelineSlot`)
before the first use: `prefix` (the bus subject prefix), `hash_matcher` (a `HashMatcher`,
default the banks domain's), `rules_dir` (where the rule files are; default
`<data_dir>/rules`, else the shipped examples), `autostart`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trustdesk.core.audit import Actor
from trustdesk.core.bus import Bus, JournaledBus, build_bus
from trustdesk.core.settings import BusKind
from trustdesk.core.urls import Audience, base
from trustdesk.safety.automation.service import PromotionGate
from trustdesk.safety.banks.matcher import shared_matcher
from trustdesk.safety.classifiers import configure as configure_classifiers
from trustdesk.safety.pipeline.banking import BankHashMatcher
from trustdesk.safety.pipeline.handling import Handler
from trustdesk.safety.pipeline.hashes import HashMatcher, SessionHashMatcher
from trustdesk.safety.pipeline.ingest import Backpressure
from trustdesk.safety.pipeline.worker import Worker
from trustdesk.safety.review.service import ensure_queues
from trustdesk.safety.rules.book import RuleBook

if TYPE_CHECKING:
    from trustdesk.http.container import Container


@dataclass
class PipelineRuntime:
    bus: Bus
    book: RuleBook
    handler: Handler
    worker: Worker
    embedded: bool
    backpressure: Backpressure
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _stop: asyncio.Event | None = field(default=None, repr=False)
    connected: bool = False

    async def start(self, *, run_worker: bool) -> None:
        if not self.connected:
            await self.bus.connect()
            self.connected = True
        if run_worker and self._task is None:
            if isinstance(self.bus, JournaledBus):
                self.bus.recover()  # what was accepted before a crash is handled now
            self.ensure_queues()
            self._stop = asyncio.Event()
            self._task = asyncio.create_task(self.worker.run(self._stop, fetch_timeout=0.25))

    def ensure_queues(self) -> None:
        """The review queues that rules open cases in must exist before the first event."""
        with self.handler.db.transaction() as session:
            ensure_queues(session, actor=Actor("system", "pipeline"), clock=self.handler.clock)

    async def stop(self) -> None:
        if self._task is not None and self._stop is not None:
            self._stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.connected:
            await self.bus.close()
            self.connected = False


def rules_directory(container: Container) -> Path | None:
    given = container.pipeline.rules_dir
    return Path(given) if given else container.settings.data_dir / "rules"


def build_runtime(
    container: Container, *, prefix: str | None = None, ack_wait: float = 30.0, worker_name: str | None = None, batch: int = 500
) -> PipelineRuntime:
    settings = container.settings
    configure_classifiers(settings)  # before the rules load: a rule may name a model server
    bus = build_bus(settings, prefix=prefix or container.pipeline.prefix or settings.pipeline_prefix, ack_wait=ack_wait)
    book = RuleBook.for_directory(rules_directory(container))
    handler = Handler(
        db=container.db,
        clock=container.clock,
        book=book,
        platform=container.platform,
        hashes=hash_matcher(container),
        pager=container.pager,
        worker=worker_name or f"{socket.gethostname()}",
        gate=PromotionGate() if settings.automation_requires_promotion else None,
    )
    backpressure = Backpressure(bus, limit=settings.pipeline_max_backlog, retry_after=settings.pipeline_retry_after_s)
    embedded = settings.bus is BusKind.IN_PROCESS
    return PipelineRuntime(bus, book, handler, Worker(bus, handler, batch=batch), embedded=embedded, backpressure=backpressure)


def hash_matcher(container: Container) -> HashMatcher | SessionHashMatcher:
    """`container.pipeline.hash_matcher` when a deployment set one, else the banks domain's matcher
    (the process's shared `MatchService`, kept current from the banks' change log)."""
    given = container.pipeline.hash_matcher
    if given is not None:
        return given
    return BankHashMatcher(shared_matcher(container), pager=container.pager, base_url=base(container.settings, Audience.CONSOLE))


def runtime_for(container: Container) -> PipelineRuntime:
    if container.pipeline.runtime is None:
        container.pipeline.runtime = build_runtime(container)
    return container.pipeline.runtime
