from __future__ import annotations

import pytest

from trustdesk.core.blobs import LocalBlobStore
from trustdesk.core.settings import load_settings
from trustdesk.platform.demo.adapter import DemoPlatform
from trustdesk.platform.matrix.adapter import MatrixPlatform
from trustdesk.platform.webhook.adapter import WebhookPlatform
from trustdesk.safety.signals.types import registry
from trustdesk.web.container import build_container, build_platform


def test_the_platform_setting_picks_the_adapter(tmp_path) -> None:
    assert isinstance(build_platform(load_settings(data_dir=tmp_path)), DemoPlatform)
    matrix = load_settings(
        platform="matrix",
        matrix_homeserver_url="http://127.0.0.1:9",
        matrix_server_name="example.org",
        matrix_bot_user_id="@trustdesk:example.org",
        matrix_bot_token="syt_x",
    )
    assert isinstance(build_platform(matrix), MatrixPlatform)
    webhook = load_settings(platform="webhook", webhook_base_url="http://127.0.0.1:9/td", webhook_secret="s" * 32)
    assert isinstance(build_platform(webhook), WebhookPlatform)


def test_a_half_configured_matrix_platform_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="TRUSTDESK_MATRIX_BOT_TOKEN"):
        build_platform(load_settings(platform="matrix", matrix_homeserver_url="http://127.0.0.1:9"))


def test_the_container_installs_the_signal_types_of_its_settings(tmp_path) -> None:
    try:
        container = build_container(load_settings(data_dir=tmp_path, signal_types=["pdq", "sha256"]))
        container.db.dispose()
        assert registry.active().names() == ["pdq", "sha256"]
    finally:
        registry.install(registry.DEFAULT_SIGNAL_TYPES)


def test_the_blob_store_is_the_blob_directory_or_data_dir_blobs(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="sqlite://")
    assert build_container(settings).blobs.directory == tmp_path / "blobs"
    shared = build_container(settings.model_copy(update={"blob_dir": tmp_path / "shared"})).blobs
    assert isinstance(shared, LocalBlobStore) and shared.directory == tmp_path / "shared"
