"""Headless Chromium drives the staff console like a clinic reviewer would.

Sign in, open the "Needs attention" home (the new request is listed, with counts in
the navigation), filter the inbox to "consultation requested", open the transcript
(conversation only, then the technical details), tag it, mark it reviewed (the page
keeps its place), open the follow-up list (clickable e-mail) and export the CSV (which
must hold the contact the visitor consented to give), open the overview and follow a
number to the filtered inbox. Screenshots go to artifacts/screenshots/console-*.png.

- `test_review_flow_on_a_live_conversation`: the conversation is a real one with the
  running bot (`live_stack`, tests/fixtures/stack.py), booked over Rasa's REST channel.
- `test_review_flow_on_a_seeded_database`: the same flow against seeded conversations
  and a console served in-process, so the console can be checked without the bot.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from channels.client import new_sender
from console import __main__ as cli
from console import db, seeding
from tests.console.console_helpers import SQLITE_ONLY, Convo, store
from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOT_DIR

ROOT = Path(__file__).resolve().parents[2]
SHOTS = SCREENSHOT_DIR
ADMIN = "browser-admin"
ADMIN_PASSWORD = "browser test passphrase"
CONTACT = "test.patient@example.com"
TAG = "called back"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Chromium not found at {CHROMIUM}; `make browser` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def create_admin(db_url: str, monkeypatch) -> None:
    monkeypatch.setenv("CONSOLE_ADMIN_PASSWORD", ADMIN_PASSWORD)
    assert cli.create_account(ADMIN, "admin", db_url) == 0


def stored_ref(db_url: str, sender_id: str) -> str:
    """The reference the console named the conversation by (console/references.py)."""
    t = db.tables().conversation_reference
    with db.session(db_url) as s:
        ref = s.scalar(sa.select(t.c.ref).where(t.c.sender_id == sender_id))
    assert ref, "the console has not shown the conversation yet"
    return ref


def review_flow(browser, base_url: str, db_url: str, sender_id: str, name: str, prefix: str) -> str:
    """Runs the reviewer's flow in Chromium; returns the exported follow-up CSV."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: response.status >= 400 and problems.append(f"{response.status} {response.url}"),
    )
    try:
        page.goto(f"{base_url}/inbox")
        page.wait_for_url(re.compile(r".*/login\?next=.*"))
        page.get_by_label("User name").fill(ADMIN)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r".*/inbox$"))

        # Home: what needs attention, with the counts in the navigation
        nav_count = page.locator('nav[aria-label="Main"] a', has_text="Needs attention").locator(".count-pill")
        assert int(nav_count.inner_text()) >= 1
        page.get_by_role("link", name=re.compile("^Needs attention")).click()
        page.wait_for_url(re.compile(r".*/$"))
        page.get_by_role("heading", name="Needs attention", level=1).wait_for()
        new_requests = page.locator("section#new")
        assert name in new_requests.inner_text()
        assert int(new_requests.locator("h2 .badge").inner_text()) >= 1
        page.screenshot(path=str(SHOTS / f"console-{prefix}-0-home.png"), full_page=True)
        ref = stored_ref(db_url, sender_id)  # staff see the reference, never the sender id
        new_requests.get_by_role("link", name=name).click()
        page.wait_for_url(re.compile(f".*/conversations/{ref}$"))
        assert sender_id not in page.content()
        page.go_back()

        page.get_by_role("link", name="Inbox", exact=True).click()
        page.wait_for_url(re.compile(r".*/inbox$"))
        page.get_by_role("checkbox", name="Consultation requested").check()
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(re.compile(r".*outcome=consultation.*"))
        # the filters saved as a view: a link above the inbox from now on
        page.get_by_label("Save these filters as a view").fill(f"{prefix} consultations")
        page.get_by_role("button", name="Save view").click()
        page.wait_for_url(re.compile(r".*msg=view_saved#views$"))
        saved = page.locator("nav.saved-views").get_by_role("link", name=f"{prefix} consultations")
        assert saved.get_attribute("aria-current") == "page"
        row = page.locator("table.inbox tbody tr", has=page.locator(f'a[href="/conversations/{ref}"]'))
        row_text = row.inner_text()
        assert "Consultation requested" in row_text and name in row_text
        assert "Opened" in row_text  # opened once from the home page, not reviewed yet
        assert "book" in row.locator(".preview").inner_text().lower()
        page.screenshot(path=str(SHOTS / f"console-{prefix}-1-inbox-consultations.png"), full_page=True)

        row.get_by_role("link", name=re.compile("Open")).click()
        page.wait_for_url(re.compile(f".*/conversations/{ref}$"))
        assert "Consultation requested" in page.locator("aside").inner_text()
        # conversation only by default: no action or slot lines, no intent codes
        assert page.locator("li.ev.user").count() >= 1 and page.locator("li.ev.action").count() == 0
        assert "Understood as" not in page.locator("section.turns").inner_text()
        page.screenshot(path=str(SHOTS / f"console-{prefix}-2-transcript.png"), full_page=True)
        page.get_by_role("link", name="Show technical details").click()
        page.wait_for_url(re.compile(r".*details=1$"))
        assert page.locator("li.ev.action").count() >= 1
        assert "Understood as" in page.locator("section.turns").inner_text()
        page.screenshot(path=str(SHOTS / f"console-{prefix}-2b-transcript-details.png"), full_page=True)
        page.get_by_role("link", name="Show the conversation only").click()
        page.wait_for_url(re.compile(f".*/conversations/{ref}$"))

        page.get_by_label("Add a tag").fill(TAG)
        page.get_by_role("button", name="Add tag").click()
        page.wait_for_url(re.compile(r".*msg=tagged#tags$"))
        assert page.evaluate("location.hash") == "#tags"
        page.get_by_role("button", name="Mark as reviewed").click()
        page.wait_for_url(re.compile(r".*msg=reviewed#review$"))
        review = page.locator("aside").inner_text()
        assert TAG in review and f"Reviewed by {ADMIN}" in review.replace("\n", " ")
        page.screenshot(path=str(SHOTS / f"console-{prefix}-3-tagged-reviewed.png"), full_page=True)

        page.get_by_role("link", name=re.compile("^Follow-ups")).click()
        page.wait_for_url(re.compile(r".*/followups$"))
        followup_row = page.locator("table.followups tbody tr", has_text=name)
        assert followup_row.locator(f'a[href="mailto:{CONTACT}"]').count() == 1
        assert "ago" in followup_row.inner_text()
        followup_row.get_by_label(f"Who follows up the request from {name}").select_option(ADMIN)
        followup_row.get_by_role("button", name="Assign").click()
        page.wait_for_url(re.compile(r".*msg=assigned#as\d+$"))
        page.get_by_label("Assigned to").select_option("mine")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url(re.compile(r".*assignee=mine.*"))
        followup_row = page.locator("table.followups tbody tr", has_text=name)
        assert f"Assigned to {ADMIN}" in followup_row.locator("details.history").text_content()
        page.screenshot(path=str(SHOTS / f"console-{prefix}-4-followups.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_role("link", name="Export CSV").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8")

        page.get_by_role("link", name="Overview").click()
        page.wait_for_selector(".chart.drawn canvas")
        assert page.locator(".funnel-steps li").count() == 3
        page.screenshot(path=str(SHOTS / f"console-{prefix}-5-overview.png"), full_page=True)
        page.locator(".stats a", has_text="consultation requests").click()
        page.wait_for_url(re.compile(r".*/inbox\?outcome=consultation&date_from=.*"))
        assert page.locator(f'table.inbox a[href="/conversations/{ref}"]').count() == 1
        page.locator("nav.saved-views").get_by_role("link", name=f"{prefix} consultations").click()
        page.wait_for_url(re.compile(r".*/inbox\?outcome=consultation$"))
        assert page.locator(f'table.inbox a[href="/conversations/{ref}"]').count() == 1

        page.set_viewport_size({"width": 820, "height": 1180})
        page.goto(f"{base_url}/conversations/{ref}")
        page.get_by_role("button", name="Mark as not reviewed").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 820
        page.screenshot(path=str(SHOTS / f"console-{prefix}-6-transcript-tablet.png"), full_page=True)
    finally:
        context.close()
    assert problems == [], problems
    return exported


def assert_reviewed_and_tagged(db_url: str, sender_id: str) -> None:
    t = db.tables()
    with db.session(db_url) as s:
        assert (
            s.scalar(
                sa.select(t.conversation_review.c.reviewed_by).where(
                    t.conversation_review.c.sender_id == sender_id
                )
            )
            == ADMIN
        )
        assert (
            s.scalar(
                sa.select(t.tag.c.name)
                .join(t.conversation_tag, t.conversation_tag.c.tag_id == t.tag.c.id)
                .where(t.conversation_tag.c.sender_id == sender_id)
            )
            == TAG
        )


def assert_contact_exported(exported: str, db_url: str, sender_id: str, name: str) -> None:
    rows = [r for r in csv.DictReader(io.StringIO(exported)) if r["conversation"] == stored_ref(db_url, sender_id)]
    assert len(rows) == 1 and sender_id not in exported
    assert rows[0]["email"] == CONTACT and rows[0]["name"] == name


REPLIES = (
    (re.compile(r"\bagree\b|\bconsent"), "yes"),
    (re.compile(r"kind of consultation"), "mesotherapy"),
    (re.compile(r"e-?mail|phone"), CONTACT),
    (re.compile(r"when is it best|what time|\btime\b"), "mornings"),
    (re.compile(r"\bname\b"), "Test Patient"),
)
CONFIRMED = re.compile(r"has been passed to|has been saved|request .* confirmed")


def book_consultation(rasa_url: str, sender_id: str) -> list:
    """Talks to the bot over REST until it confirms the request (at most 10 turns)."""
    transcript = []
    message = "I'd like to book a consultation"
    with httpx.Client(timeout=60) as client:
        for _ in range(10):
            response = client.post(
                f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender_id, "message": message}
            )
            response.raise_for_status()
            said = " ".join(part.get("text") or "" for part in response.json()).lower()
            transcript.append((message, said))
            if CONFIRMED.search(said):
                return transcript
            message = next((answer for pattern, answer in REPLIES if pattern.search(said)), None)
            assert message, f"no scripted answer for the bot's reply: {said!r}"
    raise AssertionError(f"no confirmation after 10 turns: {transcript}")


def test_review_flow_on_a_live_conversation(live_stack, browser, monkeypatch):
    create_admin(live_stack.db_url, monkeypatch)
    sender_id = new_sender(live_stack.rasa_url)  # the channel accepts only ids it issued
    book_consultation(live_stack.rasa_url, sender_id)
    exported = review_flow(browser, live_stack.console_url, live_stack.db_url, sender_id, "Test Patient", "live")
    assert_contact_exported(exported, live_stack.db_url, sender_id, "Test Patient")
    assert_reviewed_and_tagged(live_stack.db_url, sender_id)
    e = db.tables().events
    with db.session(live_stack.db_url) as s:
        texts = " ".join(s.scalars(sa.select(e.c.data).where(e.c.sender_id == sender_id)))
    assert CONTACT not in texts, "the tracker store must redact the e-mail address"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(app):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "console server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


@SQLITE_ONLY
def test_review_flow_on_a_seeded_database(app, console_url, browser, monkeypatch):
    seeding.seed(console_url, 40, days=5)
    create_admin(console_url, monkeypatch)
    booked = Convo(time.time() - 600).turn(
        "I'd like to book a consultation", "book_consultation", "What kind of consultation would you like?"
    )
    now = dt.datetime.now(dt.timezone.utc)
    booked.record(
        "consultation_request",
        updated_at=now,
        kind="mesotherapy",
        name="Seeded Patient",
        email=CONTACT,
        phone=None,
        time_window="mornings",
        consent_at=now,
        status="new",
        reason=None,
    )
    store(console_url, booked)
    with served(app) as base_url:
        exported = review_flow(browser, base_url, console_url, booked.sender_id, "Seeded Patient", "seeded")
    assert_contact_exported(exported, console_url, booked.sender_id, "Seeded Patient")
    assert_reviewed_and_tagged(console_url, booked.sender_id)


@SQLITE_ONLY
def test_plain_language_transcript_of_a_seeded_screening(app, console_url, browser, monkeypatch):
    """A seeded contraindication screening reads in plain words: answers by their
    questions, clicks as the buttons the visitor saw, no codes; the technical lines
    appear only behind the toggle. A flag keeps the reader at the flagged message."""
    seeding.seed(console_url, 120, days=5, seed_value=4)
    create_admin(console_url, monkeypatch)
    t = db.tables()
    with db.session(console_url) as s:
        sender_id = s.scalar(
            sa.select(t.screening_result.c.sender_id)
            .where(t.screening_result.c.outcome == "contraindication_reported", t.screening_result.c.completed.is_(True))
            .limit(1)
        )
    assert sender_id, "the seed has a completed screening with a contraindication"
    ref = app.state.references.one(sender_id)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with served(app) as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        try:
            page.goto(f"{base_url}/conversations/{ref}")
            page.get_by_label("User name").fill(ADMIN)
            page.get_by_label("Password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(f".*/conversations/{ref}$"))
            turns = page.locator("section.turns").inner_text()
            outcomes = page.locator("aside").inner_text()
            assert "Are you pregnant, or could you be?" in turns and "Are you pregnant, or could you be?" in outcomes
            assert "Screening: Contraindication reported" in outcomes
            for code in ("/deny", "/affirm", "sc_pregnancy", "sc_allergy", "check_eligibility", "action_", "utter_"):
                assert code not in turns and code not in outcomes, code
            chosen = page.locator("li.ev.user .btn.chosen")
            clicks = set(chosen.all_inner_texts())
            assert clicks & {"Yes", "No", "Not sure"} and not [c for c in clicks if c.startswith("/")]
            assert page.locator("li.ev.action, li.ev.slot").count() == 0
            page.screenshot(path=str(SHOTS / "console-seeded-7-screening-transcript.png"), full_page=True)

            # flag the last visitor message: the page comes back at that message
            last = page.locator("li.ev.user").last
            event_id = last.get_attribute("id")
            last.locator("summary").click()
            last.get_by_label("Reason for the flag").fill("check this answer")
            last.get_by_role("button", name="Flag message").click()
            page.wait_for_url(re.compile(f".*msg=flagged#{event_id}$"))
            assert page.evaluate("window.scrollY") > 0
            assert "check this answer" in page.locator(f"li#{event_id}").inner_text()

            page.get_by_role("link", name="Show technical details").click()
            page.wait_for_url(re.compile(r".*details=1$"))
            details = page.locator("section.turns").inner_text()
            assert "screening_form" in details and "/deny" in details
            assert page.locator("li.ev.action").count() >= 1
        finally:
            context.close()
