"""Improve page review tools: identical messages grouped with counts, pages, long messages
truncated, "ignore" (audited, reversible), and the right topic chosen from a transcript line."""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
import sqlalchemy as sa

from console import db, improve
from tests.console.console_helpers import Convo, conversation_path, store

RECENT = time.time() - 3600
LONG = "my scalp " + "itches and flakes " * 40 + "what now"


def event_ids(url: str, text: str) -> list:
    e = db.tables().events
    with db.session(url) as s:
        return list(
            s.scalars(
                sa.select(e.c.id).where(e.c.type_name == "user", e.c.data.contains(f'"text": "{text}"'))
            )
        )


def audit_rows(url: str) -> list:
    log = db.tables().audit_log
    with db.session(url) as s:
        return s.execute(sa.select(log.c.action, log.c.target, log.c.detail).order_by(log.c.id)).all()


@pytest.fixture
def repeated(console_url):
    a = Convo(RECENT)
    a.turn("how much is it", "nlu_fallback", "Sorry?", confidence=0.2)
    a.turn("asdf", "nlu_fallback", "Sorry?", confidence=0.1)
    b = Convo(RECENT + 60).turn("How much is  it", "nlu_fallback", "Sorry?", confidence=0.3)
    c = Convo(RECENT + 120).turn("how much is it", "nlu_fallback", "Sorry?", confidence=0.25)
    c.turn(LONG, "nlu_fallback", "Sorry?", confidence=0.2)
    c.turn("/affirm", "affirm", "Good.", confidence=1.0)
    store(console_url, a, b, c)
    return a, b, c


def rows_of(page: str) -> list:
    return re.findall(r'name="(?:ignore|undo)" value="(\d+)"', page)


def test_identical_messages_are_one_row_with_a_count(reviewer_client, repeated, console_url):
    page = reviewer_client.get("/improve").text
    assert len(rows_of(page)) == 3  # "how much is it" x3, "asdf", the long one
    assert page.count('title="Identical messages">×3</span>') == 1
    counts = re.findall(r'</code> <span class="muted">\((\d+)\)', page)
    assert sum(int(n) for n in counts) == 5  # each guessed-intent group counts every message
    groups = improve.not_understood(console_url, improve.Path("/nonexistent"), RECENT - 60)
    rows = sorted(r.count for g in groups for r in g.rows)
    assert rows == [1, 1, 3] and len({g.predicted for g in groups}) == len(groups)
    newest = max(event_ids(console_url, "how much is it"))
    assert f'name="only" value="{newest}"' in page


def test_rows_are_paginated(reviewer_client, repeated, monkeypatch):
    monkeypatch.setattr(improve, "PAGE_SIZE", 2)
    first = reviewer_client.get("/improve").text
    second = reviewer_client.get("/improve?page=2").text
    assert len(rows_of(first)) == 2 and len(rows_of(second)) == 1
    assert "Page 1 of 2" in first and 'href="/improve?days=30&amp;page=2"' in first
    assert "Page 2 of 2" in second and set(rows_of(first)).isdisjoint(rows_of(second))
    assert rows_of(reviewer_client.get("/improve?page=99").text) == rows_of(second)
    assert rows_of(reviewer_client.get("/improve?page=x").text) == rows_of(first)


def test_very_long_messages_are_truncated_with_the_full_text_on_demand(reviewer_client, repeated):
    page = reviewer_client.get("/improve").text
    assert '<details class="longtext"><summary><span class="text">' + LONG[: improve.TRUNCATE_AT] + "…</span>" in page
    assert f"Show the full message ({len(LONG)} characters)" in page
    assert f'<p class="text">{LONG}</p>' in page
    assert page.count('<details class="longtext">') == 1


def test_ignore_hides_every_identical_message_is_audited_and_reversible(
    reviewer_client, repeated, settings, console_url, caplog
):
    caplog.set_level(logging.DEBUG)
    one = min(event_ids(console_url, "how much is it"))
    response = reviewer_client.post(
        "/improve/add", data={"csrf_token": reviewer_client.csrf, "ignore": str(one), "days": "7", "page": "1"}
    )
    assert response.status_code == 303 and "msg=ignored" in response.headers["location"]
    assert "days=7" in response.headers["location"]
    page = reviewer_client.get("/improve").text
    assert "how much is it" not in page and "How much is  it" not in page and "asdf" in page
    assert "Show hidden messages (1)" in page
    hidden = reviewer_client.get("/improve?ignored=1").text
    assert "how much is it" in hidden and "asdf" not in hidden and "Show again" in hidden
    stored = (settings.data_dir / improve.IGNORED_FILE).read_text(encoding="utf-8")
    assert "how much" not in stored and list(json.loads(stored).values())[0]["by"]
    assert not settings.nlu_inbox.exists() or not any(settings.nlu_inbox.iterdir())
    # ignoring again changes nothing and is not audited twice
    reviewer_client.post("/improve/add", data={"csrf_token": reviewer_client.csrf, "ignore": str(one)})
    undo = reviewer_client.post("/improve/add", data={"csrf_token": reviewer_client.csrf, "undo": str(one)})
    assert "msg=unignored" in undo.headers["location"]
    assert "how much is it" in reviewer_client.get("/improve").text
    rows = [r for r in audit_rows(console_url) if r.action in ("improve.ignore", "improve.unignore")]
    assert [r.action for r in rows] == ["improve.ignore", "improve.unignore"]
    assert all("how much" not in f"{r.target} {r.detail}" for r in rows)
    assert "how much" not in caplog.text


def test_ignore_needs_csrf_and_a_user_message(reviewer_client, repeated, console_url):
    one = str(event_ids(console_url, "asdf")[0])
    for data in ({"ignore": one}, {"ignore": one, "csrf_token": "wrong"}):
        assert reviewer_client.post("/improve/add", data=data).status_code == 403
    assert "asdf" in reviewer_client.get("/improve").text
    bad = reviewer_client.post("/improve/add", data={"csrf_token": reviewer_client.csrf, "ignore": "x"})
    assert bad.status_code == 400
    missing = reviewer_client.post("/improve/add", data={"csrf_token": reviewer_client.csrf, "ignore": "999999"})
    assert "err=nothing" in missing.headers["location"]
    with pytest.raises(ValueError):
        improve.set_ignored(improve.Path("/tmp/x/nlu_inbox"), "../../etc", "u", True)


def test_a_transcript_line_offers_the_right_topic_and_writes_the_nlu_inbox(
    reviewer_client, repeated, settings, console_url, caplog
):
    caplog.set_level(logging.DEBUG)
    a, _, c = repeated
    typed = min(event_ids(console_url, "how much is it"))
    transcript = reviewer_client.get(conversation_path(reviewer_client, c.sender_id)).text
    links = re.findall(r'href="/improve\?topic=(\d+)"', transcript)
    assert len(links) == 2 and "Wrong answer? Choose the right topic" in transcript  # not the button click
    picker = reviewer_client.get(f"/improve?topic={typed}")
    assert picker.status_code == 200
    assert 'name="csrf_token"' in picker.text and '<option value="ask_price">' in picker.text
    assert f'name="only" value="{typed}"' in picker.text and "how much is it" in picker.text
    assert reviewer_client.get("/improve?topic=999999").status_code == 404
    assert reviewer_client.get("/improve?topic=x").status_code == 404
    response = reviewer_client.post(
        "/improve/add",
        data={"csrf_token": reviewer_client.csrf, "only": str(typed), "intent": "ask_price", "back": "transcript"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == conversation_path(reviewer_client, a.sender_id) + f"?msg=added#e{typed}"
    assert improve.read_examples(settings.nlu_inbox / "ask_price.yml") == ["how much is it"]
    wrong = reviewer_client.post(
        "/improve/add",
        data={"csrf_token": reviewer_client.csrf, "only": str(typed), "intent": "nope", "back": "transcript"},
    )
    assert wrong.headers["location"] == conversation_path(reviewer_client, a.sender_id) + f"?err=intent#e{typed}"
    rows = [r for r in audit_rows(console_url) if r.action == "improve.add"]
    assert len(rows) == 1 and rows[0].target == "nlu_inbox:ask_price" and "how much" not in rows[0].detail
    assert "how much" not in caplog.text
    # the Improve page now marks it as added
    assert '<span class="badge ok">Added</span>' in reviewer_client.get("/improve").text


def test_the_topic_picker_needs_a_signed_in_user(client, repeated, console_url):
    typed = event_ids(console_url, "asdf")[0]
    response = client.get(f"/improve?topic={typed}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
