"""The discovery document: where and how an authority sends a request, generated from the
settings, the contact-point data and the instrument catalogue, never written by hand."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from trustdesk.core.settings import Settings
from trustdesk.core.urls import Audience, Served, base
from trustdesk.legal.instruments import Catalogue, Instrument, load_catalogue
from trustdesk.legal.signing import ProviderKey

CONTACT_DEFAULTS = Path(__file__).parent / "data" / "contact_point.toml"
OVERRIDE_NAME = "lawful-requests.toml"


def contact_point(settings: Settings) -> dict[str, Any]:
    with CONTACT_DEFAULTS.open("rb") as fh:
        values: dict[str, Any] = tomllib.load(fh)
    override = settings.data_dir / OVERRIDE_NAME
    if override.exists():
        with override.open("rb") as fh:
            values.update(tomllib.load(fh))
    return values


def accepted_languages(data_dir: Path | None = None) -> frozenset[str]:
    """The languages the provider accepts orders in, as the discovery document publishes them
    (the demo defaults, or the operator's override in `data_dir`)."""
    with CONTACT_DEFAULTS.open("rb") as fh:
        languages = tomllib.load(fh)["languages"]
    override = data_dir / OVERRIDE_NAME if data_dir is not None else None
    if override is not None and override.exists():
        with override.open("rb") as fh:
            languages = tomllib.load(fh).get("languages", languages)
    return frozenset(str(lang).casefold() for lang in languages)


def document(settings: Settings, key: ProviderKey, request: Served | None = None) -> dict[str, Any]:
    public, portal = base(settings, Audience.PUBLIC, request), base(settings, Audience.PORTAL, request)
    contact, catalogue = contact_point(settings), load_catalogue()
    return {
        "version": 1,
        "legal_entity": settings.organisation_name,
        "establishment": contact["establishment"],
        "legal_representative": contact["legal_representative"],
        "contact_points": {
            "portal": f"{portal}/portal",
            "portal_registration": f"{portal}/portal/register",
            "api": f"{public}/api/v1/lawful-requests",
            "api_documentation": f"{public}/api/v1/docs",
            "dsa_single_point_of_contact": contact["dsa_contact_email"],
            "emergency_phone": contact["emergency_phone"],
            "emergency_email": contact["emergency_email"],
            "human_readable": f"{public}/lawful-requests",
        },
        "accepted_languages": contact["languages"],
        "emergency_procedure": contact["emergency_procedure"],
        "instrument_catalogue_version": catalogue.version,
        "accepted_instruments": document_instruments(catalogue),
        "disclosure_signing_key": {"alg": "Ed25519", "key_id": key.key_id, "public_key": key.public_key_b64},
    }


def document_instruments(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [_instrument(i) for i in catalogue.incoming]


def _instrument(instrument: Instrument) -> dict[str, Any]:
    return {
        "code": instrument.code.value,
        "name": instrument.name,
        "legal_basis": instrument.legal_basis,
        "sources": list(instrument.sources),
        "data_categories": sorted(c.value for c in instrument.categories),
        "emergency": instrument.emergency_allowed,
        "required_elements": list(instrument.required_elements),
        "languages": sorted(instrument.languages),
        "issued_by": sorted(k.value for k in instrument.issued_by),
        "clock": instrument.clock.kind.value,
        "user_notice_default": instrument.user_notice.value,
    }
