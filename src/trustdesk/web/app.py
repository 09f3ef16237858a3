"""`create_app(settings)`: the one factory the server, the tests and the workers use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from trustdesk import __version__
from trustdesk.core.audit import checkpoints as audit_checkpoints
from trustdesk.core.settings import Settings
from trustdesk.emergency import lane as emergency_lane
from trustdesk.emergency.api import router as emergency_router
from trustdesk.emergency.console import router as emergency_console_router
from trustdesk.http import limits, log_redaction, observability, openapi, problems
from trustdesk.legal.api import discovery_router
from trustdesk.legal.api import registry_router as agency_router
from trustdesk.legal.api import router as lawful_requests_router
from trustdesk.legal.console_pages import router as requests_console_router
from trustdesk.legal.disclosure.api import router as legal_disclosure_router
from trustdesk.legal.disclosure.pages import console_router as disclosure_console_router
from trustdesk.legal.disclosure.pages import portal_router as disclosure_portal_router
from trustdesk.legal.portal import router as portal_router
from trustdesk.platform.matrix.api import router as matrix_connector_router
from trustdesk.safety.banks.api import router as banks_router
from trustdesk.safety.banks.console import router as banks_console_router
from trustdesk.safety.enforcement.api import router as enforcement_router
from trustdesk.safety.pipeline.api import router as pipeline_router
from trustdesk.safety.pipeline.console import router as pipeline_console_router
from trustdesk.safety.reports.api import router as notices_router
from trustdesk.safety.reports.public import router as public_safety_router
from trustdesk.safety.review.api import router as review_router
from trustdesk.safety.review.console import router as review_console_router
from trustdesk.safety.signals import index as index_kernels
from trustdesk.transparency.reports.pages import console_router as transparency_console_router
from trustdesk.transparency.reports.pages import public_router as transparency_public_router
from trustdesk.web.audit import router as audit_router
from trustdesk.web.console.staff import router as staff_console_router
from trustdesk.web.console.views import router as console_router
from trustdesk.web.container import Container, build_container
from trustdesk.web.identity import router as identity_router

STATIC = Path(__file__).parent / "static"
API_ROUTERS: list[APIRouter] = [identity_router, audit_router, matrix_connector_router, pipeline_router]
API_ROUTERS += [lawful_requests_router, agency_router, banks_router]
API_ROUTERS += [notices_router, review_router, enforcement_router]
API_ROUTERS += [legal_disclosure_router]
API_ROUTERS += [emergency_router]


def create_app(settings: Settings, *, container: Container | None = None) -> FastAPI:
    settings.check_production()
    index_kernels.warm_up()  # compile once at start, not inside the first lookup's time limit
    container = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sweep = emergency_lane.sweep_in_background(container, every_s=settings.emergency_sweep_s)  # 0 in tests
        checkpoints = audit_checkpoints.Schedule.start_for(container, every_s=settings.audit_checkpoint_every_s)  # 0 in tests
        yield
        if sweep is not None:
            sweep.stop()
        if checkpoints is not None:
            checkpoints.stop()
        container.cpu.close()
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
    limits.install(app, settings)  # before observability: inside it, so refusals carry the request id
    observability.install(app, metrics)
    problems.install(app)
    openapi.install(app)

    api = APIRouter(prefix="/api/v1")
    for router in API_ROUTERS:
        api.include_router(router)
    app.include_router(api)
    app.include_router(_health_router(container, metrics))
    app.include_router(console_router)
    app.include_router(banks_console_router)
    app.include_router(review_console_router)
    app.include_router(public_safety_router)
    app.include_router(pipeline_console_router)
    app.include_router(staff_console_router)
    app.include_router(requests_console_router)
    app.include_router(portal_router)
    app.include_router(disclosure_console_router)
    app.include_router(disclosure_portal_router)
    app.include_router(discovery_router)
    app.include_router(transparency_public_router)
    app.include_router(transparency_console_router)
    app.include_router(emergency_console_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    log_redaction.install(app)  # after the routes: its patterns are built from them
    return app


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
