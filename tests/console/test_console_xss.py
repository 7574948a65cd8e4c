"""Visitor-controlled text renders inert in every page and export; CSV cells cannot run formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
from html.parser import HTMLParser

import pytest

from console.csvexport import neutralise, to_csv
from tests.console.console_helpers import SQLITE_ONLY, Convo, conversation_path, ref_of, store

SCRIPT = "<script>alert('xss')</script>"
IMG = '<img src=x onerror="alert(1)">'
ATTR = '" autofocus onfocus="alert(2)'
PAYLOADS = (SCRIPT, IMG, ATTR)
NOW = dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def hostile(console_url) -> Convo:
    c = Convo(NOW.timestamp() - 3600, channel=IMG)
    c.turn(
        f"hi {SCRIPT}",
        "greet",
        f"bot echo {IMG}",
        entities=[{"entity": SCRIPT, "value": IMG, "role": ATTR}],
        slots={"last_claim": SCRIPT, "last_answer": f"claim:{SCRIPT}"},
    )
    c.turn(f"question {IMG}", "nlu_fallback", "Sorry?", confidence=0.2)
    c.c.bot("x", "utter_anything_else", buttons=[{"title": IMG, "payload": f"/{SCRIPT}"}])
    c.record(
        "consultation_request",
        updated_at=NOW,
        kind="general",
        name=f'=HYPERLINK("http://evil") {SCRIPT}',
        email=f"+{IMG}@example.com",
        phone="-2+3",
        time_window=f"@SUM(A1) {ATTR}",
        consent_at=NOW,
        status="new",
        reason=None,
    )
    c.record(
        "screening_result",
        answers={SCRIPT: IMG},
        outcome="doctor_check",
        flagged_items=[SCRIPT],
        completed=True,
    )
    store(console_url, c)
    return c


class Markup(HTMLParser):
    """Collects what a browser would build: elements, attributes and script bodies."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.handlers, self.script_bodies, self._in_script = [], [], [], False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.handlers += [name for name, _ in attrs if name.lower().startswith("on")]
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_bodies.append(data)


def assert_inert(page: str) -> None:
    """No payload became markup: no event handler attribute, no foreign script or image element."""
    markup = Markup(page)
    assert markup.handlers == []
    assert markup.script_bodies == []
    assert all(attrs.get("src", "").startswith("/static/") for tag, attrs in markup.tags if tag == "script")
    assert not [attrs for tag, attrs in markup.tags if tag == "img"]
    assert "&lt;script&gt;" in page or "&lt;img" in page


@SQLITE_ONLY
def test_inbox_and_search_results_are_inert(admin_client, hostile, console_url):
    from console import transcript

    transcript.add_tag(console_url, hostile.sender_id, "x")
    for query in ("", "?q=script", "?q=%3Cimg", "?fallback=1"):
        page = admin_client.get(f"/inbox{query}").text
        assert ref_of(admin_client, hostile.sender_id) in page, query
        assert_inert(page)
    page = admin_client.get(f"/inbox?q={SCRIPT}&intent={IMG}&tag={ATTR}").text
    assert_inert(page)
    assert 'value="&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;"' in page


@SQLITE_ONLY
def test_transcript_is_inert(admin_client, hostile):
    path = conversation_path(admin_client, hostile.sender_id)
    for text in PAYLOADS:
        admin_client.post(f"{path}/notes", data={"csrf_token": admin_client.csrf, "text": text})
    assert_inert(admin_client.get(path).text)
    page = admin_client.get(f"{path}?details=1").text
    assert_inert(page)
    assert page.count("&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;") >= 4
    assert "&#34; autofocus onfocus=&#34;alert(2)" in page


@SQLITE_ONLY
def test_home_page_is_inert(admin_client, hostile, console_url):
    # on the home page through its consultation request and its first message
    page = admin_client.get("/").text
    assert ref_of(admin_client, hostile.sender_id) in page
    assert_inert(page)


@SQLITE_ONLY
def test_follow_ups_and_improve_pages_are_inert(admin_client, hostile):
    for path in ("/followups", "/improve", "/overview?days=30"):
        assert_inert(admin_client.get(path).text)


@SQLITE_ONLY
def test_follow_up_csv_neutralises_formulas_and_keeps_payloads_as_text(admin_client, hostile):
    response = admin_client.get("/followups/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.text)))
    header, row = rows[0], dict(zip(rows[0], rows[1]))
    assert header[0] == "created_at"
    assert row["name"] == f'\'=HYPERLINK("http://evil") {SCRIPT}'
    assert row["email"] == f"'+{IMG}@example.com"
    assert row["phone"] == "'-2+3"
    assert row["time_window"] == f"'@SUM(A1) {ATTR}"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


@SQLITE_ONLY
def test_transcript_csv_export_neutralises_formulas(admin_client, console_url):
    c = Convo().turn("=1+2", "greet", "@cmd|' /C calc'!A0").turn("-5 hairs", "inform")
    store(console_url, c)
    response = admin_client.get(conversation_path(admin_client, c.sender_id) + "/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    texts = [r["text"] for r in rows if r["text"]]
    assert "'=1+2" in texts and "'@cmd|' /C calc'!A0" in texts and "'-5 hairs" in texts
    assert {r["intent"] for r in rows if r["kind"] == "user"} == {"greet", "inform"}


def test_neutralise_rules():
    assert neutralise("=1") == "'=1" and neutralise("+1") == "'+1" and neutralise("-1") == "'-1"
    assert neutralise("@x") == "'@x" and neutralise("\tx") == "'\tx" and neutralise("\rx") == "'\rx"
    assert neutralise("a=1") == "a=1" and neutralise(None) == "" and neutralise(3) == "3"
    assert to_csv(["h"], [["=x"], ['say "hi"']]) == '"h"\r\n"\'=x"\r\n"say ""hi"""\r\n'
