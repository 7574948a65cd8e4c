"""Sign-in, sessions, roles and CSRF on every route of the console."""

from __future__ import annotations

import datetime as dt
import os
import stat
import time

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from console import accounts, db, security
from console.config import load_secret
from tests.console.console_helpers import PASSWORD, SQLITE_ONLY, Convo, csrf_from, login, store

ADMIN_ONLY = {
    ("GET", "/admin/audit"),
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/{user_id}"),
    ("GET", "/followups/export.csv"),
    ("GET", "/conversations/{ref}/export.csv"),
    ("POST", "/conversations/{ref}/delete"),
}
STAFF = {
    ("GET", "/"),
    ("GET", "/inbox"),
    ("GET", "/conversations/{ref}"),
    ("POST", "/conversations/{ref}/tags"),
    ("POST", "/conversations/{ref}/tags/{tag_id}/remove"),
    ("POST", "/conversations/{ref}/review"),
    ("POST", "/conversations/{ref}/notes"),
    ("POST", "/conversations/{ref}/flags"),
    ("GET", "/followups"),
    ("POST", "/followups/{request_id}/status"),
    ("POST", "/followups/{request_id}/assignee"),
    ("POST", "/inbox/views"),
    ("POST", "/inbox/views/{view_id}/delete"),
    ("GET", "/improve"),
    ("POST", "/improve/add"),
    ("GET", "/improve/files/{intent}.yml"),
    ("GET", "/overview"),
    ("POST", "/logout"),
}
PUBLIC = {("GET", "/login"), ("POST", "/login")}


def routes(app):
    for route in app.routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                yield method, route.path


def fill(path: str, ref: str) -> str:
    return (
        path.replace("{ref}", ref)
        .replace("{tag_id}", "1")
        .replace("{request_id}", "1")
        .replace("{view_id}", "1")
        .replace("{user_id}", "1")
        .replace("{intent}", "ask_cost")
    )


@pytest.fixture
def sender(console_url) -> str:
    convo = Convo().turn("hello", "greet")
    store(console_url, convo)
    return convo.sender_id


@pytest.fixture
def ref(app, sender) -> str:
    """The reference the console names the conversation by."""
    return app.state.references.one(sender)


@SQLITE_ONLY
def test_every_route_is_classified(app):
    """A new route must be added to one of these sets, which the tests below then check."""
    assert set(routes(app)) == ADMIN_ONLY | STAFF | PUBLIC


@SQLITE_ONLY
def test_no_route_but_login_and_static_answers_without_a_session(app, client, sender, ref):
    for method, path in routes(app):
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, fill(path, ref), data={"csrf_token": "x"})
        if method == "GET":
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next="), path
        else:
            assert response.status_code == 401, path
        assert "hello" not in response.text
    assert client.get("/login").status_code == 200
    assert client.get("/static/console.css").status_code == 200
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404


@SQLITE_ONLY
def test_reviewer_is_refused_every_admin_route_and_reaches_the_others(app, reviewer_client, sender, ref):
    for method, path in sorted(routes(app)):
        if (method, path) in PUBLIC or (method, path) == ("POST", "/logout"):
            continue
        response = reviewer_client.request(
            method, fill(path, ref), data={"csrf_token": reviewer_client.csrf}
        )
        if (method, path) in ADMIN_ONLY:
            assert response.status_code == 403, path
        else:
            assert response.status_code not in (401, 403), (path, response.status_code)


@SQLITE_ONLY
def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(app, admin_client, sender, console_url, ref):
    posts = [path for method, path in routes(app) if method == "POST" and path != "/login"]
    assert len(posts) >= 10
    for path in posts:
        for data in ({}, {"csrf_token": "wrong"}, {"csrf_token": ""}):
            data = {
                **data,
                "name": "csrf-probe",
                "text": "csrf-probe",
                "confirm": ref[:8],
                "status": "closed",
                "username": "mallory",
                "password": "long enough password",
                "password2": "long enough password",
            }
            response = admin_client.post(fill(path, ref), data=data)
            assert response.status_code == 403, (path, data.get("csrf_token"))
            assert "security token" in response.text
    t = db.tables()
    with db.session(console_url) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(t.tag)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(t.note)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(t.staff_user)) == 1
        assert (
            s.scalar(sa.select(sa.func.count()).select_from(t.events).where(t.events.c.sender_id == sender))
            > 0
        )
    assert admin_client.get("/inbox").status_code == 200


@SQLITE_ONLY
def test_a_token_from_another_session_is_refused(app, client, admin, reviewer, sender, ref):
    other = TestClient(app, follow_redirects=False)
    login(other, reviewer.username)
    foreign = csrf_from(other.get("/inbox").text)
    login(client, admin.username)
    response = client.post(f"/conversations/{ref}/notes", data={"csrf_token": foreign, "text": "x"})
    assert response.status_code == 403


@SQLITE_ONLY
def test_login_form_has_its_own_csrf_token(client, admin):
    assert client.post("/login", data={"username": admin.username, "password": PASSWORD}).status_code == 403
    client.get("/login")
    response = client.post(
        "/login", data={"username": admin.username, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert security.SESSION_COOKIE not in client.cookies


@SQLITE_ONLY
def test_login_sets_a_hardened_session_cookie(client, admin, console_url):
    response = login(client, admin.username)
    assert response.status_code == 303 and response.headers["location"] == "/inbox"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(security.SESSION_COOKIE))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags.replace("samesite", "")
    with db.session(console_url) as s:
        row = s.execute(sa.select(db.tables().staff_user)).one()
    assert row.last_login_at is not None and row.failed_logins == 0


@SQLITE_ONLY
def test_cookies_are_secure_when_configured_even_behind_a_plain_http_proxy(app, settings):
    settings.secure_cookies = True
    with TestClient(app, follow_redirects=False) as c:
        cookie = c.get("/login").headers["set-cookie"]
    assert cookie.startswith(security.LOGIN_CSRF_COOKIE) and "; secure" in cookie.lower()


@SQLITE_ONLY
def test_cookie_is_secure_over_https(app, admin):
    with TestClient(app, base_url="https://console.test", follow_redirects=False) as c:
        cookie = next(
            h
            for h in login(c, admin.username).headers.get_list("set-cookie")
            if h.startswith(security.SESSION_COOKIE)
        )
    assert "; secure" in cookie.lower()


def test_wrong_password_and_unknown_user_fail_alike(client, admin):
    wrong = login(client, admin.username, "not the password at all")
    unknown = login(client, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "Sign-in failed" in wrong.text and "Sign-in failed" in unknown.text
    assert security.SESSION_COOKIE not in client.cookies


def test_five_failures_lock_the_account_for_fifteen_minutes(client, admin, console_url):
    for _ in range(5):
        assert login(client, admin.username, "wrong password 123").status_code == 401
    assert login(client, admin.username).status_code == 401
    t = db.tables().staff_user
    with db.session(console_url) as s:
        locked_until = accounts.as_utc(s.scalar(sa.select(t.c.locked_until)))
    remaining = locked_until - accounts.utcnow()
    assert dt.timedelta(minutes=14) < remaining <= dt.timedelta(minutes=15)
    with db.session(console_url) as s:
        s.execute(sa.update(t).values(locked_until=accounts.utcnow() - dt.timedelta(seconds=1)))
    assert login(client, admin.username).status_code == 303


def test_four_failures_then_success_resets_the_counter(client, admin, console_url):
    for _ in range(4):
        login(client, admin.username, "wrong password 123")
    assert login(client, admin.username).status_code == 303
    with db.session(console_url) as s:
        assert s.scalar(sa.select(db.tables().staff_user.c.failed_logins)) == 0


def test_failed_login_is_delayed_and_audited(client, admin, settings, console_url):
    settings.login_failure_delay = 0.3
    started = time.perf_counter()
    login(client, admin.username, "wrong password 123")
    assert time.perf_counter() - started >= 0.3
    log = db.tables().audit_log
    with db.session(console_url) as s:
        rows = s.execute(sa.select(log.c.username, log.c.action)).all()
    assert (admin.username, "login.failed") in [tuple(r) for r in rows]


def test_logout_ends_the_session_even_if_the_cookie_is_replayed(client, admin):
    login(client, admin.username)
    token = client.cookies.get(security.SESSION_COOKIE)
    csrf = csrf_from(client.get("/inbox").text)
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/inbox").status_code == 303
    client.cookies.set(security.SESSION_COOKIE, token)
    assert client.get("/inbox").status_code == 303


@SQLITE_ONLY
def test_tampered_or_foreign_cookie_is_refused(client, admin, app):
    login(client, admin.username)
    token = client.cookies.get(security.SESSION_COOKIE)
    assert client.get("/inbox").status_code == 200
    client.cookies.clear()
    client.cookies.set(security.SESSION_COOKIE, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert client.get("/inbox").status_code == 303
    forged, _ = security.Signer("another secret key" * 3, 3600).new_session(admin.id, admin.password_hash)
    client.cookies.clear()
    client.cookies.set(security.SESSION_COOKIE, forged)
    assert client.get("/inbox").status_code == 303


@SQLITE_ONLY
def test_expired_session_is_refused(client, admin, app):
    token, _ = app.state.signer.new_session(admin.id, admin.password_hash)
    client.cookies.set(security.SESSION_COOKIE, token)
    assert client.get("/inbox").status_code == 200
    app.state.signer.max_age = -1
    assert client.get("/inbox").status_code == 303


def test_password_change_or_deactivation_ends_sessions(client, admin, reviewer, console_url):
    login(client, reviewer.username)
    assert client.get("/inbox").status_code == 200
    accounts.update_user(console_url, reviewer.id, password="a brand new passphrase")
    assert client.get("/inbox").status_code == 303
    login(client, reviewer.username, "a brand new passphrase")
    assert client.get("/inbox").status_code == 200
    accounts.update_user(console_url, reviewer.id, active=False)
    assert client.get("/inbox").status_code == 303
    assert login(client, reviewer.username, "a brand new passphrase").status_code == 401


@SQLITE_ONLY
def test_next_parameter_only_follows_local_paths(client, admin):
    for target, expected in (
        ("/followups", "/followups"),
        ("//evil.example/x", "/inbox"),
        ("https://evil.example/", "/inbox"),
        ("/\\evil.example", "/inbox"),
    ):
        page = client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": admin.username,
                "password": PASSWORD,
                "csrf_token": csrf_from(page.text),
                "next": target,
            },
        )
        assert response.headers["location"] == expected, target


@SQLITE_ONLY
def test_security_headers_on_pages_and_static_files(client, admin):
    for response in (client.get("/login"), client.get("/static/console.css")):
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"
    login(client, admin.username)
    assert client.get("/inbox").headers["cache-control"] == "no-store"


def test_passwords_are_hashed_with_argon2id_production_parameters(monkeypatch):
    monkeypatch.setattr(security, "_hasher", security.PasswordHasher())
    hashed = security.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and "m=65536,t=3" in hashed
    assert PASSWORD not in hashed


def test_short_passwords_and_bad_usernames_are_refused(console_url):
    with pytest.raises(accounts.AccountError, match="12 characters"):
        accounts.create_user(console_url, "bob", "short pass", "reviewer")
    with pytest.raises(accounts.AccountError):
        accounts.create_user(console_url, "<script>", PASSWORD, "reviewer")
    with pytest.raises(accounts.AccountError):
        accounts.create_user(console_url, "bob", PASSWORD, "superuser")


def test_secret_key_is_generated_once_with_private_permissions(tmp_path, monkeypatch):
    monkeypatch.delenv("CONSOLE_SECRET_KEY", raising=False)
    first = load_secret(tmp_path)
    assert len(first) >= 32 and load_secret(tmp_path) == first
    assert stat.S_IMODE(os.stat(tmp_path / "console_secret").st_mode) == 0o600
    monkeypatch.setenv("CONSOLE_SECRET_KEY", "k" * 40)
    assert load_secret(tmp_path) == "k" * 40
    monkeypatch.setenv("CONSOLE_SECRET_KEY", "short")
    with pytest.raises(SystemExit):
        load_secret(tmp_path)
