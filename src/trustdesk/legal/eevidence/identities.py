"""The provider's WISP identities: one per designated establishment or legal representative
(Directive (EU) 2023/1544 Arts. 3-4; Regulation (EU) 2023/1543 Art. 3 makes the Member State
where it sits the enforcing State). Each has its own certificate, WISP endpoint and accepted
languages; all of them feed the one case model (docs/e-evidence.md).

Identities come from the `wisp_identities` setting. An inbound connection is mapped to an
identity by the SHA-256 fingerprint of the client certificate the WISP presented on the TLS
handshake (mutual TLS, TS 104 144: the certificate, not a header, authenticates)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustdesk.core.errors import InvalidInput

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class WispIdentity:
    id: str  # our name for it, e.g. "ie-dublin"
    member_state: str  # ISO 3166-1 alpha-2: the enforcing State for orders it receives
    receiver_id: str  # how the HI-1 header names us as receiver (ReceiverIdentifier/UniqueIdentifier)
    wisp_base_url: str  # where this identity's outbound calls go (…/outcome, …/datapreserved)
    wisp_client_cert_sha256: frozenset[str]  # the WISP's client certificates this identity accepts
    languages: tuple[str, ...] = ("en",)
    client_cert_file: Path | None = None  # our certificate for outbound mutual TLS
    client_key_file: Path | None = None
    wisp_ca_file: Path | None = None  # the CA that signs the WISP's server certificate

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> WispIdentity:
        ident = str(raw.get("id", ""))
        if not _ID.match(ident):
            raise InvalidInput(f"A WISP identity id is 1-40 lower-case letters, digits or '-'; got {ident!r}.")
        state = str(raw.get("member_state", "")).upper()
        if not re.match(r"^[A-Z]{2}$", state):
            raise InvalidInput(f"WISP identity {ident}: member_state is an ISO 3166-1 alpha-2 code.")
        prints = frozenset(normalise_fingerprint(p) for p in raw.get("wisp_client_cert_sha256", []))
        if not prints:
            raise InvalidInput(f"WISP identity {ident}: list the SHA-256 of at least one WISP client certificate.")
        url = str(raw.get("wisp_base_url", "")).rstrip("/")
        if not url.startswith("https://"):
            raise InvalidInput(f"WISP identity {ident}: wisp_base_url must be an https:// URL.")

        def path(key: str) -> Path | None:
            return Path(raw[key]) if raw.get(key) else None

        return cls(
            id=ident,
            member_state=state,
            receiver_id=str(raw.get("receiver_id") or ident),
            wisp_base_url=url,
            wisp_client_cert_sha256=prints,
            languages=tuple(str(x).lower() for x in raw.get("languages", ["en"])) or ("en",),
            client_cert_file=path("client_cert_file"),
            client_key_file=path("client_key_file"),
            wisp_ca_file=path("wisp_ca_file"),
        )


def normalise_fingerprint(value: str) -> str:
    """'AB:CD:…' or 'abcd…' to 64 lower-case hex digits; anything else is refused."""
    clean = value.replace(":", "").strip().lower()
    if not _HEX64.match(clean):
        raise InvalidInput(f"{value!r} is not a SHA-256 fingerprint (64 hex digits).")
    return clean


def fingerprint(der: bytes) -> str:
    """The SHA-256 of a certificate in DER, as the identities list it."""
    return hashlib.sha256(der).hexdigest()


class Identities:
    """The configured identities, found by id or by a presented certificate's fingerprint."""

    def __init__(self, identities: Iterable[WispIdentity]) -> None:
        self._by_id: dict[str, WispIdentity] = {}
        self._by_print: dict[str, WispIdentity] = {}
        for identity in identities:
            if identity.id in self._by_id:
                raise InvalidInput(f"WISP identity {identity.id} is listed twice.")
            self._by_id[identity.id] = identity
            for p in identity.wisp_client_cert_sha256:
                if p in self._by_print:
                    raise InvalidInput(f"One WISP certificate is listed for {self._by_print[p].id} and {identity.id}.")
                self._by_print[p] = identity

    @classmethod
    def from_settings(cls, raw: list[dict[str, Any]]) -> Identities:
        return cls(WispIdentity.of(r) for r in raw)

    def get(self, identity_id: str) -> WispIdentity:
        try:
            return self._by_id[identity_id]
        except KeyError:
            raise InvalidInput(f"No WISP identity {identity_id!r}.") from None

    def by_certificate(self, der: bytes | None) -> WispIdentity | None:
        """The identity a client certificate belongs to, or None (unknown or no certificate)."""
        return None if not der else self._by_print.get(fingerprint(der))

    def __iter__(self) -> Any:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
