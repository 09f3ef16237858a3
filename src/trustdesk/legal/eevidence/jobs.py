"""The e-Evidence channel's scheduled jobs (core/jobs), listed by the legal room's jobs.py:
inbound messages whose processing failed are processed again, the outbox is sent, and
enforcing-State windows that ended without a decision are recorded as lapsed."""

from __future__ import annotations

from trustdesk.core.jobs import Job, interval_of
from trustdesk.core.urls import Audience, base
from trustdesk.http.container import Container
from trustdesk.legal.eevidence import inbox, outbox, service
from trustdesk.legal.eevidence.identities import Identities

INBOX_RETRY = "legal.eevidence_inbox"
OUTBOX_SEND = "legal.eevidence_outbox"
EA_LAPSE = "legal.eevidence_ea_lapse"


def jobs_for(container: Container, *, transport: outbox.Transport | None = None) -> list[Job]:
    settings, every = container.settings, container.settings.jobs_every_s
    identities = Identities.from_settings(settings.wisp_identities)
    sender = transport or outbox.HttpxTransport()

    def context() -> service.Context:
        return service.Context(
            clock=container.clock,
            platform=container.platform,
            blobs=container.blobs,
            pager=container.pager,
            base_url=base(settings, Audience.CONSOLE),
            identities=identities,
        )

    def retry_inbox() -> str:
        return f"{inbox.retry_pending(container.db, ctx=context())} stored message(s) processed again"

    def send_outbox() -> str:
        sent = outbox.send_due(
            container.db,
            identities=identities,
            transport=sender,
            clock=container.clock,
            max_attempts=settings.wisp_outbox_max_attempts,
            first_backoff_s=settings.wisp_outbox_backoff_s,
        )
        return f"{len(sent)} outbound WISP message(s) sent"

    def lapse() -> str:
        with container.db.transaction() as session:
            return f"{len(service.lapse_windows(session, clock=container.clock))} enforcing-State window(s) lapsed"

    if not identities:
        return []
    return [
        Job(
            INBOX_RETRY,
            interval_of(every, INBOX_RETRY, 30.0),
            retry_inbox,
            "Process again the stored WISP messages whose processing failed.",
        ),
        Job(
            OUTBOX_SEND,
            interval_of(every, OUTBOX_SEND, 10.0),
            send_outbox,
            "Send the due outbound WISP calls (mutual TLS, retries with backoff).",
        ),
        Job(
            EA_LAPSE,
            interval_of(every, EA_LAPSE, 300.0),
            lapse,
            "Record as lapsed each enforcing-State window that ended without a decision.",
        ),
    ]
