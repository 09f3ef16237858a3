"""The record of processing activities (GDPR Art. 30(1)), generated from the data map: one
activity per purpose, with the categories of people and of data, the recipients, transfers,
the time limits for erasure and the security measures. Nothing here is written by hand: a
change to what Trustdesk holds is a change to the data map, and the record follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trustdesk.core.settings import Settings
from trustdesk.privacy.datamap import Category, DataMap, TableEntry

PEOPLE = {
    Category.REPORTER: "people who report content (notifiers, trusted flaggers' contacts)",
    Category.REPORTED_USER: "platform users whose content or account is reported, reviewed or acted on",
    Category.THIRD_PARTY: "other people named in a case (victims of a threat)",
    Category.OFFICER: "officers of authorities who file lawful requests",
    Category.STAFF: "the provider's staff who use Trustdesk",
    Category.SUBSCRIBER: "platform users named in lawful requests",
    Category.AUTHORITY_REQUEST: "people named in authorities' requests (suspects, victims)",
}
DATA = {
    Category.CONTENT: "content (messages, media)",
    Category.TRAFFIC: "traffic and identification data (who, when, from where)",
    Category.SUBSCRIBER: "subscriber data (account, registration)",
    Category.PRESERVED_EVIDENCE: "preserved copies under a legal duty",
    Category.AUTHORITY_REQUEST: "the contents of lawful requests (suspected offences: GDPR Art. 10)",
}


@dataclass(frozen=True)
class Activity:
    key: str
    name: str
    description: str
    legal_basis: str
    people: list[str]
    data: list[str]
    recipients: list[str]
    transfers: str
    storage: list[dict[str, str]]  # one line per table or file: what, how long


def _people(entries: list[TableEntry]) -> list[str]:
    found = {c for e in entries for c in e.categories if c in PEOPLE}
    return [PEOPLE[c] for c in Category if c in found]


def _data(entries: list[TableEntry]) -> list[str]:
    found = {c for e in entries for c in e.categories if c in DATA}
    columns = sorted({col for e in entries for col in e.personal})
    return [DATA[c] for c in Category if c in found] + [f"fields: {', '.join(columns)}"]


def activities(data_map: DataMap) -> list[Activity]:
    out = []
    for key, purpose in data_map.purposes.items():
        entries = [e for e in data_map.tables.values() if e.purpose == key]
        files = [f for f in data_map.files if f.purpose == key]
        storage = [{"where": f"table {e.table}", "retention": e.retention, "at_the_end": e.action.value} for e in entries]
        storage += [{"where": f.name, "retention": f.retention, "at_the_end": "as stated"} for f in files]
        out.append(
            Activity(
                key=key,
                name=purpose.name,
                description=purpose.description,
                legal_basis=purpose.legal_basis,
                people=_people(entries),
                data=_data(entries),
                recipients=list(purpose.recipients),
                transfers=purpose.transfers,
                storage=storage,
            )
        )
    return out


def document(data_map: DataMap, settings: Settings | None = None) -> dict[str, Any]:
    """The record as data (the API's answer)."""
    controller = data_map.controller
    name = settings.organisation_name if settings is not None else controller.name
    return {
        "data_map_version": data_map.version,
        "controller": {"name": name, "contact": controller.contact},
        "security_measures": list(controller.security),
        "activities": [a.__dict__ for a in activities(data_map)],
    }


def markdown(data_map: DataMap, settings: Settings | None = None) -> str:
    """The record as a document (what `trustdesk privacy record` prints)."""
    record = document(data_map, settings)
    lines = [
        "# Record of processing activities (GDPR Art. 30(1))",
        "",
        f"Controller: {record['controller']['name']}. {record['controller']['contact']}.",
        f"Generated from Trustdesk's data map, version {record['data_map_version']}.",
        "",
    ]
    for n, a in enumerate(record["activities"], 1):
        lines += [
            f"## {n}. {a['name']}",
            "",
            a["description"],
            "",
            f"- Legal basis: {a['legal_basis']}",
            f"- People: {'; '.join(a['people']) or 'none'}",
            f"- Data: {'; '.join(a['data'])}",
            f"- Recipients: {'; '.join(a['recipients'])}",
            f"- Transfers to third countries: {a['transfers']}",
            "- Time limits for erasure:",
            *(f"  - {s['where']}: {s['retention']} ({s['at_the_end']})" for s in a["storage"]),
            "",
        ]
    lines += ["## Security measures (Art. 32)", "", *(f"- {m}" for m in record["security_measures"]), ""]
    return "\n".join(lines)
