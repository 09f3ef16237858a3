"""Double criminality as data (`data/double_criminality.toml`): the instruments on which it is
not the provider's ground (EU mutual recognition leaves it to the enforcing state), and the
conduct that is no crime in the provider's home state, each with its source."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from trustdesk.legal.instruments import InstrumentCode
from trustdesk.legal.policy.offences import Offence, OffenceKind, match

DATA = Path(__file__).parent / "data" / "double_criminality.toml"


@dataclass(frozen=True)
class NotAProviderGround:
    instrument: InstrumentCode
    reason: str
    source: str


@dataclass(frozen=True)
class DoubleCriminality:
    version: str
    home: str
    not_a_provider_ground: dict[InstrumentCode, NotAProviderGround]
    conduct: tuple[Offence, ...]

    def exemption(self, instrument: InstrumentCode) -> NotAProviderGround | None:
        return self.not_a_provider_ground.get(instrument)

    def conduct_in(self, text: str) -> list[Offence]:
        """The listed conduct the order's words name, in the file's order."""
        return match(self.conduct, text)


def parse(raw: dict[str, Any]) -> DoubleCriminality:
    exempt = [NotAProviderGround(InstrumentCode(e["instrument"]), e["reason"], e["source"]) for e in raw["not_a_provider_ground"]]
    conduct = tuple(
        Offence(
            code=c["code"],
            kind=OffenceKind.NOT_A_CRIME_AT_HOME,
            label=c["label"],
            patterns=tuple(c["patterns"]),
            source=c["source"],
        )
        for c in raw["conduct"]
    )
    for entry in conduct:
        if not entry.source.strip() or not entry.patterns:
            raise ValueError(f"double criminality entry '{entry.code}' needs patterns and a source")
    return DoubleCriminality(str(raw["version"]), str(raw["home_jurisdiction"]), {e.instrument: e for e in exempt}, conduct)


@cache
def load(path: Path = DATA) -> DoubleCriminality:
    with path.open("rb") as fh:
        return parse(tomllib.load(fh))
