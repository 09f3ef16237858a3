"""The OpenAPI document tells the truth about the API: integer ids are bounded and a larger
number is bad input, not a server error; every operation declares its problem responses and
the credentials it takes; a 405 says which methods the path allows."""

from __future__ import annotations

import re
import tempfile
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from trustdesk.core.identity.permissions import Permission
from trustdesk.core.settings import load_settings
from trustdesk.web.app import create_app

TOO_BIG = "99999999999999999999"  # > 2**63 - 1: no database column holds it
PAST_INT4 = str(2**31)  # ids are INTEGER columns: 32-bit on PostgreSQL, where even a lookup by this fails


@cache
def _routes() -> tuple[RouteContext, ...]:
    """Every route of the app, API and pages (collected once, from an app on a throwaway database)."""
    data_dir = Path(tempfile.mkdtemp(prefix="trustdesk-routes-"))
    app = create_app(load_settings(data_dir=data_dir, database_url="sqlite://", session_cookie_secure=False))
    return tuple(r for r in iter_route_contexts(app.routes) if isinstance(r.original_route, APIRoute))


def _int_params(route: RouteContext, where: str) -> list[str]:
    dependant = route.original_route.dependant
    params = dependant.path_params if where == "path" else dependant.query_params
    return [p.name for p in params if p.field_info.annotation in (int, int | None)]


def _calls(value: str) -> list[tuple[str, str, str]]:
    """(method, url, the parameter set to `value`) for every integer path or query parameter of every route."""
    calls = []
    for route in _routes():
        path_ints = set(_int_params(route, "path"))
        ok_path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m, ints=path_ints: "1" if m[1] in ints else "x", route.path_format)
        for method in sorted(route.methods - {"HEAD"}):
            for name in sorted(path_ints):
                url = re.sub(
                    r"\{(\w+)(:\w+)?\}",
                    lambda m, n=name, ints=path_ints: value if m[1] == n else ("1" if m[1] in ints else "x"),
                    route.path_format,
                )
                calls.append((method, url, name))
            for name in _int_params(route, "query"):
                calls.append((method, f"{ok_path}?{name}={value}", name))
    return calls


@pytest.fixture
def admin_headers(staff) -> dict[str, str]:
    """A token with every scope there is, so that each route gets past its permission check."""
    return {"Authorization": f"Bearer {staff.token(*Permission)}"}


def test_an_integer_beyond_64_bits_is_bad_input_not_a_server_error(client, admin_headers, subtests) -> None:
    """Every integer path or query parameter of every route, API and pages (one app for all:
    building one per call would take minutes)."""
    calls = _calls(TOO_BIG)
    assert len(calls) > 50  # the routes were found
    for method, url, param in calls:
        with subtests.test(msg=f"{method} {url}"):
            response = client.request(method, url, headers=admin_headers, json={}, follow_redirects=False)
            allowed = (404, 422) if url.startswith("/api/") else range(300, 500)  # a page may send a non-officer to sign in
            assert response.status_code in allowed, f"{method} {url} ({param}): {response.status_code} {response.text[:200]}"
    for method, url, param in _calls(PAST_INT4):  # beyond PostgreSQL's INTEGER; the audit's BIGINT seq takes it
        with subtests.test(msg=f"{method} {url}"):
            response = client.request(method, url, headers=admin_headers, json={}, follow_redirects=False)
            assert response.status_code < 500, f"{method} {url} ({param}): {response.status_code} {response.text[:200]}"


def test_every_integer_parameter_in_the_document_is_bounded(client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    unbounded = [
        f"{method.upper()} {path} {p['name']}"
        for path, operations in doc["paths"].items()
        for method, op in operations.items()
        for p in op.get("parameters", [])
        if p["schema"].get("type") == "integer" and "maximum" not in p["schema"]
    ]
    assert unbounded == []


def test_a_method_the_path_does_not_allow_is_a_405_that_says_which_are_allowed(client) -> None:
    response = client.delete("/api/v1/me")
    assert response.status_code == 405 and response.headers["content-type"] == "application/problem+json"
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET"}
    assert response.json()["status"] == 405


def _document(client) -> dict:
    return client.get("/api/v1/openapi.json").json()


def _operations(doc: dict):
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            yield f"{method.upper()} {path}", op


def test_every_operation_declares_problem_responses(client) -> None:
    doc = _document(client)
    problem_ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for name, op in _operations(doc):
        for status in ("422", "500"):
            assert op["responses"][status]["content"] == {"application/problem+json": problem_ref}, name
        if "requestBody" in op or not name.startswith("GET"):  # the request limits read any POST's body
            assert {"400", "413", "415"} <= op["responses"].keys(), name
    assert "HTTPValidationError" not in str(doc)  # FastAPI's 422 shape is not what the API sends


def test_the_problem_schema_matches_what_the_api_sends(client) -> None:
    schema = _document(client)["components"]["schemas"]["Problem"]
    unauthenticated = client.get("/api/v1/me")
    invalid = client.post("/api/v1/notices", json={})
    not_allowed = client.delete("/api/v1/me")
    for response in (unauthenticated, invalid, not_allowed):
        jsonschema.validate(response.json(), schema)
        assert set(schema["required"]) <= response.json().keys()


def test_the_document_names_the_credentials_and_who_needs_them(client) -> None:
    doc = _document(client)
    schemes = doc["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["bearerToken"].items()
    assert {"type": "apiKey", "in": "cookie", "name": "td_session"}.items() <= schemes["consoleSession"].items()
    ops = dict(_operations(doc))
    assert ops["GET /api/v1/me"]["security"] == [{"bearerToken": []}, {"consoleSession": []}]
    assert {} in ops["POST /api/v1/notices"]["security"]  # anyone may send a notice; a trusted flagger with its token
    assert "security" not in ops["GET /api/v1/report-reasons"] and "401" not in ops["GET /api/v1/report-reasons"]["responses"]
    assert (
        ops["POST /api/v1/banks/{bank_id}/import"]["security"] == ops["GET /api/v1/me"]["security"]
    )  # require_outside_transaction
    for name, op in ops.items():
        assert ("401" in op["responses"]) == (op.get("security", [{}])[-1] != {}), name


def _unbounded_integers(schema: dict, schemas: dict, where: str, seen: frozenset[str] = frozenset()):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name not in seen:
            yield from _unbounded_integers(schemas[name], schemas, name, seen | {name})
        return
    if schema.get("type") == "integer" and "maximum" not in schema:
        yield where
    for key, sub in schema.get("properties", {}).items():
        yield from _unbounded_integers(sub, schemas, f"{where}.{key}", seen)
    for sub in [schema.get("items"), schema.get("additionalProperties"), *schema.get("anyOf", []), *schema.get("allOf", [])]:
        if isinstance(sub, dict):
            yield from _unbounded_integers(sub, schemas, where, seen)


def test_every_integer_in_a_request_body_is_bounded(client) -> None:
    doc = _document(client)
    unbounded = {
        where
        for _, op in _operations(doc)
        for content in op.get("requestBody", {}).get("content", {}).values()
        for where in _unbounded_integers(content.get("schema", {}), doc["components"]["schemas"], "body")
    }
    assert sorted(unbounded) == []


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (
            "/api/v1/lawful-requests",
            {
                "instrument": "eu_epoc",
                "categories": ["subscriber"],
                "elements": {},
                "targets": [{"value": "@x"}],
                "agency_id": int(TOO_BIG),
            },
        ),
        (
            "/api/v1/connector/matrix/events",
            {
                "events": [
                    {
                        "event_id": "$e1",
                        "room_id": "!r:x",
                        "sender": "@a:x",
                        "type": "m.room.message",
                        "origin_server_ts": int(TOO_BIG),
                        "content": {},
                    }
                ]
            },
        ),
        (
            "/api/v1/connector/matrix/events",
            {
                "events": [
                    {
                        "event_id": "$e1",
                        "room_id": "!r:x",
                        "sender": "@a:x",
                        "type": "m.room.message",
                        "origin_server_ts": 10**15,
                        "content": {},
                    }
                ]
            },
        ),  # past year 9999
    ],
)
def test_an_out_of_range_integer_in_a_body_is_bad_input(client, admin_headers, url, body) -> None:
    response = client.post(url, json=body, headers=admin_headers)
    assert response.status_code == 422, response.text


def test_answers_that_are_not_json_or_not_problems_are_declared_as_sent(client, monkeypatch) -> None:
    ops = dict(_operations(_document(client)))
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].split(";")[0] in ops["GET /metrics"]["responses"]["200"]["content"]
    assert set(ops["GET /api/v1/banks/{bank_id}/export"]["responses"]["200"]["content"]) == {"text/csv", "text/plain"}

    def unreachable() -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(client.app.state.container.db, "ping", unreachable)
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.headers["content-type"] in ops["GET /readyz"]["responses"]["503"]["content"]


def test_a_route_that_reads_its_body_itself_still_declares_it(client) -> None:
    ops = dict(_operations(_document(client)))
    assert "application/json" in ops["POST /api/v1/pipeline/events"]["requestBody"]["content"]
