"""Which DSA database the settings give the container: the HTTP adapter when both the URL and
the token are set, else none (submission is refused, as `submit-sor` says)."""

from __future__ import annotations

from pathlib import Path

from trustdesk.core.dsa_database import HttpDsaDatabase, build_dsa_database
from trustdesk.core.settings import Settings
from trustdesk.web.container import build_container


def test_the_http_adapter_needs_both_the_url_and_the_token() -> None:
    assert build_dsa_database(Settings()) is None
    assert build_dsa_database(Settings(dsa_database_url="https://dsa.invalid")) is None
    assert build_dsa_database(Settings(dsa_database_token="t0ken")) is None
    assert build_dsa_database(Settings(dsa_database_url="https://dsa.invalid", dsa_database_token="")) is None
    built = build_dsa_database(Settings(dsa_database_url="https://dsa.invalid/", dsa_database_token="t0ken"))
    assert isinstance(built, HttpDsaDatabase) and built.base_url == "https://dsa.invalid"
    assert built.headers["Authorization"] == "Bearer t0ken"


def test_an_endpoint_given_stands_in_for_the_url_setting() -> None:
    settings = Settings(dsa_database_url="https://dsa.invalid", dsa_database_token="t0ken")
    built = build_dsa_database(settings, base_url="http://127.0.0.1:9")
    assert isinstance(built, HttpDsaDatabase) and built.base_url == "http://127.0.0.1:9"
    assert isinstance(build_dsa_database(Settings(dsa_database_token="t0ken"), base_url="http://127.0.0.1:9"), HttpDsaDatabase)


def test_the_container_holds_what_the_settings_give(tmp_path: Path) -> None:
    base = {"database_url": f"sqlite:///{tmp_path / 'td.db'}", "data_dir": tmp_path}
    assert build_container(Settings(**base)).dsa_database is None
    configured = build_container(Settings(**base, dsa_database_url="https://dsa.invalid", dsa_database_token="t0ken"))
    assert isinstance(configured.dsa_database, HttpDsaDatabase)
