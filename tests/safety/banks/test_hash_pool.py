"""Where uploads are hashed: `hash_workers` processes of their own when set, else the CPU pool;
an upload is hashed from its file, and one over the limit is refused before it is read."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from trustdesk.core.errors import TooLarge
from trustdesk.core.identity.permissions import Permission
from trustdesk.core.settings import CpuPoolKind, Settings
from trustdesk.http.container import Container
from trustdesk.safety.banks import lookup
from trustdesk.safety.signals.hashing import hash_media


def _photo() -> bytes:
    """A 1600x1200 JPEG of noise, ~1.5 MB: over Starlette's 1 MiB, so the upload is spooled to disk."""
    out = io.BytesIO()
    Image.effect_noise((1600, 1200), 60).convert("RGB").save(out, "JPEG", quality=95)
    assert out.tell() > 1024 * 1024
    return out.getvalue()


def test_unset_hash_workers_hash_in_the_cpu_pool(container: Container) -> None:
    unset = Container(
        settings=container.settings.model_copy(update={"hash_workers": None}), db=container.db, platform=container.platform
    )
    assert unset.hashing is unset.cpu


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"hash_workers": 2})


def test_hash_workers_are_a_process_pool_of_their_own(container: Container, client: TestClient, staff) -> None:  # type: ignore[no-untyped-def]
    assert container.hashing is not container.cpu
    assert (container.hashing.workers, container.hashing.kind) == (2, CpuPoolKind.PROCESS)
    data = _photo()
    client.headers["Authorization"] = f"Bearer {staff.token(Permission.MATCH_LOOKUP)}"
    response = client.post("/api/v1/match/hash", files={"file": ("a.jpg", data, "image/jpeg")})
    assert response.status_code == 200, response.text
    want = hash_media(data)
    assert (response.json()["pdq"], response.json()["sha256"]) == (want.pdq, want.sha256)
    assert container.hashing._executor is not None  # the hashing pool's processes did it
    assert container.cpu._executor is None  # and the CPU pool was never started


class _Watched(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(size)


def test_a_file_hashes_like_its_bytes_and_one_too_large_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _photo()
    assert lookup.hash_bytes(io.BytesIO(data), content_type="image/jpeg") == lookup.hash_bytes(data, content_type="image/jpeg")
    monkeypatch.setattr(lookup, "MAX_UPLOAD_BYTES", len(data) - 1)
    watched = _Watched(data)
    with pytest.raises(TooLarge):
        lookup.hash_bytes(watched)
    assert watched.reads == 0
