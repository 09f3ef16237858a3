"""Schemathesis over the whole OpenAPI document: for every operation, a few generated requests
(valid and invalid) as three callers: an admin's token, a portal officer's agency token and
no one. No answer may be a server error, and every answer must be one the document declares
(status code, media type, body schema, headers).

Bounded to fit CI: a handful of examples an operation, derandomized (the same requests every
run), no shrinking. Every request goes through the suite's `client`, inside the test's
rolled-back transaction, so whatever the requests create is gone afterwards.

`-m conformance` selects it."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import TEST_ACTOR, TEST_GRANTOR
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import ROLE_PERMISSIONS, Permission, Role
from trustdesk.legal import registry
from trustdesk.legal.instruments import IssuerKind

pytestmark = pytest.mark.conformance

EXAMPLES = 4  # per operation, mode and caller
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@dataclass
class Tally:
    requests: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)  # "METHOD /path" -> what failed
    by_check: Counter[str] = field(default_factory=Counter)

    def failed(self, name: str, problems: list[str]) -> None:
        self.failures.setdefault(name, []).extend(problems)
        self.by_check.update(p.split(":", 1)[0] for p in problems)


def _callers(db, clock, *, label: str) -> dict[str, dict[str, str]]:
    """An admin's token (every scope the role holds), an agency's token, and no credentials."""
    code = "conf-" + hashlib.sha256(label.encode()).hexdigest()[:12]
    with db.transaction() as session:
        admin, _ = identity.create_token(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            grantor=TEST_GRANTOR,
            name=f"{code}-admin",
            scopes=sorted(ROLE_PERMISSIONS[Role.ADMIN]),
            days=30,
        )
        agency = registry.create_agency(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            code=code,
            name=f"Police {code}",
            country="FR",
            kind=IssuerKind.POLICE,
            email_domains=["police.example"],
            callback_phone="+33 1 23 45 67 89",
            callback_source="the ministry's directory",
        )
        officer, _ = identity.create_token(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            grantor=TEST_GRANTOR,
            name=f"{code}-officer",
            scopes=[Permission.PORTAL_SUBMIT],
            days=30,
            agency_id=agency.id,
        )
    return {"admin": {"Authorization": f"Bearer {admin}"}, "officer": {"Authorization": f"Bearer {officer}"}, "anonymous": {}}


def _request(client, case: schemathesis.Case, headers: dict[str, str]) -> httpx.Request:
    """The generated request, built for the suite's TestClient (which runs the app on its own
    event loop, the one its lifespan started)."""
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url=str(client.base_url), headers=headers)
    data = kwargs.pop("data", None)
    if isinstance(data, str | bytes):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    cookies = kwargs.pop("cookies", None) or {}
    if cookies:
        kwargs["headers"]["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    for unused in ("auth", "timeout", "verify", "allow_redirects", "stream", "cert", "proxies"):
        kwargs.pop(unused, None)
    request = client.build_request(**kwargs)
    request.read()  # a multipart body is a stream; the checks read what was sent
    return request


def _problems(case: schemathesis.Case, response: httpx.Response) -> list[str]:
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:  # every failed check of the response
        failures: Sequence[Exception] = group.exceptions
    except Failure as failure:
        failures = [failure]
    else:
        return []
    return [f"{type(f).__name__}: {str(f).splitlines()[0] if str(f) else ''} [{response.status_code}]" for f in failures]


def _run(client, operation: Any, mode: schemathesis.GenerationMode, headers: dict[str, str], tally: Tally) -> None:
    name = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case: schemathesis.Case) -> None:
        try:
            request = _request(client, case, headers)
        except (TypeError, ValueError, AttributeError):  # a negative case no HTTP client can send (an integer as a file)
            return
        tally.requests += 1
        try:
            response = client.send(request, follow_redirects=False)
        except Exception as exc:  # the TestClient re-raises what the app did not handle: a 500
            tally.failed(name, [f"ServerError: {type(exc).__name__}: {exc} ({case.as_curl_command()[:300]})"])
            return
        problems = _problems(case, response)
        if problems:
            tally.failed(name, problems)

    try:
        one()
    except Unsatisfiable:  # an operation that takes no input has no invalid request to make
        assert mode is schemathesis.GenerationMode.NEGATIVE, name


def test_every_operation_answers_as_the_document_says(client, db, clock) -> None:
    schema = schemathesis.openapi.from_dict(client.app.openapi())
    operations = [result.ok() for result in schema.get_all_operations()]
    tally = Tally()
    for operation in operations:
        # fresh callers for each operation: one that revokes tokens may well revoke these
        for headers in _callers(db, clock, label=f"{operation.method}{operation.path}").values():
            for mode in MODES:
                _run(client, operation, mode, headers, tally)
    summary = "\n".join(f"{name}: {sorted(set(problems))[:4]}" for name, problems in sorted(tally.failures.items()))
    print(f"\n{len(operations)} operations, {tally.requests} requests, failures by check: {dict(tally.by_check)}")
    assert not tally.failures, f"{len(tally.failures)} operations answered outside the document:\n{summary}"
