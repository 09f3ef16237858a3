"""WISP identities are checked when they are configured, not when the first order arrives."""

from __future__ import annotations

from typing import Any

import pytest

from tests.legal.eevidence.conftest import IDENTITIES, IE_PRINT
from trustdesk.core.errors import InvalidInput
from trustdesk.legal.eevidence.identities import Identities, fingerprint, normalise_fingerprint


def _with(**changes: Any) -> list[dict[str, Any]]:
    return [{**IDENTITIES[0], **changes}]


@pytest.mark.parametrize(
    "raw",
    [
        _with(id="Not An Id"),
        _with(member_state="Ireland"),
        _with(wisp_client_cert_sha256=[]),
        _with(wisp_client_cert_sha256=["abc"]),
        _with(wisp_base_url="http://wisp.invalid"),
        [IDENTITIES[0], IDENTITIES[0]],
        [IDENTITIES[0], {**IDENTITIES[1], "wisp_client_cert_sha256": [IE_PRINT]}],
    ],
)
def test_a_bad_identity_is_refused(raw: list[dict[str, Any]]) -> None:
    with pytest.raises(InvalidInput):
        Identities.from_settings(raw)


def test_a_certificate_finds_its_identity() -> None:
    der = b"0\x82 certificate bytes"
    identities = Identities.from_settings(
        _with(wisp_client_cert_sha256=[":".join(fingerprint(der)[i : i + 2].upper() for i in range(0, 64, 2))])
    )
    found = identities.by_certificate(der)
    assert found is not None and found.id == "ie-dublin"
    assert identities.by_certificate(b"other") is None and identities.by_certificate(None) is None
    assert normalise_fingerprint(IE_PRINT.upper()) == IE_PRINT
