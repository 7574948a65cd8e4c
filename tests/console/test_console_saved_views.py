"""Saved inbox views: a filter set under a name, links above the inbox, own or shared."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from console import accounts, db
from tests.console.console_helpers import PASSWORD, Convo, signed_in, store

T0 = 1_710_072_000.0  # 2024-03-10 12:00 UTC


@pytest.fixture
def world(console_url):
    booked = Convo(T0).turn("I'd like to book a consultation", "book_consultation")
    booked.record("consultation_request", updated_at=None, kind="mesotherapy", name="Ann Example",
                  email="ann@example.com", phone=None, time_window="mornings", consent_at=None, status="new",
                  reason=None)
    for rec in booked.c.records["consultation_request"]:
        rec["updated_at"] = rec["consent_at"] = rec["created_at"]
    plain = Convo(T0 + 3600).turn("what is mesotherapy", "ask_what_is")
    store(console_url, booked, plain)
    return {"booked": booked.sender_id, "plain": plain.sender_id}


@pytest.fixture
def other_client(app, console_url):
    """A second member of staff, in a browser of their own."""
    accounts.create_user(console_url, "olga", PASSWORD, "reviewer")
    with TestClient(app, follow_redirects=False) as c:
        c.csrf = signed_in(c, "olga")
        yield c


def views(url):
    t = db.tables().console_saved_view
    with db.session(url) as s:
        return [tuple(r) for r in s.execute(sa.select(t.c.owner, t.c.name, t.c.query, t.c.shared).order_by(t.c.id))]


def view_links(page: str) -> list:
    nav = page.split('<nav class="saved-views"')[1].split("</nav>")[0]
    return [(html.unescape(href), html.unescape(name)) for href, name in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)]


def save(client, name, filters, shared=False):
    data = {"csrf_token": client.csrf, "name": name, "filters": filters}
    if shared:
        data["shared"] = "1"
    return client.post("/inbox/views", data=data)


def view_id(url, name) -> int:
    t = db.tables().console_saved_view
    with db.session(url) as s:
        return s.scalar(sa.select(t.c.id).where(t.c.name == name))


def test_the_current_filters_are_saved_without_the_text_search_and_listed_as_a_link(
    reviewer_client, world, console_url
):
    page = reviewer_client.get("/inbox?outcome=consultation&reviewed=no&q=ann+example").text
    filters = html.unescape(re.search(r'name="filters" value="([^"]*)"', page).group(1))
    assert filters == "outcome=consultation&reviewed=no"  # the search (a visitor's words) is not offered
    assert "The text search is not saved." in page
    response = save(reviewer_client, "  Callbacks   to make ", filters + "&q=ann+example&page=3")
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox?outcome=consultation&reviewed=no&msg=view_saved#views"
    assert views(console_url) == [("rita", "Callbacks to make", "outcome=consultation&reviewed=no", False)]
    opened = reviewer_client.get(response.headers["location"]).text
    assert "View saved." in opened
    assert view_links(opened) == [("/inbox?outcome=consultation&reviewed=no", "Callbacks to make")]
    assert 'aria-current="page">Callbacks to make</a>' in opened  # the view being looked at
    assert "Ann Example" in opened and "what is mesotherapy" not in opened  # the link is the filtered inbox
    assert "aria-current" not in reviewer_client.get("/inbox").text.split('<nav class="saved-views"')[1].split("</nav>")[0]
    log = db.tables().audit_log
    with db.session(console_url) as s:
        (row,) = s.execute(sa.select(log.c.username, log.c.detail).where(log.c.action == "inbox.view_save")).all()
    assert row == ("rita", "outcome=consultation&reviewed=no")


def test_a_view_needs_a_name_and_some_filters_and_a_second_save_replaces_it(reviewer_client, world, console_url):
    assert "err=view_name" in save(reviewer_client, "   ", "fallback=1").headers["location"]
    assert "err=view_name" in save(reviewer_client, "x" * 81, "fallback=1").headers["location"]
    nothing = save(reviewer_client, "Everything", "q=only+a+search&page=2&outcome=bogus")
    assert nothing.headers["location"] == "/inbox?err=view_filters#views"
    assert "Choose some filters" in reviewer_client.get(nothing.headers["location"]).text
    assert views(console_url) == []
    save(reviewer_client, "Mine", "fallback=1")
    save(reviewer_client, "Mine", "reviewed=unread&outcome=emergency&outcome=red_flag")
    assert views(console_url) == [("rita", "Mine", "outcome=emergency&outcome=red_flag&reviewed=unread", False)]


def test_views_are_personal_unless_shared(reviewer_client, other_client, world, console_url):
    save(reviewer_client, "Rita only", "fallback=1")
    save(reviewer_client, "For everyone", "outcome=consultation", shared=True)
    save(other_client, "Olga's", "reviewed=yes")
    assert view_links(reviewer_client.get("/inbox").text) == [
        ("/inbox?outcome=consultation", "For everyone"),
        ("/inbox?fallback=1", "Rita only"),
    ]
    olga = other_client.get("/inbox").text
    assert view_links(olga) == [("/inbox?reviewed=yes", "Olga's"), ("/inbox?outcome=consultation", "For everyone")]
    assert "shared by rita" in olga
    # only the owner (or an admin) deletes; someone else's private view does not exist for them
    shared, private = view_id(console_url, "For everyone"), view_id(console_url, "Rita only")
    assert 'action="/inbox/views/%d/delete"' % shared not in olga
    assert other_client.post(f"/inbox/views/{shared}/delete", data={"csrf_token": other_client.csrf}).status_code == 403
    assert other_client.post(f"/inbox/views/{private}/delete", data={"csrf_token": other_client.csrf}).status_code == 404
    assert len(views(console_url)) == 3


def test_the_owner_or_an_admin_deletes_a_view(reviewer_client, app, admin, world, console_url):
    save(reviewer_client, "Rita only", "fallback=1")
    save(reviewer_client, "Shared", "outcome=consultation", shared=True)
    private, shared = view_id(console_url, "Rita only"), view_id(console_url, "Shared")
    assert reviewer_client.post(f"/inbox/views/{private}/delete", data={}).status_code == 403  # no CSRF token
    response = reviewer_client.post(f"/inbox/views/{private}/delete", data={"csrf_token": reviewer_client.csrf})
    assert response.status_code == 303 and response.headers["location"] == "/inbox?msg=view_deleted#views"
    assert [v[1] for v in views(console_url)] == ["Shared"]
    with TestClient(app, follow_redirects=False) as alice:
        csrf = signed_in(alice, admin.username)
        assert f'action="/inbox/views/{shared}/delete"' in alice.get("/inbox").text
        assert alice.post(f"/inbox/views/{shared}/delete", data={"csrf_token": csrf}).status_code == 303
    assert views(console_url) == []
    assert reviewer_client.post(f"/inbox/views/{shared}/delete", data={"csrf_token": reviewer_client.csrf}).status_code == 404
    log = db.tables().audit_log
    with db.session(console_url) as s:
        deleted = s.execute(sa.select(log.c.username, log.c.detail).where(log.c.action == "inbox.view_delete")).all()
    assert [tuple(r) for r in deleted] == [("rita", "Rita only"), ("alice", "Shared")]


def test_view_names_are_escaped(reviewer_client, world):
    save(reviewer_client, '<script>alert("x")</script>', "fallback=1")
    page = reviewer_client.get("/inbox").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
