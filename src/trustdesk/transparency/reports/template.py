"""The DSA report's structure, read from `data/dsa_template.toml`: sections and tables of
the harmonised quantitative template, which instruments are Member-State orders, and the
Member States. A malformed file fails at load, in the tests, never halfway through a report."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from trustdesk.legal.instruments import InstrumentCode
from trustdesk.legal.policy.jurisdictions import eu_countries
from trustdesk.safety.enforcement.dsa import StatementCategory

TEMPLATE_FILE = Path(__file__).parent / "data" / "dsa_template.toml"


@dataclass(frozen=True)
class Table:
    code: str
    title: str


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    basis: str
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class Template:
    version: str
    regulation: str
    sources: dict[str, str]
    sections: tuple[Section, ...]
    act_orders: frozenset[str]
    information_orders: frozenset[str]
    default_category: dict[str, str]
    unspecified_category: str
    member_states: frozenset[str]

    @property
    def tables(self) -> dict[str, Table]:
        return {t.code: t for s in self.sections for t in s.tables}

    def order_kind(self, instrument: str) -> str | None:
        if instrument in self.act_orders:
            return "act"
        if instrument in self.information_orders:
            return "information"
        return None


def _codes(values: list[str]) -> frozenset[str]:
    return frozenset(InstrumentCode(v).value for v in values)


def _section(raw: dict) -> Section:
    return Section(
        code=raw["code"],
        title=raw["title"],
        basis=raw["basis"],
        tables=tuple(Table(t["code"], t["title"]) for t in raw["tables"]),
    )


@cache
def load_template(path: Path = TEMPLATE_FILE) -> Template:
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    orders = raw["orders"]
    categories = {InstrumentCode(k).value: StatementCategory(v).value for k, v in orders["default_category"].items()}
    states = eu_countries()
    if len(states) != 27 or any(len(code) != 2 or not code.isupper() for code in states):
        raise ValueError("member_states must be the 27 ISO 3166-1 alpha-2 codes of the EU")
    act, information = _codes(orders["act"]), _codes(orders["information"])
    if act & information:
        raise ValueError("an instrument cannot be both an order to act and an order to provide information")
    return Template(
        version=raw["version"],
        regulation=raw["regulation"],
        sources=dict(raw["sources"]),
        sections=tuple(_section(s) for s in raw["sections"]),
        act_orders=act,
        information_orders=information,
        default_category=categories,
        unspecified_category=StatementCategory(orders["unspecified_category"]).value,
        member_states=states,
    )
