"""Where a package lives: in the blob store, put before its row. A rolled-back transaction
leaves no row, only a whole blob that the next identical package reuses; a second host on the
same blob directory serves a package the first one built; a package written by an older
version under data_dir/disclosures is still delivered."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from tests.legal.conftest import LegalFactory
from tests.legal.disclosure.desk import LENA, Desk
from tests.legal.disclosure.factories import Filed, Scenarios
from tests.legal.disclosure.test_web import _officer
from trustdesk.core.blobs import InMemoryBlobStore, LocalBlobStore
from trustdesk.core.database import Database
from trustdesk.core.settings import Settings
from trustdesk.legal.disclosure import delivery, packages, service
from trustdesk.legal.disclosure.models import Disclosure, DisclosurePackage
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.web.app import create_app
from trustdesk.web.container import Container


def _approved(desk: Desk, scenarios: Scenarios) -> tuple[Filed, Disclosure]:
    filed = scenarios.us_emergency_request()
    desk.call_back(filed.request.id)
    return filed, desk.through_approval(filed.request.id)


def test_a_package_whose_transaction_rolls_back_leaves_no_row_and_a_blob_the_retry_reuses(
    db: Database, desk: Desk, scenarios: Scenarios
) -> None:
    filed, disclosure = _approved(desk, scenarios)
    with pytest.raises(RuntimeError, match="before the commit"), db.transaction() as session:
        row, _ = service.package(
            session,
            actor=TEST_ACTOR,
            clock=desk.clock,
            principal=LENA,
            platform=desk.platform,
            key=desk.key,
            blobs=desk.blobs,
            disclosure_id=disclosure.id,
        )
        orphan = row.sha256
        raise RuntimeError("the request fails before the commit")
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DisclosurePackage)) == 0
        assert session.get(Disclosure, disclosure.id).state == "approved"
    assert packages.verify(desk.blobs.get(orphan), public_key_b64=desk.key.public_key_b64).ok, "the orphan is whole"
    package, secret = desk.package(disclosure)
    assert package.sha256 == orphan, "the same package again: the same blob"
    assert desk.download(filed.principal, secret).data == desk.blobs.get(orphan)


def test_a_second_host_on_the_same_blob_directory_serves_the_package(
    db: Database,
    desk: Desk,
    scenarios: Scenarios,
    legal: LegalFactory,
    settings: Settings,
    platform: DemoPlatform,
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared-volume"
    desk.blobs = LocalBlobStore(shared)  # host A builds the package
    filed, disclosure = _approved(desk, scenarios)
    package, secret = desk.package(disclosure)
    host_b = settings.model_copy(update={"data_dir": tmp_path / "host-b", "blob_dir": shared})
    container = Container(settings=host_b, db=db, clock=desk.clock, platform=platform, blobs=LocalBlobStore(shared))
    with TestClient(create_app(host_b, container=container)) as client:
        response = _officer(client, legal, filed.officer).get(f"/portal/disclosures/{secret}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert packages.verify(response.content, public_key_b64=desk.key.public_key_b64).ok
    assert len(response.content) == package.size


def test_a_package_stored_before_the_blob_store_is_still_delivered(
    db: Database, desk: Desk, scenarios: Scenarios, tmp_path: Path
) -> None:
    filed, disclosure = _approved(desk, scenarios)
    package, secret = desk.package(disclosure)
    data = desk.blobs.get(package.sha256)
    old = delivery.legacy_path(desk.data_dir, package.sha256)
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(data)
    desk.blobs = InMemoryBlobStore()  # as after the upgrade: the blob store does not hold it yet
    assert desk.download(filed.principal, secret).data == data
    assert desk.blobs.get(package.sha256) == data, "adopted into the blob store"
