"""`create_app(settings)`: the one factory the server, the tests and the workers use."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from trustdesk import __version__
from trustdesk.core.jobs.metrics import JobsCollector
from trustdesk.core.settings import Settings
from trustdesk.emergency import lane as emergency_lane
from trustdesk.emergency import routers as emergency_routers
from trustdesk.http import limits, log_redaction, observability, openapi, problems
from trustdesk.legal import routers as legal_routers
from trustdesk.legal.signing import provider_key
from trustdesk.platform import routers as platform_routers
from trustdesk.privacy import routers as privacy_routers
from trustdesk.safety import routers as safety_routers
from trustdesk.safety.signals import index as index_kernels
from trustdesk.transparency import routers as transparency_routers
from trustdesk.web.access_log import api_router as access_log_api_router
from trustdesk.web.access_log import page_router as access_log_page_router
from trustdesk.web.audit import router as audit_router
from trustdesk.web.container import Container, build_container
from trustdesk.web.identity import router as identity_router
from trustdesk.web.jobs import scheduler_for
from trustdesk.web.jobs_views import api_router as jobs_api_router
from trustdesk.web.jobs_views import page_router as jobs_page_router
from trustdesk.web.pages import console_router, staff_console_router

STATIC = Path(__file__).parent / "static"
# Each domain exports its routers (`<domain>/routers.py`); core's own are the top's (web/).
DOMAINS = [platform_routers, safety_routers, legal_routers, emergency_routers, transparency_routers, privacy_routers]
API_ROUTERS: list[APIRouter] = [
    identity_router,
    audit_router,
    access_log_api_router,
    jobs_api_router,
    *(r for d in DOMAINS for r in d.API_ROUTERS),
]  # under /api/v1
PAGE_ROUTERS: list[APIRouter] = [
    console_router,
    staff_console_router,
    access_log_page_router,
    jobs_page_router,
    *(r for d in DOMAINS for r in d.PAGE_ROUTERS),
]


def create_app(settings: Settings, *, container: Container | None = None) -> FastAPI:
    settings.check_production()
    index_kernels.warm_up()  # compile once at start, not inside the first lookup's time limit
    container = container or build_container(settings)  # first: a bad setting stops the start before any file is made
    provider_key(settings.data_dir)  # the signing key is made at start-up, never inside a request's transaction

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The scheduled jobs (docs/jobs.md): the emergency sweep, audit checkpoints, alerts,
        # purges, fetches; off in tests (jobs_in_server), which drive a Scheduler themselves.
        scheduler = scheduler_for(container).start() if settings.jobs_in_server else None
        yield
        if scheduler is not None:
            scheduler.stop()
        container.close_pools()
        container.db.dispose()

    app = FastAPI(
        title="Trustdesk",
        version=__version__,
        description="Trust & safety back office: lawful requests, safety, emergencies, transparency.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.container = container
    emergency_lane.install_for(container)  # TCO orders are taken in as soon as they are committed
    metrics = observability.Metrics()
    app.state.metrics = metrics  # domains add collectors to it (the pipeline's read the database)
    metrics.registry.register(JobsCollector(container.db))  # every process's job runs, from their rows
    limits.install(app, settings)  # before observability: inside it, so refusals carry the request id
    observability.install(app, metrics)
    problems.install(app)
    openapi.install(app)

    _include_routers(app, health=_health_router(container, metrics))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    log_redaction.install(app)  # after the routes: its patterns are built from them
    return app


def _include_routers(app: FastAPI, *, health: APIRouter | None) -> None:
    api = APIRouter(prefix="/api/v1")
    for router in API_ROUTERS:
        api.include_router(router)
    app.include_router(api)
    if health is not None:
        app.include_router(health)
    for router in PAGE_ROUTERS:
        app.include_router(router)


@functools.cache
def route_templates() -> frozenset[str]:
    """The path template of every route `create_app` serves (its health routes take no
    parameter), without a container or settings: what the CLI's log redaction is built from,
    so that a worker's lines are redacted as the server's are."""
    bare = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    _include_routers(bare, health=None)
    return frozenset(log_redaction.route_paths(bare))


def _health_router(container: Container, metrics: observability.Metrics) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @router.get("/readyz", responses={503: {"description": "The database is unreachable.", "content": {"application/json": {}}}})
    def readyz() -> JSONResponse:
        try:
            container.db.ping()
        except Exception as exc:  # any driver error means not ready
            return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ready", "database": container.db.engine.dialect.name})

    @router.get("/metrics", response_class=PlainTextResponse)  # Prometheus text exposition format
    def prometheus() -> Response:
        return metrics.render()

    return router
