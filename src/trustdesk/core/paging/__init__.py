"""Paging the on-call role: for emergencies (threat to life, a TCO one-hour order), for legal
deadlines about to be missed, for hash-bank floods and rule alerts. A port shared by every
domain, so it lives in core.

One `Pager` interface (port.py) with four implementations: a signed webhook and e-mail
through SMTP (adapters.py), an in-memory one for tests and one that writes to the log, the
embedded default (twins.py); `build_pager(settings)` picks one. The rota and escalation
(rota.py) are the same whatever the channel; the tables are in models.py.

Other domains call `page_on_call(...)`; the emergency lane's sweep (or `trustdesk emergency
run`) calls `escalate_due(...)` every few seconds."""

from __future__ import annotations

from trustdesk.core.paging.adapters import SmtpPager, WebhookPager, build_pager
from trustdesk.core.paging.models import LIVE_STATES, Page, PageDelivery, PageState, PageUrgency
from trustdesk.core.paging.port import PageMessage, Pager, PagingFailed, Recipient
from trustdesk.core.paging.rota import (
    DEFAULT_ESCALATE_AFTER,
    DEFAULT_MAX_ROUNDS,
    acknowledge,
    escalate_due,
    live_page_for,
    next_level,
    on_call_rota,
    page_on_call,
    resolve_for,
)
from trustdesk.core.paging.twins import InMemoryPager, LogPager

__all__ = [
    "DEFAULT_ESCALATE_AFTER",
    "DEFAULT_MAX_ROUNDS",
    "LIVE_STATES",
    "InMemoryPager",
    "LogPager",
    "Page",
    "PageDelivery",
    "PageMessage",
    "PageState",
    "PageUrgency",
    "Pager",
    "PagingFailed",
    "Recipient",
    "SmtpPager",
    "WebhookPager",
    "acknowledge",
    "build_pager",
    "escalate_due",
    "live_page_for",
    "next_level",
    "on_call_rota",
    "page_on_call",
    "resolve_for",
]
