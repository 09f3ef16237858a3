"""The privacy room's routers, mounted by the app factory (`web/app.py`): `API_ROUTERS` under
/api/v1, `PAGE_ROUTERS` at the root."""

from fastapi import APIRouter

from trustdesk.privacy.api import router as privacy_router
from trustdesk.privacy.pages import router as privacy_console_router

API_ROUTERS: list[APIRouter] = [privacy_router]
PAGE_ROUTERS: list[APIRouter] = [privacy_console_router]
