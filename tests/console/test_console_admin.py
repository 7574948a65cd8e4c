"""Admin pages: accounts, audit log, deleting a conversation on the visitor's request."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import sqlalchemy as sa

from console import accounts, audit, db, transcript
from tests.console.console_helpers import PASSWORD, SQLITE_ONLY, Convo, conversation_path, login, ref_of, store


def count(url: str, table: str, sender_id=None) -> int:
    t = getattr(db.tables(), table)
    query = sa.select(sa.func.count()).select_from(t)
    if sender_id is not None:
        query = query.where(t.c.sender_id == sender_id)
    with db.session(url) as s:
        return s.scalar(query)


def audit_rows(url: str):
    log = db.tables().audit_log
    with db.session(url) as s:
        return s.execute(sa.select(log).order_by(log.c.id)).all()


def test_audit_log_lists_staff_actions_with_filters(admin_client, console_url):
    c = Convo().turn("hello", "greet")
    store(console_url, c)
    admin_client.get(conversation_path(admin_client, c.sender_id))
    admin_client.get("/followups")
    page = admin_client.get("/admin/audit").text
    for action in ("login", "transcript.view", "followups.view"):
        assert f"<code>{action}</code>" in page
    ref = ref_of(admin_client, c.sender_id)
    assert f'<a href="/conversations/{ref}">conversation:ref:{ref}</a>' in page  # links to the conversation
    assert c.sender_id not in page
    only = admin_client.get("/admin/audit?action=transcript.view").text
    assert "<code>transcript.view</code>" in only and "<code>followups.view</code>" not in only
    assert "<code>audit.view</code>" in admin_client.get("/admin/audit?username=alice").text
    assert "0 entries" in admin_client.get("/admin/audit?username=nobody").text


def test_audit_log_pages(admin_client, console_url):
    for i in range(audit.PAGE_SIZE + 5):
        audit.record(console_url, "alice", "probe", f"n:{i}")
    first = admin_client.get("/admin/audit?action=probe").text
    second = admin_client.get("/admin/audit?action=probe&page=2").text
    assert first.count("<code>probe</code>") == audit.PAGE_SIZE
    assert second.count("<code>probe</code>") == 5
    assert "n:104" in first and "n:0<" in second
    assert 'href="/admin/audit?action=probe&amp;page=2"' in first


def test_admin_creates_and_changes_accounts(admin_client, console_url):
    response = admin_client.post(
        "/admin/users",
        data={
            "csrf_token": admin_client.csrf,
            "username": "Rev.One",
            "role": "reviewer",
            "password": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 303
    user = next(u for u in accounts.list_users(console_url) if u.username == "rev.one")
    assert user.role == "reviewer" and user.password_hash.startswith("$argon2id$")
    admin_client.post(
        f"/admin/users/{user.id}",
        data={"csrf_token": admin_client.csrf, "role": "admin", "active": "1", "password": ""},
    )
    assert accounts.get_user(console_url, user.id).role == "admin"
    actions = [(r.action, r.target) for r in audit_rows(console_url)]
    assert ("account.create", "user:rev.one") in actions and ("account.update", "user:rev.one") in actions


@SQLITE_ONLY
def test_account_form_errors_are_shown(admin_client, console_url):
    base = {"csrf_token": admin_client.csrf, "username": "bob", "role": "reviewer"}
    differ = admin_client.post(
        "/admin/users", data={**base, "password": PASSWORD, "password2": PASSWORD + "x"}
    )
    short = admin_client.post("/admin/users", data={**base, "password": "short", "password2": "short"})
    taken = admin_client.post(
        "/admin/users", data={**base, "username": "alice", "password": PASSWORD, "password2": PASSWORD}
    )
    assert differ.status_code == short.status_code == taken.status_code == 400
    assert "differ" in differ.text and "12 characters" in short.text and "taken" in taken.text
    assert [u.username for u in accounts.list_users(console_url)] == ["alice"]


def test_last_active_admin_cannot_be_demoted_or_deactivated(admin_client, admin, console_url):
    for data in ({"role": "reviewer", "active": "1"}, {"role": "admin", "active": ""}):
        response = admin_client.post(
            f"/admin/users/{admin.id}", data={"csrf_token": admin_client.csrf, **data}
        )
        assert response.status_code == 400 and "last active admin" in response.text
    assert accounts.get_user(console_url, admin.id).is_admin


def test_admin_unlocks_a_locked_account(admin_client, reviewer, console_url, app):
    t = db.tables().staff_user
    with db.session(console_url) as s:
        s.execute(
            sa.update(t)
            .where(t.c.id == reviewer.id)
            .values(locked_until=accounts.utcnow() + dt.timedelta(minutes=10))
        )
    assert "locked until" in admin_client.get("/admin/users").text
    admin_client.post(
        f"/admin/users/{reviewer.id}",
        data={"csrf_token": admin_client.csrf, "role": "reviewer", "active": "1", "unlock": "1"},
    )
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as other:
        assert login(other, reviewer.username).status_code == 303


@pytest.fixture
def doomed(console_url) -> Convo:
    c = Convo().turn("delete me please", "request_deletion", "OK.")
    now = dt.datetime.now(dt.timezone.utc)
    c.record(
        "consultation_request",
        updated_at=now,
        kind="general",
        name="Del Person",
        email="del@example.com",
        phone=None,
        time_window="any",
        consent_at=now,
        status="new",
        reason=None,
    )
    c.record(
        "screening_result",
        answers={"sc_pregnancy": "no"},
        outcome="none_reported",
        flagged_items=[],
        completed=True,
    )
    keep = Convo().turn("keep me", "greet")
    store(console_url, c, keep)
    transcript.add_tag(console_url, c.sender_id, "deletion requested")
    transcript.add_note(console_url, c.sender_id, "alice", "visitor asked by phone")
    return c


def test_admin_deletes_a_conversation_and_every_record_about_the_visitor(admin_client, doomed, console_url):
    path = conversation_path(admin_client, doomed.sender_id)
    ref = path.rsplit("/", 1)[1]
    admin_client.get(path)
    assert admin_client.get("/inbox").text.count("/conversations/") == 2
    response = admin_client.post(f"{path}/delete", data={"csrf_token": admin_client.csrf, "confirm": ref[:8]})
    assert response.status_code == 303 and response.headers["location"] == "/inbox?msg=deleted"
    for table in (
        "events",
        "consultation_request",
        "screening_result",
        "conversation_tag",
        "note",
        "conversation_summary",
        "conversation_reference",
    ):
        assert count(console_url, table, doomed.sender_id) == 0, table
    assert count(console_url, "deletion_log") == 1
    assert admin_client.get(path).status_code == 404
    inbox = admin_client.get("/inbox").text
    assert ref not in inbox and inbox.count("/conversations/") == 1
    rows = audit_rows(console_url)
    digest = hashlib.sha256(doomed.sender_id.encode()).hexdigest()
    deletion = [r for r in rows if r.action == "conversation.delete"]
    assert (
        deletion and deletion[0].target == f"conversation:sha256:{digest}" and "events=" in deletion[0].detail
    )
    assert all(doomed.sender_id not in (r.target or "") + (r.detail or "") for r in rows)
    assert all(ref not in (r.target or "") for r in rows)  # the view before it was pseudonymised too


def test_deletion_needs_the_typed_confirmation_and_an_admin(client, admin, reviewer, doomed, console_url):
    from tests.console.console_helpers import signed_in

    csrf = signed_in(client, admin.username)
    path = conversation_path(client, doomed.sender_id)
    response = client.post(f"{path}/delete", data={"csrf_token": csrf, "confirm": "wrong"})
    assert response.headers["location"] == f"{path}?err=confirm"
    client.cookies.clear()
    csrf = signed_in(client, reviewer.username)
    assert "Delete conversation" not in client.get(path).text
    response = client.post(f"{path}/delete", data={"csrf_token": csrf, "confirm": ref_of(client, doomed.sender_id)[:8]})
    assert response.status_code == 403
    assert count(console_url, "events", doomed.sender_id) > 0


@SQLITE_ONLY
def test_deletion_acts_on_the_consoles_own_database(admin_client, doomed, console_url, monkeypatch):
    monkeypatch.setenv("MESOGUIDE_DB_URL", "sqlite:////nonexistent/other.db")
    path = conversation_path(admin_client, doomed.sender_id)
    admin_client.post(f"{path}/delete", data={"csrf_token": admin_client.csrf, "confirm": ref_of(admin_client, doomed.sender_id)[:8]})
    assert count(console_url, "events", doomed.sender_id) == 0


def test_transcript_export_is_audited(admin_client, doomed, console_url):
    response = admin_client.get(conversation_path(admin_client, doomed.sender_id) + "/export.csv")
    assert response.status_code == 200 and "delete me please" in response.text
    assert re.search(
        r"rows", [r.detail for r in audit_rows(console_url) if r.action == "transcript.export"][0]
    )
