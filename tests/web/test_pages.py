from __future__ import annotations

from trustdesk.core.identity.permissions import Role
from trustdesk.core.settings import load_settings


def test_pages_redirect_to_sign_in_when_signed_out(client) -> None:
    response = client.get("/console/audit", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_forbidden_page_is_a_readable_html_page(client, staff) -> None:
    staff.sign_in(client, staff.create(Role.TRIAGE))
    response = client.get("/console/users")
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"] and "users:manage" in response.text


def test_the_session_cookie_is_http_only_and_same_site(client, staff) -> None:
    user = staff.create(Role.AUDITOR)
    response = client.post(
        "/login",
        data={"username": user.username, "password": "correct horse battery staple", "totp": staff.code(user)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_cookies_are_secure_by_default(settings) -> None:
    assert load_settings().session_cookie_secure is True


def test_admin_creates_staff_in_the_console(client, staff) -> None:
    csrf = staff.sign_in(client, staff.create(Role.ADMIN))
    form = {
        "csrf_token": csrf,
        "username": "nora",
        "display_name": "Nora",
        "email": "nora@example.org",
        "password": "p" * 14,
        "roles": ["reviewer", "triage"],
    }
    page = client.post("/console/users", data=form)
    assert page.status_code == 200 and "Created nora" in page.text and "otpauth://totp/" in page.text
    short = client.post("/console/users", data=form | {"username": "omar", "password": "short"})
    assert "at least 12 characters" in short.text
    assert "omar" not in client.get("/console/users").text


def test_a_console_form_without_the_csrf_token_is_refused(client, staff) -> None:
    staff.sign_in(client, staff.create(Role.ADMIN))
    page = client.post(
        "/console/users",
        data={"username": "mallory", "display_name": "E", "email": "e@example.org", "password": "p" * 14, "roles": ["admin"]},
    )
    assert page.status_code == 403 and "CSRF" in page.text
    assert "mallory" not in client.get("/console/users").text


def test_logout_ends_the_session(client, staff) -> None:
    csrf = staff.sign_in(client, staff.create(Role.AUDITOR))
    client.post("/logout", data={"csrf_token": csrf})
    assert client.get("/console", follow_redirects=False).status_code == 303
