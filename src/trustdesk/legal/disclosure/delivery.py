"""Delivery: the requesting officer fetches the package in the portal through an expiring
link; a request an agency's system filed with its token is answered to that system through
the API (list the ready packages, fetch one), under the same rule and expiry. Every attempt is a row and an audit entry, granted or refused, and a refusal is
recorded even though nothing is handed over: who tried to fetch someone else's package is
exactly what an investigation of a compromised account needs to know."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.core import audit
from trustdesk.core.audit import Actor
from trustdesk.core.blobs import BlobStore, get_or_adopt
from trustdesk.core.clock import Clock
from trustdesk.core.errors import Forbidden, NotFound
from trustdesk.core.identity.permissions import (
    Principal,
    authorize_package_download,
    officer_id_of,
    scope_deliveries_to_agency,
)
from trustdesk.legal.disclosure.models import DisclosurePackage, PackageDownload


@dataclass(frozen=True)
class Opened:
    package: DisclosurePackage
    allowed: bool
    reason: str
    data: bytes | None = None
    status: int = 200


def find_by_link(session: Session, *, secret: str) -> DisclosurePackage:
    digest = hashlib.sha256(secret.encode()).hexdigest()
    row = session.scalar(select(DisclosurePackage).where(DisclosurePackage.link_hash == digest))
    if row is None:
        raise NotFound("No package behind this link.")
    return row


def _record(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal | None,
    row: DisclosurePackage,
    allowed: bool,
    reason: str,
) -> None:
    session.add(
        PackageDownload(package_id=row.id, officer_id=officer_id_of(principal), allowed=allowed, reason=reason, at=clock.now())
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="disclosure.download" if allowed else "disclosure.download_refused",
        object_type="disclosure_package",
        object_id=row.id,
        reason=reason,
        details={"request_id": row.request_id, "by": principal.actor_name if principal else "anonymous"},
        clock=clock,
    )


def open_package(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal | None,
    secret: str,
    blobs: BlobStore,
    data_dir: Path,
) -> Opened:
    """The package's bytes for its officer; for anyone else a refusal, recorded. Does not
    raise on a refusal, so that the caller's transaction keeps the record."""
    row = find_by_link(session, secret=secret)
    return _open(session, actor=actor, clock=clock, principal=principal, row=row, blobs=blobs, data_dir=data_dir)


def _recipient(row: DisclosurePackage) -> str:
    return "requesting officer" if row.officer_id is not None else "requesting agency's system"


def _open(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal | None,
    row: DisclosurePackage,
    blobs: BlobStore,
    data_dir: Path,
    refused_status: int = 403,
) -> Opened:
    """One rule for the portal link and the API: the recipient alone, before the link's
    expiry; every attempt recorded."""
    try:
        authorize_package_download(principal, officer_id=row.officer_id, agency_id=row.agency_id)
    except Forbidden as exc:
        _record(
            session, actor=actor, clock=clock, principal=principal, row=row, allowed=False, reason=f"not the {_recipient(row)}"
        )
        return Opened(row, False, exc.detail, status=refused_status)
    if clock.now() >= row.link_expires_at:
        _record(session, actor=actor, clock=clock, principal=principal, row=row, allowed=False, reason="link expired")
        return Opened(row, False, "This link has expired; ask the provider's legal team for a new one.", status=410)
    _record(session, actor=actor, clock=clock, principal=principal, row=row, allowed=True, reason=_recipient(row))
    return Opened(row, True, "", get_or_adopt(blobs, row.sha256, legacy_path(data_dir, row.sha256)))


def ready_for_agency(session: Session, *, clock: Clock, principal: Principal) -> list[DisclosurePackage]:
    """The packages waiting for the caller's agency system: addressed to its agency (filed
    with its token), not yet expired. Another agency's are never listed."""
    agency_id = scope_deliveries_to_agency(principal)
    query = (
        select(DisclosurePackage)
        .where(DisclosurePackage.agency_id == agency_id, DisclosurePackage.link_expires_at > clock.now())
        .order_by(DisclosurePackage.id)
    )
    return list(session.scalars(query))


def open_for_agency(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal,
    package_id: int,
    blobs: BlobStore,
    data_dir: Path,
) -> Opened:
    """The API's download for an agency's system: the same rule and record as the portal
    link. Another agency's package, or one addressed to an officer, is refused and recorded,
    and answered 404 so that its existence is not confirmed."""
    scope_deliveries_to_agency(principal)
    row = session.get(DisclosurePackage, package_id)
    if row is None:
        raise NotFound(f"No package {package_id} for your agency.")
    opened = _open(
        session, actor=actor, clock=clock, principal=principal, row=row, blobs=blobs, data_dir=data_dir, refused_status=404
    )
    if opened.status == 404:
        return Opened(row, False, f"No package {package_id} for your agency.", status=404)
    return opened


def downloaded(session: Session, *, package_id: int) -> bool:
    return (
        session.scalar(
            select(PackageDownload.id).where(PackageDownload.package_id == package_id, PackageDownload.allowed.is_(True)).limit(1)
        )
        is not None
    )


def legacy_path(data_dir: Path, sha256: str) -> Path:
    """Where versions before the blob store kept a package (read, and adopted, on demand)."""
    return data_dir / "disclosures" / f"{sha256}.zip"


def downloads(session: Session, *, package_id: int) -> list[PackageDownload]:
    return list(
        session.scalars(select(PackageDownload).where(PackageDownload.package_id == package_id).order_by(PackageDownload.id))
    )


def delivered(session: Session, *, request_id: int) -> list[DisclosurePackage]:
    """The packages made for a request, newest first (the caller has already scoped the
    request to the officer's agency)."""
    query = select(DisclosurePackage).where(DisclosurePackage.request_id == request_id)
    return list(session.scalars(query.order_by(DisclosurePackage.id.desc())))


def open_delivered(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal | None,
    request_id: int,
    package_id: int,
    blobs: BlobStore,
    data_dir: Path,
) -> Opened:
    """The download from the portal's request page for the signed-in officer: the same rule,
    window and record as the link (`open_package`), found by the request it answers."""
    row = session.get(DisclosurePackage, package_id)
    if row is None or row.request_id != request_id:
        raise NotFound(f"No package {package_id} for this request.")
    return _open(session, actor=actor, clock=clock, principal=principal, row=row, blobs=blobs, data_dir=data_dir)
