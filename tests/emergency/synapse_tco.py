"""TCO orders against a real Synapse, shared by the end-to-end test and benchmarks/takedown.py:
a registered police agency with an API token whose earlier order was confirmed by call-back
(so that its orders are trusted), and filing an order through the real API.
Targets are Matrix event ids: the legal domain reads them in the Matrix platform's format."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.conftest import TEST_ACTOR, TEST_GRANTOR
from tests.waiting import patience
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission, Principal, PrincipalKind, Role, permissions_for
from trustdesk.http.container import Container
from trustdesk.legal import registry
from trustdesk.legal import service as legal_service
from trustdesk.legal.instruments import IssuerKind

ELEMENTS = {
    "issuing_authority": "Office anti-cybercriminalité (OFAC)",
    "reasons": "Calls for attacks on a named place (Art. 2(7)(c) of Regulation (EU) 2021/784).",
    "redress": "Administrative court of Paris, within two months.",
}
STAFF = Principal(
    kind=PrincipalKind.STAFF,
    id=1,
    name="lena",
    permissions=permissions_for(frozenset({Role.LEGAL_OFFICER})),
    roles=frozenset({Role.LEGAL_OFFICER}),
)


@dataclass
class PoliceAgency:
    agency_id: int
    token: str


def police_agency(container: Container, *, code: str) -> PoliceAgency:
    """Register an agency and give it an API token. Its first order is held until a legal
    officer confirms it by call-back (`confirm_by_callback`); later ones are trusted."""
    clock = container.clock
    with container.db.transaction() as session:
        agency = registry.create_agency(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            code=code,
            name=f"Police {code}",
            country="FR",
            kind=IssuerKind.POLICE,
            email_domains=[f"{code}.interieur.invalid"],
            callback_phone="+33 1 99 00 01 01",
            callback_source="benchmark registry",
        )
        token, _ = identity.create_token(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            grantor=TEST_GRANTOR,
            name=f"{code}-api",
            scopes=[Permission.PORTAL_SUBMIT],
            days=1,
            agency_id=agency.id,
        )
    return PoliceAgency(agency.id, token)


def confirm_by_callback(container: Container, request_id: int) -> None:
    with container.db.transaction() as session:
        legal_service.record_callback(
            session,
            actor=TEST_ACTOR,
            clock=container.clock,
            principal=STAFF,
            request_id=request_id,
            spoke_to="Duty officer",
            outcome="confirmed",
        )


def file_order(base_url: str, token: str, event_id: str) -> httpx.Response:
    body = {"instrument": "tco_removal", "elements": ELEMENTS, "targets": [{"kind": "message_id", "value": event_id}]}
    return httpx.post(
        f"{base_url}/api/v1/lawful-requests", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=patience(60)
    )
