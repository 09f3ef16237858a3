"""A person manages a hash bank and looks up an image in the console, in a real browser."""

from __future__ import annotations

import pyotp
from playwright.sync_api import expect

from tests.waiting import patience
from trustdesk.core.audit import Actor
from trustdesk.core.identity import service as identity
from trustdesk.core.identity.permissions import Role
from trustdesk.platform.demo import imagery
from trustdesk.safety.banks.matcher import MatchService
from trustdesk.safety.signals.hashing import hash_media
from trustdesk.safety.signals.types import registry

PASSWORD = "a long browser test password"


def _admin(live_server, username: str) -> str:
    secret = pyotp.random_base32()
    c = live_server.container
    with c.db.transaction() as session:
        identity.create_user(
            session,
            actor=Actor("test", "browser"),
            clock=c.clock,
            username=username,
            display_name="Bank Admin",
            email=f"{username}@example.org",
            password=PASSWORD,
            roles=[Role.ADMIN],
            totp_secret=secret,
        )
    return secret


def test_an_admin_adds_a_bank_entry_and_looks_up_an_image(page, live_server, tmp_path) -> None:
    live_server.container.matcher = MatchService(refresh_seconds=0)
    secret = _admin(live_server, "bankadmin")
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill("bankadmin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, bankadmin")).to_be_visible()
    page.goto(live_server.url + "/console/safety/banks")
    expect(page.get_by_role("heading", name="Hash banks")).to_be_visible()

    page.get_by_label("Name").fill("Iron Dawn posters")
    page.get_by_label("Policy").select_option("terrorism")
    page.get_by_role("button", name="Create bank").click()
    expect(page.get_by_role("heading", name="Iron Dawn posters")).to_be_visible()

    page.get_by_label("Hash").fill("not a hash")
    page.get_by_role("button", name="Add entry").click()
    expect(page.get_by_role("alert")).to_contain_text("Not a PDQ hash")

    page.get_by_label("Hash").fill(hash_media(imagery.poster_original()[1]).pdq or "")
    page.get_by_label("Notes").fill("poster from the partner list")
    page.get_by_role("button", name="Add entry").click()
    expect(page.get_by_role("status")).to_contain_text("1 added")
    expect(page.locator("#entries-table")).to_contain_text("poster from the partner list")

    page.get_by_role("link", name="← Hash banks").click()
    expect(page.locator("#banks-table")).to_contain_text("Iron Dawn posters")
    upload = tmp_path / "reshared.jpg"
    upload.write_bytes(imagery.poster_cropped()[1])
    page.get_by_label("File").set_input_files(str(upload))
    page.get_by_role("button", name="Look up").click()
    # The first lookup in a fresh install compiles the index's numba kernels (cached after), so it may take seconds.
    expect(page.locator("#lookup-hashes")).to_contain_text(hash_media(upload.read_bytes()).sha256, timeout=patience(180) * 1000)
    expect(page.locator("#lookup-matches")).to_contain_text("Iron Dawn posters")

    cat = tmp_path / "cat.png"
    cat.write_bytes(imagery.cat()[1])
    page.get_by_label("File").set_input_files(str(cat))
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#lookup-matches")).to_contain_text("No match in any bank")


def test_the_entry_form_offers_the_signal_types_in_use(page, live_server) -> None:
    secret = _admin(live_server, "typesadmin")
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill("typesadmin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, typesadmin")).to_be_visible()
    page.goto(live_server.url + "/console/safety/banks")
    page.get_by_label("Name").fill("Exact hashes only")
    page.get_by_label("Policy").select_option("terrorism")
    page.get_by_role("button", name="Create bank").click()
    expect(page.get_by_role("heading", name="Exact hashes only")).to_be_visible()
    signal_type = page.get_by_label("Signal type")
    assert signal_type.locator("option").all_inner_texts() == list(registry.DEFAULT_SIGNAL_TYPES)
    try:
        registry.install(["sha256", "pdq"])  # as the container's builder does for signal_types = ["sha256", "pdq"]
        page.reload()
        expect(signal_type.locator("option")).to_have_text(["sha256", "pdq"])
    finally:
        registry.install(registry.DEFAULT_SIGNAL_TYPES)
