"""POSTs the simulator's messages to a provider's WISP endpoints over mutual TLS, and records
each one sent in the ledger (so the server side knows the order)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from trustdesk_wispsim.ledger import Ledger
from trustdesk_wispsim.messages import Message, Order

CONTENT_TYPE = "application/xml"


def client_context(*, ca: Path, cert: Path | None, key: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


@dataclass
class Sender:
    """Sends to `base_url` (the provider's, e.g. https://127.0.0.1:8443): `POST
    {base_url}/eevidence/{path}`."""

    base_url: str
    ledger: Ledger
    http: httpx.Client

    @classmethod
    def open(
        cls, base_url: str, ledger: Ledger, *, ca: Path | None, cert: Path | None, key: Path | None, timeout: float = 30.0
    ) -> Sender:
        verify: ssl.SSLContext | bool = client_context(ca=ca, cert=cert, key=key) if ca is not None else True
        return cls(base_url.rstrip("/"), ledger, httpx.Client(verify=verify, timeout=timeout))

    def send(self, message: Message, order: Order | None = None, **facts: Any) -> httpx.Response:
        """POST one message; it is in the ledger before it leaves (a test that reads the
        ledger never misses an order the provider already has)."""
        record: dict[str, Any] = {
            "path": message.path,
            "transaction_id": message.transaction_id,
            "authorisation_id": message.authorisation_id,
            "kind": message.kind,
            **facts,
        }
        if order is not None:
            order = order.with_tasks()
            record |= {
                "priority": order.priority.value if order.priority else None,
                "task_ids": list(order.task_ids),
                "categories": [c.value for c in order.categories],
            }
        self.ledger.record_sent(record)
        response = self.http.post(
            f"{self.base_url}/eevidence/{message.path}", content=message.body, headers={"Content-Type": CONTENT_TYPE}
        )
        self.ledger.record_answer(
            transaction_id=message.transaction_id, path=message.path, status=response.status_code, body=response.content
        )
        return response

    def close(self) -> None:
        self.http.close()
