"""The legal domain's HTML pages: the staff console (`console.py`, /console/requests), the
authority portal (`portal.py`, /portal) and the public discovery page (`public.py`,
/lawful-requests)."""

from trustdesk.legal.pages.console import router as console_router
from trustdesk.legal.pages.portal import router as portal_router
from trustdesk.legal.pages.public import router as public_router

__all__ = ["console_router", "portal_router", "public_router"]
