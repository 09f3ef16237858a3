"""A worked example of the platform side of the webhook protocol: a small FastAPI app that
answers Trustdesk's signed calls from any `Platform` (the demo platform by default). A real
platform writes the same few things in its own stack: verify the signature on the raw body,
dispatch on the operation name, answer JSON, remember action answers by idempotency key.

The tests run it on loopback behind `WebhookPlatform` and hold it to the platform contract.
Run it by hand next to `trustdesk serve` with `platform = "webhook"` (docs/webhook.md):

    TD_WEBHOOK_SECRET=... python -m trustdesk.platform.webhook.example_server --port 8100"""

from __future__ import annotations

import argparse
import base64
import json
import os
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError, validate_call
from starlette.concurrency import run_in_threadpool

from trustdesk.core import signing
from trustdesk.core.clock import Clock, SystemClock
from trustdesk.core.errors import AuthenticationFailed
from trustdesk.platform.port import Platform, PlatformError
from trustdesk.platform.webhook import wire
from trustdesk.platform.webhook.wire import Operation


def _shape(operation: Operation, result: Any) -> Any:
    """The port method's return value as the wire's answer type."""
    if operation is Operation.GET_MEDIA:
        item, data = result
        return wire.MediaAnswer(media=item, data_b64=base64.b64encode(data).decode())
    if operation is Operation.FIND_ACCOUNT:
        return wire.FoundAccount(account=result)
    if operation in (Operation.LIST_MESSAGES, Operation.CHAT_CONTEXT):
        return wire.MessageList(messages=result)
    if operation is Operation.CATEGORIES_HELD:
        return wire.Categories(categories=sorted(result))
    return result


class IdempotencyCache:
    """Answers to actions by idempotency key, so a retried action answers what it first did.
    A real platform keeps these in its database for a day or so; memory does for the example."""

    def __init__(self) -> None:
        self._answers: dict[str, tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[int, Any] | None:
        with self._lock:
            return self._answers.get(key)

    def put(self, key: str, answer: tuple[int, Any]) -> None:
        with self._lock:
            self._answers[key] = answer


def create_example_app(
    platform: Platform, *, secret: bytes, clock: Clock | None = None, tolerance_s: int = signing.DEFAULT_TOLERANCE_S
) -> FastAPI:
    clock = clock or SystemClock()
    cache = IdempotencyCache()
    methods = {op: validate_call(getattr(platform, op.value)) for op in Operation}  # checks the arguments' types
    app = FastAPI(title="Example platform for the Trustdesk webhook connector")

    @app.post("/{operation}")
    async def operate(operation: str, request: Request) -> JSONResponse:
        raw = await request.body()
        try:  # 1. refuse anything not signed by Trustdesk within the tolerance
            signing.verify(
                secret=secret,
                body=raw,
                header=request.headers.get(signing.SIGNATURE_HEADER, ""),
                now=clock.now(),
                tolerance_s=tolerance_s,
            )
        except AuthenticationFailed as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        try:
            op = Operation(operation)
        except ValueError:
            return JSONResponse({"error": f"unknown operation {operation!r}"}, status_code=404)
        key = request.headers.get(wire.IDEMPOTENCY_HEADER) if op.is_action else None
        if key and (seen := cache.get(key)) is not None:  # 2. a retried action: the first answer
            return JSONResponse(seen[1], status_code=seen[0])
        status, body = await run_in_threadpool(_answer, methods[op], op, raw)  # the platform's I/O is blocking
        if key and status < 500:
            cache.put(key, (status, body))
        return JSONResponse(body, status_code=status)

    return app


def _answer(method: Callable[..., Any], op: Operation, raw: bytes) -> tuple[int, Any]:
    """3. call the platform with the body's fields as the port method's keyword arguments."""
    try:
        body = json.loads(raw)
        if not isinstance(body, dict):
            return 422, {"error": "the body must be a JSON object"}
        result = method(**body)
    except (ValueError, TypeError) as exc:  # ValidationError and JSONDecodeError are ValueErrors
        return 422, {"error": _first_error(exc)}
    except LookupError as exc:
        return 404, {"error": str(exc)}
    except PlatformError as exc:
        return 409, {"error": str(exc)}
    return 200, wire.encode(_shape(op, result))


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


def main() -> None:
    import uvicorn

    from trustdesk.platform.demo import DemoPlatform

    parser = argparse.ArgumentParser(description="Example platform for the Trustdesk webhook connector.")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--demo-db", default="sqlite:///var/demo-platform.db")
    args = parser.parse_args()
    secret = os.environ.get("TD_WEBHOOK_SECRET", "")
    if not secret:
        raise SystemExit("Set TD_WEBHOOK_SECRET to the secret shared with Trustdesk (TRUSTDESK_WEBHOOK_SECRET).")
    app = create_example_app(DemoPlatform.from_url(args.demo_db), secret=secret.encode())
    uvicorn.run(app, host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
