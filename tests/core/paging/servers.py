"""The far ends the real pagers deliver to, on loopback: an HTTP receiver for the webhook
pager (the standard library's server in a thread) and an SMTP server for the SMTP pager
(aiosmtpd). Both record what arrived and can be told to refuse."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message as Mail
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered


@dataclass
class WebhookReceiver:
    """Answers each POST with the next of `answers`, then `status`; keeps every request."""

    url: str = ""
    status: int = 204
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        status = self.answers.pop(0) if self.answers else self.status
        self.received.append(Received(headers=headers, body=body, status=status))
        return status


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(receiver.answer(dict(self.headers.items()), body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads `received`
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/page"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class SmtpInbox(Message):
    """Keeps every mail; refuses, at RCPT, the addresses in `refuse`."""

    def __init__(self) -> None:
        super().__init__()
        self.mails: list[Mail] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:  # noqa: N802 - aiosmtpd's hook name
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def handle_message(self, message: Mail) -> None:
        self.mails.append(message)


@contextmanager
def smtp_server() -> Iterator[tuple[SmtpInbox, int]]:
    inbox, port = SmtpInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()
