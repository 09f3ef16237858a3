"""The safety domain's routers, mounted by the app factory (`web/app.py`): `API_ROUTERS`
under /api/v1, `PAGE_ROUTERS` at the root, each in this order."""

from fastapi import APIRouter

from trustdesk.safety.banks.api import router as banks_router
from trustdesk.safety.banks.pages import router as banks_console_router
from trustdesk.safety.connector import router as matrix_connector_router
from trustdesk.safety.enforcement.api import router as enforcement_router
from trustdesk.safety.pipeline.api import router as pipeline_router
from trustdesk.safety.pipeline.pages import router as pipeline_console_router
from trustdesk.safety.quality.api import router as quality_router
from trustdesk.safety.quality.pages import router as quality_console_router
from trustdesk.safety.reports.api import router as notices_router
from trustdesk.safety.reports.pages import router as public_safety_router
from trustdesk.safety.review.api import router as review_router
from trustdesk.safety.review.pages import console_router as review_console_router

API_ROUTERS: list[APIRouter] = [
    matrix_connector_router,
    pipeline_router,
    banks_router,
    notices_router,
    review_router,
    enforcement_router,
    quality_router,
]
PAGE_ROUTERS: list[APIRouter] = [
    banks_console_router,
    review_console_router,
    quality_console_router,
    public_safety_router,
    pipeline_console_router,
]
