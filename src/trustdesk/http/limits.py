"""What one request may make the server read, enforced while it is read.

A pure ASGI middleware in front of every route. It sorts a request into a body class by its
route and content type (JSON, form, upload, attachment), refuses a declared Content-Length
over that class's limit before reading a byte, counts the bytes of a body as they arrive
(chunked bodies too) and answers 413 as soon as the count passes the limit, so the rest is
never read. Multipart parts and form fields are counted in the same pass, without parsing.

A JSON body is read whole (it is parsed whole anyway, and it is small by the limit above)
and checked before any parser sees it: valid UTF-8, and on JSON routes its nesting depth
(a thousand nested arrays would otherwise end in a RecursionError) and its longest string;
upload and attachment routes carry their files as long base64 strings and are held by their
size limit alone. An API route refuses a body that is not JSON (or, for the file routes, a
form) with 415 rather than guessing.

Every refusal is an RFC 9457 problem (`problems.problem`). Image pixels, archive sizes and
batch sizes are checked where those are decoded; see docs/configuration.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trustdesk.core.settings import Settings
from trustdesk.http import problems


class BodyClass(StrEnum):
    JSON = "json"
    FORM = "form"
    UPLOAD = "upload"
    ATTACHMENT = "attachment"


def _routes(*templates: str) -> re.Pattern[str]:
    """One pattern for "METHOD /path/{param}" templates (a parameter is one path segment)."""
    alternatives = []
    for template in templates:
        method, path = template.split(" ", 1)
        alternatives.append(method + " " + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(path)))
    return re.compile("^(?:" + "|".join(alternatives) + ")/?$")


# Routes that take files, or bulk loads of hashes, and so a larger body. A route not named
# here gets the JSON (or form) limit: a new upload route is refused until it is listed.
UPLOAD_ROUTES = _routes(
    "POST /api/v1/banks/{bank_id}/import",
    "POST /api/v1/banks/{bank_id}/entries",
    "POST /api/v1/match/hash",
    "POST /api/v1/match/lookup",
    "POST /api/v1/connector/matrix/media-check",
    "POST /console/safety/banks/lookup",
    "POST /console/safety/banks/{bank_id}/import",
)
# Lawful requests with their attachments (base64 in JSON on the API, multipart in the portal).
ATTACHMENT_ROUTES = _routes("POST /api/v1/lawful-requests", "POST /portal/requests", "POST /console/requests/new")
API_PREFIX = "/api/"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass(frozen=True, slots=True)
class Limits:
    json_bytes: int
    form_bytes: int
    upload_bytes: int
    attachment_bytes: int
    form_parts: int
    json_depth: int
    json_string_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            json_bytes=settings.request_max_json_bytes,
            form_bytes=settings.request_max_form_bytes,
            upload_bytes=settings.request_max_upload_bytes,
            attachment_bytes=settings.request_max_attachment_bytes,
            form_parts=settings.request_max_form_parts,
            json_depth=settings.json_max_depth,
            json_string_bytes=settings.json_max_string_bytes,
        )

    def bytes_for(self, body: BodyClass) -> int:
        return {
            BodyClass.JSON: self.json_bytes,
            BodyClass.FORM: self.form_bytes,
            BodyClass.UPLOAD: self.upload_bytes,
            BodyClass.ATTACHMENT: self.attachment_bytes,
        }[body]


class Refused(HTTPException):
    """Raised from `receive` when a body passes a limit. An HTTPException, so that FastAPI's
    body parsing lets it through instead of turning it into a 400; the middleware answers."""

    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        super().__init__(status_code=status, detail=detail)
        self.slug, self.title = slug, title


def too_large(what: str, limit: int, setting: str) -> Refused:
    return Refused(
        413, "too-large", "Request too large", f"The {what} is over the limit of {limit:,} bytes (TRUSTDESK_{setting.upper()})."
    )


def classify(method: str, path: str, media_type: str) -> BodyClass:
    route = f"{method} {path}"
    if ATTACHMENT_ROUTES.match(route):
        return BodyClass.ATTACHMENT
    if UPLOAD_ROUTES.match(route):
        return BodyClass.UPLOAD
    return BodyClass.FORM if media_type in FORM_TYPES else BodyClass.JSON


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def json_shape_problem(body: bytes, *, max_depth: int, max_string: int) -> str | None:
    """Why a JSON text is refused before parsing (too deep, a string too long), or None.

    Vectorised over the bytes (numpy), a few passes at memory speed: the quotes that are not
    escaped delimit the strings, and the depth is the highest running count of the brackets
    outside them. UTF-8 continuation bytes never look like ASCII, so bytes are enough.
    Invalid JSON is left to the parser, which says what is wrong with it.
    """
    chars = np.frombuffer(body, np.uint8)
    quotes = np.flatnonzero(chars == 0x22)
    if len(quotes):
        quotes = quotes[_unescaped(chars, quotes)]
        opens, closes = quotes[0::2], quotes[1::2]
        longest = int((closes - opens[: len(closes)]).max()) - 1 if len(closes) else 0
        if longest > max_string:
            return f"A string in the JSON body is {longest:,} bytes long; the limit is {max_string:,} (TRUSTDESK_JSON_MAX_STRING_BYTES)."
    opening = (chars == 0x5B) | (chars == 0x7B)
    if np.count_nonzero(opening) <= max_depth:
        return None  # too few brackets to be too deep
    brackets = np.flatnonzero(opening | (chars == 0x5D) | (chars == 0x7D))
    if len(quotes):
        brackets = brackets[np.searchsorted(quotes, brackets) % 2 == 0]  # an even count of quotes before: outside strings
    steps = np.where(opening[brackets], 1, -1)
    if len(steps) and int(np.cumsum(steps).max()) > max_depth:
        return f"The JSON body is nested more than {max_depth} levels deep (TRUSTDESK_JSON_MAX_DEPTH)."
    return None


def _unescaped(chars: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """Which quotes end no escape: those after an even run of backslashes (usually none)."""
    keep = np.ones(len(quotes), dtype=bool)
    suspect = np.flatnonzero((quotes > 0) & (chars[np.maximum(quotes - 1, 0)] == 0x5C))
    if not len(suspect):
        return keep
    slashes = np.flatnonzero(chars == 0x5C)
    first_of_run = np.concatenate(([True], np.diff(slashes) != 1))
    run_start = np.maximum.accumulate(np.where(first_of_run, np.arange(len(slashes)), 0))
    last = np.searchsorted(slashes, quotes[suspect]) - 1  # the backslash just before each suspect quote
    keep[suspect] = (last - run_start[last] + 1) % 2 == 0
    return keep


def _boundary(content_type: str) -> bytes | None:
    match = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    return ("--" + match.group(1)).encode("latin-1") if match else None


class BodyReader:
    """One request's body as the app reads it: counted against its limit, its parts or
    fields counted, a JSON body buffered and checked before the app sees a byte of it."""

    def __init__(self, limits: Limits, receive: Receive, body: BodyClass, content_type: str) -> None:
        self.limits, self.receive, self.body = limits, receive, body
        self.limit = limits.bytes_for(body)
        self.media_type = content_type.split(";", 1)[0].strip().lower()
        self.read = 0
        self.marker = (
            _boundary(content_type)
            if self.media_type == "multipart/form-data"
            else (b"&" if self.media_type == "application/x-www-form-urlencoded" else None)
        )
        self.markers, self.tail = 0, b""
        self.pending: list[Message] | None = None

    async def __call__(self) -> Message:
        if self.pending is None and is_json(self.media_type):
            self.pending = [await self._whole_json()]
        if self.pending:
            return self.pending.pop()
        message = await self.receive()
        if message["type"] == "http.request":
            self._count(message.get("body", b""))
        return message

    def _count(self, chunk: bytes) -> None:
        self.read += len(chunk)
        if self.read > self.limit:
            raise too_large(f"{self.body} request body", self.limit, f"request_max_{self.body}_bytes")
        if self.marker is None or not chunk:
            return
        window = self.tail + chunk
        self.markers += window.count(self.marker) - self.tail.count(self.marker)
        self.tail = window[-(len(self.marker) - 1) :] if len(self.marker) > 1 else b""
        parts = self.markers - 1 if self.marker != b"&" else self.markers + 1  # the closing boundary is no part
        if parts > self.limits.form_parts:
            raise Refused(
                413,
                "too-large",
                "Request too large",
                f"The form has more than {self.limits.form_parts:,} parts or fields (TRUSTDESK_REQUEST_MAX_FORM_PARTS).",
            )

    async def _whole_json(self) -> Message:
        chunks: list[bytes] = []
        while True:
            message = await self.receive()
            if message["type"] != "http.request":
                return message  # a disconnect: the app sees it as such
            chunk = message.get("body", b"")
            self._count(chunk)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if not body.isascii():  # the common case costs one C scan; only the rest is decoded
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise Refused(
                    422, "invalid-input", "The input is not valid", f"The JSON body is not valid UTF-8 (byte {exc.start:,})."
                ) from None
        if self.body is not BodyClass.JSON:
            return {
                "type": "http.request",
                "body": body,
                "more_body": False,
            }  # files as long base64 strings: the size limit holds them
        reason = json_shape_problem(body, max_depth=self.limits.json_depth, max_string=self.limits.json_string_bytes)
        if reason is not None:
            raise Refused(422, "invalid-input", "The input is not valid", reason)
        return {"type": "http.request", "body": body, "more_body": False}


class RequestLimits:
    """The middleware. `install` puts it inside the request-id middleware, so that its
    problems carry the request's id."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        body = classify(scope["method"], scope["path"], media_type)
        refusal = self._refuse_early(scope["path"], headers, body, media_type)
        if refusal is not None:
            await self._answer(scope, send, refusal)
            return
        reader = BodyReader(self.limits, receive, body, content_type)
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, reader, watched_send)
        except Refused as late:
            if started:
                raise
            await self._answer(scope, send, late)

    def _refuse_early(self, path: str, headers: Headers, body: BodyClass, media_type: str) -> Refused | None:
        """A refusal that needs no byte of the body: a declared length over the limit, or an
        API route sent a body of a type it does not take."""
        length = headers.get("content-length")
        declared = int(length) if length is not None and length.isdigit() else None
        has_body = (declared or 0) > 0 or "chunked" in headers.get("transfer-encoding", "").lower()
        if path.startswith(API_PREFIX) and has_body and not self._accepts(body, media_type):
            wanted = (
                "multipart/form-data or application/x-www-form-urlencoded" if body is BodyClass.UPLOAD else "application/json"
            )
            return Refused(
                415,
                "unsupported-media-type",
                "Unsupported media type",
                f"This route takes {wanted}, not {media_type or 'a body without a Content-Type'}.",
            )
        limit = self.limits.bytes_for(body)
        if declared is not None and declared > limit:
            return too_large(f"{body} request body", limit, f"request_max_{body}_bytes")
        return None

    @staticmethod
    def _accepts(body: BodyClass, media_type: str) -> bool:
        if body is BodyClass.UPLOAD:
            return media_type in FORM_TYPES or is_json(media_type)  # bulk entries and matrix media are JSON
        return is_json(media_type)

    @staticmethod
    async def _answer(scope: Scope, send: Send, refusal: Refused) -> None:
        await answer(Request(scope), refusal)(scope, _nothing, send)


def answer(request: Request, refusal: Refused) -> Response:
    response = problems.problem(
        request, status=refusal.status_code, slug=refusal.slug, title=refusal.title, detail=refusal.detail
    )
    response.headers["Connection"] = "close"  # the rest of the body is not read
    return response


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


def install(app: FastAPI, settings: Settings) -> None:
    """The middleware, and the handler for a refusal raised while a route reads its body
    (the app's own HTTPException handler would otherwise answer it as a bare 413)."""

    async def _refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return answer(request, exc)

    app.add_exception_handler(Refused, _refused)
    app.add_middleware(RequestLimits, limits=Limits.of(settings))
