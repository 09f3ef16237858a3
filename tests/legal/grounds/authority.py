"""How an authority reaches Trustdesk in these tests: an agency's API token, an officer in the portal."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD, TEST_ACTOR, TEST_GRANTOR
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Permission


def agency_token(db, clock, agency) -> dict[str, str]:
    with db.transaction() as session:
        secret, _ = identity.create_token(
            session,
            actor=TEST_ACTOR,
            clock=clock,
            grantor=TEST_GRANTOR,
            name=f"{agency.code}-api",
            scopes=[Permission.PORTAL_SUBMIT],
            days=30,
            agency_id=agency.id,
        )
    return {"Authorization": f"Bearer {secret}"}


def portal_sign_in(client, legal, officer) -> str:
    response = client.post(
        "/portal/login", data={"email": officer.email, "password": PASSWORD, "totp": legal.code(officer)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    legal.clock.advance(seconds=30)
    home = client.get("/portal")
    return re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)
