"""The OpenAPI document, told the whole truth: FastAPI lists an operation's success and its
validation error; this adds what else it may answer (RFC 9457 problems, see problems.py), the
credentials the API takes, and which operations need them.

Which problems an operation declares follows from the route itself: one that resolves the
caller (`current_principal`, `require(...)`) may answer 401 and 403; one that takes the caller
only if shown (`optional_principal`) may answer 403 (a console form without its CSRF token);
one with a path parameter or a body may name something that is not there (404); one that
changes state may meet a conflict (409), and may send too much of a body (413), the wrong kind
(415) or an unreadable form (400), whether or not it declares one. Every operation may answer
422 (bad input), 500 and 503 (a dependency, such as the bus or an exchange, is down)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from trustdesk.http import deps
from trustdesk.http.deps import SESSION_COOKIE, current_principal, optional_principal, require, require_outside_transaction
from trustdesk.http.problems import MEDIA_TYPE

BEARER, COOKIE = "bearerToken", "consoleSession"
SECURITY_SCHEMES = {
    BEARER: {"type": "http", "scheme": "bearer", "description": "An API token: `Authorization: Bearer <token>`."},
    COOKIE: {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "A signed-in console session; a request that changes state also sends its `X-CSRF-Token`.",
    },
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details. Some problems add members of their own (`errors`, `field`, `permission`...).",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["location", "message"],
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
DESCRIPTIONS = {
    400: "The body could not be read (a form or upload that does not parse).",
    401: "No credentials, or ones that are unknown, expired or revoked.",
    403: "The caller lacks the permission, or a console form came without its CSRF token.",
    404: "Something the request names does not exist (or is not the caller's to see).",
    409: "The request conflicts with the current state.",
    413: "The body is over its size limit.",
    415: "The body is not of a media type this operation takes.",
    422: "The input is not valid.",
    500: "An error on our side; nothing was changed.",
    503: "A dependency (the bus, an exchange, the matcher's memory) is unavailable.",
}
STATE_CHANGING = {"post", "put", "patch", "delete"}
REQUIRING = (require, require_outside_transaction)  # dependency factories that refuse an anonymous caller


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /api/v1/openapi.json) return the completed document.
    FastAPI caches its document; it is completed once, in place."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        document = base()
        if "Problem" not in document.get("components", {}).get("schemas", {}):
            complete(document, app.routes)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path, method, route in _operations(routes):
        operation = document["paths"].get(path, {}).get(method)
        if operation is not None:
            _declare(operation, method, route)
    _drop_unused(document, ("HTTPValidationError", "ValidationError"))


def _operations(routes: Sequence[BaseRoute]) -> Iterator[tuple[str, str, APIRoute]]:
    for context in iter_route_contexts(routes):
        route, path = context.original_route, context.path_format
        if isinstance(route, APIRoute) and context.include_in_schema and path is not None:
            for method in context.methods or ():
                yield path, method.lower(), route


def _declare(operation: dict[str, Any], method: str, route: APIRoute) -> None:
    caller = _caller(route.dependant)
    if caller is current_principal:
        operation["security"] = [{BEARER: []}, {COOKIE: []}]
    elif caller is optional_principal:
        operation["security"] = [{BEARER: []}, {COOKIE: []}, {}]  # {}: anonymous callers too
    responses = operation.setdefault("responses", {})
    for status in _problem_statuses(operation, method, caller):
        if status == 422 or str(status) not in responses:  # FastAPI's own 422 is not what the API sends
            responses[str(status)] = _problem_response(status)


def _problem_statuses(operation: dict[str, Any], method: str, caller: Callable[..., Any] | None) -> list[int]:
    has_body = "requestBody" in operation
    has_path = any(p.get("in") == "path" for p in operation.get("parameters", []))
    statuses = [422, 500, 503]
    if caller is current_principal:
        statuses += [401, 403]
    elif caller is optional_principal:
        statuses += [403]
    if has_path or has_body:
        statuses.append(404)
    if method in STATE_CHANGING:  # the request limits read these methods' bodies, declared or not
        statuses += [400, 409, 413, 415]
    return sorted(statuses)


def _problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}}
    return response


def _caller(dependant: Dependant) -> Callable[..., Any] | None:
    """`current_principal` when the route needs a caller, `optional_principal` when it takes an
    anonymous one too, None when it never asks who is calling."""
    found = [d.call for d in _walk(dependant)]
    if any(call is current_principal or _made_by(call, REQUIRING) for call in found):
        return current_principal
    return optional_principal if optional_principal in found else None


def _made_by(call: Callable[..., Any] | None, factories: Sequence[Callable[..., Any]]) -> bool:
    """Whether `call` is the dependency one of `factories` returns (`require(...)`'s closure)."""
    outer = getattr(call, "__qualname__", "").partition(".<locals>.")[0]
    return getattr(call, "__module__", None) == deps.__name__ and outer in {f.__name__ for f in factories}


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def _drop_unused(document: dict[str, Any], names: Sequence[str]) -> None:
    """FastAPI's own validation-error shapes, no longer referenced once every 422 is a problem."""
    schemas = document["components"]["schemas"]
    dropped = {name: schemas.pop(name) for name in names if name in schemas}
    text = json.dumps(document)
    schemas.update({name: schema for name, schema in dropped.items() if f"#/components/schemas/{name}" in text})
