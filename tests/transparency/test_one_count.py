"""One count (issue #16 item 14): the government-request numbers are computed in one place
(`trustdesk.legal.disclosure.numbers`), and the legal team's numbers, the published
government-request report and the DSA report's orders give the same numbers for the same
seeded records, orders refused at intake included."""

from __future__ import annotations

import inspect
from collections import Counter
from datetime import UTC, datetime, timedelta

from tests.transparency.conftest import START, Seeder
from tests.transparency.test_government_report import NOW, seed_year
from trustdesk.legal.disclosure import numbers
from trustdesk.legal.instruments import IssuerKind
from trustdesk.legal.models import RequestState
from trustdesk.transparency.reports import dsa_facts, government
from trustdesk.transparency.reports.periods import parse_period
from trustdesk.transparency.reports.template import load_template


def seed_with_refusals_at_intake(seed: Seeder) -> dict[str, int]:
    """The seeded year, Member-State orders to act and inform, and four orders refused at
    intake (no target named); returns how many were refused at intake, by country."""
    seed_year(seed)
    fr, de = seed.agency("FR", IssuerKind.REGULATOR), seed.agency("DE", IssuerKind.POLICE)
    us = seed.agency("US", IssuerKind.PROSECUTOR)
    t = START + timedelta(days=60)
    seed.request(fr, "dsa_art9", at=t, targets=[("message_id", seed.message("FR"))], categories=())
    seed.request(de, "dsa_art10", at=t + timedelta(hours=1), targets=[("account_id", seed.account("DE"))])
    refused = [
        seed.request(fr, "dsa_art9", at=t + timedelta(days=1), targets=[], categories=()),
        seed.request(fr, "tco_removal", at=t + timedelta(days=2), targets=[], categories=()),
        seed.request(de, "eu_epoc_pr", at=t + timedelta(days=3), targets=[]),
        seed.request(us, "us_subpoena", at=t + timedelta(days=4), targets=[]),
    ]
    assert all(r.state == RequestState.REFUSED for r in refused)
    return dict(Counter({fr.id: "FR", de.id: "DE", us.id: "US"}[r.agency_id] for r in refused))


def test_the_legal_numbers_and_the_report_are_the_same_numbers(seed: Seeder) -> None:
    at_intake = seed_with_refusals_at_intake(seed)
    period = parse_period("2026")
    report = government.build(seed.session, period=period, now=NOW)
    legal = numbers.government_numbers(seed.session, principal=seed.legal_staff, start=period.start, end=period.end)
    assert legal == [c.as_dict() for c in sorted(report.countries, key=lambda c: c.country)]
    rows = {r["country"]: r for r in legal}
    # The seeded year had FR 3, DE 2, US 2 requests and FR/DE/US 0/1/0 refusals; now refused-at-intake orders count on both.
    assert (rows["FR"]["received"], rows["DE"]["received"], rows["US"]["received"]) == (6, 4, 3)
    assert (rows["FR"]["refused"], rows["DE"]["refused"], rows["US"]["refused"]) == (
        at_intake["FR"],
        1 + at_intake["DE"],
        at_intake["US"],
    )
    assert rows["FR"]["by_instrument"] == {"dsa_art9": 2, "eu_epoc": 2, "eu_epoc_pr": 1, "tco_removal": 1}
    for row in legal:
        figures = next(c for c in report.countries if c.country == row["country"])
        assert row["by_instrument"] == dict(sorted(figures.by_instrument.items()))
        assert row["accounts_specified"] == figures.accounts
    assert report.total.received == sum(r["received"] for r in legal) == 13


def test_the_dsa_orders_are_the_government_requests_of_their_instruments(seed: Seeder) -> None:
    """The DSA report counts, per Member State and kind of order, exactly the government
    requests of those instruments: refused at intake or not, the same requests."""
    seed_with_refusals_at_intake(seed)
    period = parse_period("2026")
    template = load_template()
    orders = Counter((o.member_state, o.kind) for o in dsa_facts.orders(seed.session, period=period))
    expected: Counter[tuple[str, str]] = Counter()
    for row in numbers.government_numbers(seed.session, principal=seed.legal_staff, start=period.start, end=period.end):
        if row["country"] not in template.member_states:
            continue
        for instrument, n in row["by_instrument"].items():
            kind = template.order_kind(instrument)
            if kind:
                expected[(row["country"], kind)] += n
    assert orders == expected
    assert orders[("FR", template.order_kind("dsa_art9"))] >= 3  # two Art. 9 orders and a TCO order, two refused at intake


def test_one_definition_of_a_request_received() -> None:
    """Neither report selects the requests itself: the DSA orders and the government numbers
    both come through `numbers.received` (the orders once disagreed on which instruments count)."""
    source = inspect.getsource(dsa_facts.orders)
    assert "numbers.received(" in source and "select(LawfulRequest" not in source
    query = numbers.received(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC), instruments={"dsa_art18"})
    assert "dsa_art18" in str(query.compile(compile_kwargs={"literal_binds": True}))  # narrowed, yet the provider's own
    assert "NOT IN" in str(query)  # instruments are still excluded
