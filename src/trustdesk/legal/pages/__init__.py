"""The legal domain's HTML pages: the staff console (`console.py`, /console/requests) and the
authority portal (`portal.py`, /portal)."""

from trustdesk.legal.pages.console import router as console_router
from trustdesk.legal.pages.portal import router as portal_router

__all__ = ["console_router", "portal_router"]
