"""The tamper-evident audit chain: every state change is an entry, each chained by SHA-256 to
the one before, so an edit or deletion anywhere breaks verification from that entry on."""

from trustdesk.core.audit.service import Actor, record, verify

__all__ = ["Actor", "record", "verify"]
