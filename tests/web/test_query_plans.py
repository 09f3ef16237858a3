"""Pages and list APIs that hold at a year's size (issue #19): every query that a console page
or a list API sends to a high-volume table has an index to use. Each page is requested
through the real app on PostgreSQL; every SELECT it sends is captured and EXPLAINed with
`enable_seqscan = off`, under which the planner takes a sequential scan only where no index
can serve the query at all. A sequential scan of one of the `LARGE` tables fails the test,
naming the page, the table and the query.

(An EXPLAIN of an empty table would always choose a sequential scan, whatever the indexes;
with sequential scans priced out, the plan shows what the indexes allow.)"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Connection

from trustdesk.core.identity.permissions import Permission, Role

VERSIONS = Path(__file__).resolve().parents[2] / "src" / "trustdesk" / "core" / "migrations" / "versions"

# Tables that grow with the platform (events, hits, cases, requests, entries, statements,
# audit): a sequential scan of one of them is a page that slows down every month.
LARGE = {
    "audit_entries",
    "core_access_log",
    "pipeline_events",
    "pipeline_rule_hits",
    "pipeline_labels",
    "review_cases",
    "review_case_events",
    "review_decisions",
    "review_appeals",
    "legal_requests",
    "legal_request_targets",
    "legal_request_transitions",
    "safety_bank_entries",
    "safety_hash_matches",
    "statements_of_reasons",
    "enforcement_actions",
    "notices",
}

PAGES = [
    "/console",
    "/console/audit",
    "/console/audit?actor=staff1",
    "/console/audit?action=case.opened",
    "/console/access-log",
    "/console/requests",
    "/console/requests?show=all",
    "/console/review",
    "/console/review/appeals",
    "/console/review/dsa",
    "/console/legal/holds",
    "/console/legal/notices",
    "/console/safety",
    "/console/safety/banks",
    "/console/safety/pipeline",
    "/console/quality",
    "/console/transparency",
    "/console/emergencies",
    "/api/v1/audit?actor=staff1",
    "/api/v1/lawful-requests",
    "/api/v1/review/cases",
    "/metrics",
]


def _seq_scans(plan: dict[str, Any]) -> Iterator[str]:
    if plan.get("Node Type") == "Seq Scan":
        yield plan.get("Relation Name", "?")
    for child in plan.get("Plans", []):
        yield from _seq_scans(child)


@contextmanager
def _captured(connection_source: Any) -> Iterator[list[tuple[str, Any]]]:
    queries: list[tuple[str, Any]] = []

    def capture(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if not executemany and re.match(r"\s*(WITH|SELECT)\b", statement, re.I) and " FOR UPDATE" not in statement:
            queries.append((statement, parameters))

    event.listen(connection_source, "before_cursor_execute", capture)
    try:
        yield queries
    finally:
        event.remove(connection_source, "before_cursor_execute", capture)


def _scanned(connection: Connection, statement: str, parameters: Any) -> set[str]:
    raw = connection.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        row = cursor.fetchone()
    assert row is not None
    plans = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return set(_seq_scans(plans[0]["Plan"])) & LARGE


@pytest.mark.postgres_only
def test_no_page_or_list_api_scans_a_large_table(client: TestClient, staff, engine, db) -> None:
    admin = staff.create(*Role)
    staff.sign_in(client, admin)
    token = staff.token(*Permission)
    found: dict[str, list[str]] = {}
    for page in PAGES:
        headers = {"Authorization": f"Bearer {token}"} if page.startswith("/api") else {}
        with _captured(engine) as queries:
            response = client.get(page, headers=headers)
        assert response.status_code == 200, f"{page}: {response.status_code} {response.text[:200]}"
        with engine.connect() as connection, connection.begin():
            for statement, parameters in queries:
                for table in _scanned(connection, statement, parameters):
                    found.setdefault(f"{page} scans {table}", []).append(" ".join(statement.split())[-400:])
    assert not found, "sequential scans of large tables:\n" + "\n".join(f"{k}: {v[0]}" for k, v in found.items())


def test_the_requests_queue_index_names_the_queues_own_no_deadline() -> None:
    """The expression index matches the queue's ORDER BY only while both use the same value."""
    from trustdesk.legal.service import NO_DEADLINE

    migration = next(VERSIONS.glob("0002_console_requests_due_order.py")).read_text()
    assert f"coalesce(due_at, '{NO_DEADLINE:%Y-%m-%d %H:%M:%S}+00'::timestamptz)" in migration
