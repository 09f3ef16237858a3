"""Core's own HTML pages, which sit at the top because core imports no web framework: sign-in,
the dashboard and the audit log (`console.py`), staff accounts and tokens (`console_staff.py`)."""

from trustdesk.web.pages.console import router as console_router
from trustdesk.web.pages.console_staff import router as staff_console_router

__all__ = ["console_router", "staff_console_router"]
