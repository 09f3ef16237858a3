"""The legal domain's routers, mounted by the app factory (`web/app.py`): `API_ROUTERS`
under /api/v1, `PAGE_ROUTERS` at the root, each in this order."""

from fastapi import APIRouter

from trustdesk.legal.api import discovery_router
from trustdesk.legal.api import registry_router as agency_router
from trustdesk.legal.api import router as lawful_requests_router
from trustdesk.legal.disclosure.api import authority_router as preservation_router
from trustdesk.legal.disclosure.api import delivery_router
from trustdesk.legal.disclosure.api import router as legal_disclosure_router
from trustdesk.legal.disclosure.pages import console_router as disclosure_console_router
from trustdesk.legal.disclosure.pages import portal_router as disclosure_portal_router
from trustdesk.legal.pages import console_router as requests_console_router
from trustdesk.legal.pages import portal_router, public_router

API_ROUTERS: list[APIRouter] = [
    lawful_requests_router,
    agency_router,
    legal_disclosure_router,
    delivery_router,
    preservation_router,
]
PAGE_ROUTERS: list[APIRouter] = [
    requests_console_router,
    portal_router,
    disclosure_console_router,
    disclosure_portal_router,
    discovery_router,
    public_router,
]
