from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from trustdesk.core.settings import BusKind, load_settings


def test_environment_variables_have_the_prefix(monkeypatch) -> None:
    monkeypatch.setenv("TRUSTDESK_BUS", "nats")
    monkeypatch.setenv("TRUSTDESK_LOGIN_MAX_FAILURES", "3")
    settings = load_settings()
    assert settings.bus is BusKind.NATS and settings.login_max_failures == 3


def test_the_config_file_gives_defaults_and_the_environment_wins(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "trustdesk.toml"
    config.write_text('[trustdesk]\norganisation_name = "Example Chat"\nsession_hours = 4\n')
    monkeypatch.setenv("TRUSTDESK_SESSION_HOURS", "2")
    settings = load_settings(config)
    assert settings.organisation_name == "Example Chat" and settings.session_hours == 2


def test_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "trustdesk.toml"
    config.write_text("[trustdesk]\nno_such_knob = 1\n")
    with pytest.raises(ValidationError, match="no_such_knob"):
        load_settings(config)


def test_sqlite_under_the_data_dir_by_default(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve()}/trustdesk.db"


def test_production_refuses_the_development_secret(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        load_settings(environment="production").check_production()
    load_settings(environment="production", secret_key="a" * 40, public_base_url="https://td.test").check_production()
