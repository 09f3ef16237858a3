"""The review console's HTML pages (/console/review): queues, cases and bulk decisions
(`console.py`), and appeals, account records, preferences, the CyberTipline queue and DSA
database rejections (`console_records.py`, mounted by `console.py`)."""

from trustdesk.safety.review.pages.console import router as console_router

__all__ = ["console_router"]
