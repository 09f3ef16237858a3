"""Absolute links per audience (core/urls.py, issue #18)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from trustdesk.core.settings import load_settings
from trustdesk.core.urls import Audience, absolute, base
from trustdesk.legal import discovery
from trustdesk.legal.signing import provider_key

SRC = Path(__file__).parents[2] / "src" / "trustdesk"


class _Req:
    base_url = "http://served.test:1234/"


def test_each_audience_has_its_own_base() -> None:
    s = load_settings(
        public_base_url="https://pub.test/", portal_base_url="https://portal.test", console_base_url="https://console.test"
    )
    assert absolute(s, Audience.PUBLIC, "/appeal/x", _Req()) == "https://pub.test/appeal/x"
    assert absolute(s, Audience.PORTAL, "/portal/disclosures/s", _Req()) == "https://portal.test/portal/disclosures/s"
    assert absolute(s, Audience.CONSOLE, "/console/emergency/pages/1") == "https://console.test/console/emergency/pages/1"


def test_portal_and_console_default_to_the_public_base_and_the_old_name_still_works() -> None:
    assert base(load_settings(public_base_url="https://pub.test"), Audience.CONSOLE) == "https://pub.test"
    assert base(load_settings(base_url="https://old.test"), Audience.PORTAL) == "https://old.test"


def test_development_links_follow_the_served_host() -> None:
    s = load_settings()
    assert base(s, Audience.PUBLIC, _Req()) == "http://served.test:1234"
    assert base(s, Audience.CONSOLE) == "http://127.0.0.1:8000"  # no request: the development default


def test_production_without_a_public_base_url_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="TRUSTDESK_PUBLIC_BASE_URL"):
        load_settings(environment="production", secret_key="a" * 40).check_production()
    load_settings(environment="production", secret_key="a" * 40, public_base_url="https://pub.test").check_production()


def test_no_module_hard_codes_this_instances_host() -> None:
    found = []
    for path in SRC.rglob("*.py"):
        if path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if "127.0.0.1:8000" in node.value or "localhost:8000" in node.value:
                    found.append(str(path.relative_to(SRC)))
            if (
                isinstance(node, ast.FormattedValue)
                and "base_url" in ast.unparse(node.value)
                and "settings" in ast.unparse(node.value)
            ):
                found.append(str(path.relative_to(SRC)))
    assert found == []


def test_the_discovery_document_uses_each_audiences_base(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, public_base_url="https://pub.test", portal_base_url="https://portal.test")
    doc = discovery.document(settings, provider_key(tmp_path), _Req())
    assert doc["contact_points"]["portal"] == "https://portal.test/portal"
    assert doc["contact_points"]["api"] == "https://pub.test/api/v1/lawful-requests"


def test_without_settings_the_discovery_document_follows_the_request_host(tmp_path: Path) -> None:
    doc = discovery.document(load_settings(data_dir=tmp_path), provider_key(tmp_path), _Req())
    assert doc["contact_points"]["portal"] == "http://served.test:1234/portal"
