"""The government-request report of a seeded year, figure by figure, in all three files; and
the property that per-country counts add up to the totals."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.transparency.conftest import START, Seeder
from trustdesk.legal.disclosure import numbers
from trustdesk.legal.instruments import IssuerKind, RefusalReason
from trustdesk.legal.models import RequestState
from trustdesk.transparency.reports import government, government_files
from trustdesk.transparency.reports.government import RequestFacts
from trustdesk.transparency.reports.periods import parse_period

NOW = datetime(2027, 1, 15, tzinfo=UTC)


def seed_year(seed: Seeder) -> None:
    """Seven requests in 2026 from France, Germany and the United States, and two outside it."""
    fr, de = seed.agency("FR", IssuerKind.INVESTIGATING_JUDGE), seed.agency("DE", IssuerKind.PROSECUTOR)
    us, us_court = seed.agency("US", IssuerKind.PROSECUTOR), seed.agency("US", IssuerKind.COURT)
    a, b, c = seed.account("FR"), seed.account("FR"), seed.account("DE")
    t = START
    # France: a package delivered after 48 h (the full disclosure path); answered in part after 10 h, naming two
    # accounts; a preservation after 2 h.
    r1 = seed.officer_request(fr, "eu_epoc", at=t, targets=[("account_id", a)])
    seed.produce(r1, at=t + timedelta(hours=48))
    r2 = seed.request(fr, "eu_epoc", at=t + timedelta(days=3), targets=[("account_id", a), ("account_id", b)])
    seed.answer(r2, at=t + timedelta(days=3, hours=10), final=RequestState.PARTLY_ANSWERED)
    r3 = seed.request(fr, "eu_epoc_pr", at=t + timedelta(days=5), targets=[("account_id", b)])
    seed.answer(r3, at=t + timedelta(days=5, hours=2))
    # Germany: sent back for clarification, then refused after 30 h; an emergency answered after 4 h.
    r4 = seed.request(de, "eu_epoc", at=t + timedelta(days=10), targets=[("account_id", c)])
    seed.move(r4, RequestState.CLARIFICATION_REQUESTED, at=t + timedelta(days=10, hours=5))
    seed.move(r4, RequestState.REFUSED, at=t + timedelta(days=10, hours=30), refusal=RefusalReason.INCOMPLETE)
    r5 = seed.request(de, "eu_epoc", at=t + timedelta(days=20), targets=[("account_id", c)], emergency=True)
    seed.confirm_by_phone(r5)
    seed.answer(r5, at=t + timedelta(days=20, hours=4))
    # United States: a subpoena for an unknown username answered after 100 h; a non-disclosure order, not yet acted on.
    r6 = seed.request(us, "us_subpoena", at=t + timedelta(days=30), targets=[("username", "ghost_user")])
    seed.answer(r6, at=t + timedelta(days=30, hours=100))
    seed.request(us_court, "us_2705b_ndo", at=t + timedelta(days=40), targets=[("account_id", a)], categories=())
    # Outside 2026 by a minute either side.
    seed.request(us, "us_subpoena", at=datetime(2025, 12, 31, 23, 59, tzinfo=UTC), targets=[("account_id", a)])
    seed.request(fr, "eu_epoc", at=datetime(2027, 1, 1, 0, 0, tzinfo=UTC), targets=[("account_id", a)])


EXPECTED = {  # country -> CSV columns (the CSV writes every figure as text); a column not listed is 0
    "FR": {
        "country_name": "France",
        "requests": "3",
        "requests_eu_epoc": "2",
        "requests_eu_epoc_pr": "1",
        "accounts_specified": "4",
        "accounts_affected": "1",
        "valid": "3",
        "data_produced": "1",
        "data_produced_percent": "33.3",
        "refused_percent": "0.0",
        "narrowed_percent": "0.0",
        "emergency_percent": "0.0",
        "non_disclosure_percent": "0.0",
        "median_hours_to_answer": "10.00",
    },
    "DE": {
        "country_name": "Germany",
        "requests": "2",
        "requests_eu_epoc": "2",
        "accounts_specified": "2",
        "valid": "2",
        "clarified": "1",
        "refused": "1",
        "emergency": "1",
        "data_produced_percent": "0.0",
        "refused_percent": "50.0",
        "narrowed_percent": "0.0",
        "emergency_percent": "50.0",
        "non_disclosure_percent": "0.0",
        "median_hours_to_answer": "17.00",
    },
    # The subpoena names an account the platform does not know, so it fails its checks: not valid.
    "US": {
        "country_name": "United States",
        "requests": "2",
        "requests_us_subpoena": "1",
        "requests_us_2705b_ndo": "1",
        "accounts_specified": "2",
        "valid": "1",
        "non_disclosure": "1",
        "data_produced_percent": "0.0",
        "refused_percent": "0.0",
        "narrowed_percent": "0.0",
        "emergency_percent": "0.0",
        "non_disclosure_percent": "50.0",
        "median_hours_to_answer": "100.00",
    },
    "ALL": {
        "country_name": "All countries",
        "requests": "7",
        "requests_eu_epoc": "4",
        "requests_eu_epoc_pr": "1",
        "requests_us_subpoena": "1",
        "requests_us_2705b_ndo": "1",
        "accounts_specified": "8",
        "accounts_affected": "1",
        "valid": "6",
        "clarified": "1",
        "refused": "1",
        "data_produced": "1",
        "emergency": "1",
        "non_disclosure": "1",
        "data_produced_percent": "14.3",
        "refused_percent": "14.3",
        "narrowed_percent": "0.0",
        "emergency_percent": "14.3",
        "non_disclosure_percent": "14.3",
        "median_hours_to_answer": "20.00",
    },
}


def test_every_figure_of_the_csv(seed: Seeder) -> None:
    seed_year(seed)
    report = government.build(seed.session, period=parse_period("2026"), now=NOW)
    rows = list(csv.DictReader(io.StringIO(government_files.render_csv(report).decode())))
    assert [r["country"] for r in rows] == ["FR", "DE", "US", "ALL"]  # most requests first, then by name; the total last
    for row in rows:
        expected = EXPECTED[row["country"]]
        for column, value in row.items():
            if column in ("period", "country"):
                continue
            assert value == expected.get(column, "0"), f"{row['country']} {column}"
    assert {r["period"] for r in rows} == {"2026"}


def test_the_json_says_the_same(seed: Seeder) -> None:
    seed_year(seed)
    report = government.build(seed.session, period=parse_period("2026"), now=NOW)
    document = json.loads(government_files.render_json(report))
    assert (document["period_start"], document["period_end"]) == ("2026-01-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00")
    by_code = {c["country"]: c for c in [*document["countries"], document["total"]]}
    for code, expected in EXPECTED.items():
        got = by_code[code]
        assert got["requests"] == int(expected["requests"])
        assert got["requests_by_instrument"] == {
            k.removeprefix("requests_"): int(v) for k, v in expected.items() if k.startswith("requests_")
        }
        for column in (
            "accounts_specified",
            "accounts_affected",
            "valid",
            "clarified",
            "narrowed",
            "refused",
            "data_produced",
            "emergency",
            "non_disclosure",
        ):
            assert got[column] == int(expected.get(column, "0")), f"{code} {column}"
        for column in (
            "data_produced_percent",
            "refused_percent",
            "narrowed_percent",
            "emergency_percent",
            "non_disclosure_percent",
            "median_hours_to_answer",
        ):
            assert got[column] == float(expected[column]), f"{code} {column}"


def test_the_page_shows_the_world_table(seed: Seeder) -> None:
    seed_year(seed)
    report = government.build(seed.session, period=parse_period("2026"), now=NOW)
    html = next(f for f in government_files.files(report) if f.name == "government-requests-2026.html").content.decode()
    table = html[html.index('id="world-table"') : html.index("</table>", html.index('id="world-table"'))]
    for name in ("France", "Germany", "United States", "All countries"):
        assert name in table
    assert "1 (14.3%)" in table and "<svg" in html and "<script" not in html
    assert 'href="government-requests-2026.csv"' in html and 'href="government-requests-2026.json"' in html


def test_half_years_split_the_year(seed: Seeder) -> None:
    seed_year(seed)
    first = government.build(seed.session, period=parse_period("2026-H1"), now=NOW)
    second = government.build(seed.session, period=parse_period("2026-H2"), now=NOW)
    assert (first.total.received, second.total.received) == (7, 0)
    assert second.countries == [] and second.total.median_hours_to_answer is None and second.total.produced_share is None


facts = st.builds(
    RequestFacts,
    country=st.sampled_from(["FR", "DE", "US", "BR", "IN"]),
    instrument=st.sampled_from(["eu_epoc", "us_subpoena", "mlat_cloud"]),
    accounts=st.integers(0, 50),
    affected=st.frozensets(st.sampled_from(["a1", "a2", "a3", "a4"])),
    valid=st.booleans(),
    clarified=st.booleans(),
    narrowed=st.booleans(),
    refused=st.booleans(),
    produced=st.booleans(),
    emergency=st.booleans(),
    non_disclosure=st.booleans(),
    hours_to_answer=st.none() | st.floats(0, 10_000, allow_nan=False),
)


@given(st.lists(facts, max_size=60))
def test_per_country_counts_add_up_to_the_totals(items: list[RequestFacts]) -> None:
    rows, total = government.by_country(items), government.aggregate(government.ALL, items)
    assert len(frozenset().union(*(f.affected for f in items))) == total.accounts_affected
    for column in (
        "received",
        "accounts",
        "valid",
        "clarified",
        "narrowed",
        "refused",
        "produced",
        "emergency",
        "non_disclosure",
    ):
        assert sum(getattr(r, column) for r in rows) == getattr(total, column)
    for code in total.by_instrument:
        assert sum(r.by_instrument.get(code, 0) for r in rows) == total.by_instrument[code]
    assert sum(total.by_instrument.values()) == total.received
    assert len({r.country for r in rows}) == len(rows)


def test_agrees_with_the_lawful_request_domain_numbers(seed: Seeder) -> None:
    """The published report and the legal team's numbers (`legal.disclosure.numbers`, API and
    CLI) give identical numbers for the same records, country by country."""
    seed_year(seed)
    period = parse_period("2026")
    report = government.build(seed.session, period=period, now=NOW)
    theirs = numbers.government_numbers(seed.session, principal=seed.legal_staff, start=period.start, end=period.end)
    assert theirs == [c.as_dict() for c in sorted(report.countries, key=lambda c: c.country)]
    assert sum(row["received"] for row in theirs) == report.total.received == 7


def test_both_count_refused_and_never_what_the_provider_sent(seed: Seeder) -> None:
    """Every request an authority filed counts, refused or not; an outgoing instrument (the
    provider's own DSA Art. 18 notification) counts on neither surface."""
    seed_year(seed)
    fr = seed.agency("FR", IssuerKind.INVESTIGATING_JUDGE)
    sent = seed.request(fr, "eu_epoc", at=START + timedelta(days=50), targets=[("account_id", seed.account("FR"))])
    sent.instrument = "dsa_art18"
    seed.session.flush()
    period = parse_period("2026")
    report = government.build(seed.session, period=period, now=NOW)
    theirs = {
        row["country"]: row
        for row in numbers.government_numbers(seed.session, principal=seed.legal_staff, start=period.start, end=period.end)
    }
    assert theirs["FR"]["received"] == next(c for c in report.countries if c.country == "FR").received == 3
    assert theirs["DE"]["refused"] == 1 and "dsa_art18" not in report.total.by_instrument


def test_the_report_reads_no_request_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """One gatherer: the report's module reads nothing from the database on its own, so a
    second reading of the requests (which once disagreed on which instruments count) cannot
    come back unnoticed."""
    source = Path(government.__file__).read_text(encoding="utf-8")
    assert "select(" not in source and "trustdesk.legal.models" not in source
    calls = []
    monkeypatch.setattr(numbers, "gather", lambda session, *, start, end: calls.append((start, end)) or [])
    report = government.build(None, period=parse_period("2026-H2"), now=NOW)  # type: ignore[arg-type]
    assert calls == [(datetime(2026, 7, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))] and report.total.received == 0
