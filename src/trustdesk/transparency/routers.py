"""The transparency domain's routers, mounted by the app factory (`web/app.py`):
`API_ROUTERS` under /api/v1, `PAGE_ROUTERS` at the root, each in this order."""

from fastapi import APIRouter

from trustdesk.transparency.reports.pages import console_router as transparency_console_router
from trustdesk.transparency.reports.pages import public_router as transparency_public_router

API_ROUTERS: list[APIRouter] = []
PAGE_ROUTERS: list[APIRouter] = [transparency_public_router, transparency_console_router]
