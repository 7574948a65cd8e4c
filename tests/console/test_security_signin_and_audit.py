"""Issue 13, console: sessions revoked server-side, sign-in limits, no body parsed before
the session check, viewing visitors' words audited, exact audit pseudonymisation."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from fastapi.testclient import TestClient
from starlette.requests import Request

from console import accounts, db, limits, security
from records import store
from tests.console.console_helpers import PASSWORD, SQLITE_ONLY, Convo, conversation_path, csrf_from, login
from tests.console.console_helpers import store as store_convo

WRONG = "wrong password 123"


def _client(app, ip: str) -> TestClient:
    return TestClient(app, follow_redirects=False, client=(ip, 50000))


def _audit(url):
    log = db.tables().audit_log
    with db.session(url) as s:
        return [tuple(r) for r in s.execute(sa.select(log.c.username, log.c.action, log.c.target, log.c.detail).order_by(log.c.id))]


def _sign_out(client) -> str:
    token = client.cookies.get(security.SESSION_COOKIE)
    csrf = csrf_from(client.get("/inbox").text)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    return token


def test_a_signed_out_cookie_is_refused_for_pages_and_forms(client, admin, console_url, app):
    login(client, admin.username)
    csrf = csrf_from(client.get("/inbox").text)
    token = _sign_out(client)
    session = app.state.signer.read_session(token)
    assert session is not None  # the signature is still valid: only the server knows it is revoked
    digest = security.session_digest(session.session_id)
    revoked = db.tables().console_session_revocation
    with db.session(console_url) as s:
        (row,) = s.execute(sa.select(revoked)).all()
    assert row.session_digest == digest
    assert accounts.session_user(console_url, admin.id, digest) is None

    copied = TestClient(app, follow_redirects=False)
    copied.cookies.set(security.SESSION_COOKIE, token)
    assert copied.get("/inbox").status_code == 303
    assert copied.post("/conversations/x/notes", data={"csrf_token": csrf, "text": "n"}).status_code == 401


def test_forgetting_a_sender_named_like_a_session_or_a_user_touches_neither(client, admin, console_url, app):
    login(client, admin.username)
    token = _sign_out(client)
    digest = security.session_digest(app.state.signer.read_session(token).session_id)
    convo = Convo().turn("hello", "greet")
    store_convo(console_url, convo)
    accounts.create_user(console_url, "bob", PASSWORD, "reviewer")  # audit-free: add rows by hand
    log = db.tables().audit_log
    with db.session(console_url) as s:
        for target in ("user:alice", "user:bob", f"conversation:{convo.sender_id}", "nlu_inbox:greet"):
            s.execute(sa.insert(log).values(at=accounts.utcnow(), created_at=accounts.utcnow(),
                                             username="alice", action="probe", target=target, detail=""))
    before = _audit(console_url)

    for chosen in (digest, f"session:{digest}", "alice", "bob", "greet", ":alice"):
        counts = store.forget_sender(chosen, url=console_url)
        assert counts["audit_log_pseudonymised"] == 0, chosen

    assert _audit(console_url) == before
    replay = TestClient(app, follow_redirects=False)
    replay.cookies.set(security.SESSION_COOKIE, token)
    assert replay.get("/inbox").status_code == 303  # still signed out

    counts = store.forget_sender(convo.sender_id, url=console_url)
    assert counts["audit_log_pseudonymised"] == 1
    targets = [row[2] for row in _audit(console_url)]
    assert f"conversation:{convo.sender_id}" not in targets
    assert f"conversation:sha256:{store.sender_hash(convo.sender_id)}" in targets
    assert {"user:alice", "user:bob", f"session:{digest}"} <= set(targets)


@SQLITE_ONLY
def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(app, admin, console_url):
    attacker, owner = _client(app, "198.51.100.7"), _client(app, "203.0.113.9")
    for _ in range(5):
        assert login(attacker, admin.username, WRONG).status_code == 401
    t = db.tables().staff_user
    with db.session(console_url) as s:
        assert s.scalar(sa.select(t.c.locked_until)) is not None  # the account is locked...
    assert login(attacker, admin.username).status_code == 401  # ...for the address that failed
    assert login(owner, admin.username).status_code == 303  # the owner still gets in
    assert login(owner, admin.username, WRONG).status_code == 401
    with db.session(console_url) as s:
        assert s.scalar(sa.select(t.c.failed_logins)) == 1


@SQLITE_ONLY
def test_per_address_limit_refuses_further_attempts_before_any_password_check(app, settings, admin, monkeypatch):
    settings.login_ip_attempts = 3
    checks = []
    real = security.verify_password
    monkeypatch.setattr(security, "verify_password", lambda h, p: checks.append(1) or real(h, p))
    busy, other = _client(app, "198.51.100.20"), _client(app, "198.51.100.21")
    assert [login(busy, admin.username, WRONG).status_code for _ in range(3)] == [401] * 3
    refused = login(busy, admin.username)  # even the right password
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert len(checks) == 3
    assert login(other, admin.username).status_code == 303


@SQLITE_ONLY
def test_global_limit_counts_every_address(app, settings, admin):
    settings.login_global_attempts = 4
    codes = [login(_client(app, f"192.0.2.{n}"), admin.username, WRONG).status_code for n in range(1, 6)]
    assert codes == [401, 401, 401, 401, 429]


@SQLITE_ONLY
def test_parallel_attempts_from_one_address_cannot_skip_the_failure_delay(app, settings, admin):
    settings.login_failure_delay = 0.6
    client = _client(app, "198.51.100.30")
    with client:
        csrf = csrf_from(client.get("/login").text)
        barrier = threading.Barrier(4)

        def attempt(_):
            barrier.wait()
            return client.post("/login", data={"username": admin.username, "password": WRONG, "csrf_token": csrf}).status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            codes = sorted(pool.map(attempt, range(4)))
        elapsed = time.perf_counter() - started
    assert codes == [401, 429, 429, 429]
    assert elapsed >= 0.6


def test_password_checks_run_at_most_the_cap_at_once(monkeypatch):
    running, peak, lock = 0, 0, threading.Lock()

    class SlowHasher:
        def verify(self, stored, password):
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return False

    monkeypatch.setattr(security, "_hasher", SlowHasher())
    with ThreadPoolExecutor(8) as pool:
        assert not any(pool.map(lambda _: security.verify_password("h", "p"), range(16)))
    assert peak == security._max_password_checks() == 2


@SQLITE_ONLY
def test_no_form_is_parsed_before_the_session_check(app, client, admin, monkeypatch):
    parsed = []
    real_form = Request.form

    def counting_form(self, *args, **kwargs):
        parsed.append(self.url.path)
        return real_form(self, *args, **kwargs)

    monkeypatch.setattr(Request, "form", counting_form)
    body = {"csrf_token": "x", "text": "y" * 1000}
    files = {"upload": ("a.bin", b"\0" * 50_000, "application/octet-stream")}
    for path in ("/conversations/abc/notes", "/admin/users", "/improve/add", "/logout"):
        assert client.post(path, data=body, files=files).status_code == 401, path
    assert parsed == []
    login(client, admin.username)  # the sign-in form itself is parsed, before any session exists
    assert set(parsed) == {"/login"}
    csrf = csrf_from(client.get("/inbox").text)
    assert client.post("/conversations/abc/notes", data={"csrf_token": csrf, "text": "y"}).status_code in (303, 404)
    assert "/conversations/abc/notes" in parsed


@SQLITE_ONLY
def test_viewing_visitors_words_is_audited_without_the_search_text(admin_client, admin, console_url):
    convo = Convo().turn("my scalp itches", "ask_side_effects")
    store_convo(console_url, convo)
    already = len(_audit(console_url))  # signing in opened the inbox once
    assert admin_client.get("/").status_code == 200  # "Needs attention" shows first messages and names
    assert admin_client.get("/inbox", params={"q": "scalp itches", "page": "1"}).status_code == 200
    assert admin_client.get("/improve", params={"view": "sample"}).status_code == 200
    assert admin_client.get(conversation_path(admin_client, convo.sender_id)).status_code == 200
    rows = [(u, a, d) for u, a, _, d in _audit(console_url)[already:]]
    viewed = [row for row in rows if row[1] in ("home.view", "inbox.view", "improve.view", "transcript.view")]
    assert [(u, a) for u, a, _ in viewed] == [
        (admin.username, "home.view"),
        (admin.username, "inbox.view"),
        (admin.username, "improve.view"),
        (admin.username, "transcript.view"),
    ]
    assert "text search (12 characters)" in viewed[1][2]
    assert "scalp" not in repr(rows)
    assert "view=sample" in viewed[2][2]


@SQLITE_ONLY
def test_a_refused_page_is_not_audited_as_viewed(client, console_url):
    assert client.get("/inbox", params={"q": "anything"}).status_code == 303
    assert [row for row in _audit(console_url) if row[1] == "inbox.view"] == []


@SQLITE_ONLY
def test_range_requests_get_the_whole_small_file(client):
    response = client.get("/static/console.css", headers={"Range": "bytes=0-1,3-4,6-7"})
    assert response.status_code == 200
    assert len(response.content) > 8


def test_the_limiter_forgets_attempts_after_its_window():
    now = [1000.0]
    limiter = limits.LoginLimiter(per_ip=2, ip_window=60, global_attempts=100, clock=lambda: now[0])
    for _ in range(2):
        assert limiter.admit("a") is None
        limiter.done("a")
    assert limiter.admit("a") == 61
    now[0] += 61
    assert limiter.admit("a") is None
    assert limiter.admit("a") == 1  # one at a time per address
    limiter.done("a")
    limiter.record_failure("admin", "a")
    assert limiter.failed_recently("admin", "a") and not limiter.failed_recently("admin", "b")
    now[0] += limiter.failure_memory + 1
    assert not limiter.failed_recently("admin", "a")
