"""The platform domain's routers, mounted by the app factory (`web/app.py`): `API_ROUTERS`
under /api/v1, `PAGE_ROUTERS` at the root, each in this order."""

from fastapi import APIRouter

from trustdesk.platform.matrix.api import router as matrix_connector_router

API_ROUTERS: list[APIRouter] = [matrix_connector_router]
PAGE_ROUTERS: list[APIRouter] = []
