"""The emergency domain's routers, mounted by the app factory (`web/app.py`): `API_ROUTERS`
under /api/v1, `PAGE_ROUTERS` at the root, each in this order."""

from fastapi import APIRouter

from trustdesk.emergency.api import router as emergency_router
from trustdesk.emergency.pages import router as emergency_console_router

API_ROUTERS: list[APIRouter] = [emergency_router]
PAGE_ROUTERS: list[APIRouter] = [emergency_console_router]
