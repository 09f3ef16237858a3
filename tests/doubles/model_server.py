"""A self-hosted model server over real HTTP on loopback (by default speaking ROOST Pigeon's
`POST /v1/classify`, with its `GET /health`): the in-memory twin's `handle`
(trustdesk.safety.classifiers.memory) behind a socket, so a test drives `HttpClassifier`
through httpx, TCP and JSON exactly as in production."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from trustdesk.safety.classifiers.memory import InMemoryModelServer


@contextmanager
def serve_model(twin: InMemoryModelServer) -> Iterator[str]:
    """Serve `twin` on 127.0.0.1 (a free port); yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            if self.path == "/health":  # Pigeon's health check
                self._answer(200, b'{"status": "ok"}')
            else:
                self._answer(404, b'{"detail": "Not Found"}')

        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            if self.path.rstrip("/") != "/v1/classify":
                self._answer(404, b'{"detail": "Not Found"}')
                return
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, answer = twin.handle(body, {k.lower(): v for k, v in self.headers.items()})
            self._answer(status, answer)

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
