"""The "Needs attention" home: emergencies, red flags, contraindications, new and
overdue consultation requests, with counts on the page and in the navigation."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from console import attention, transcript
from tests.console.console_helpers import Convo, ref_of, store

NOW = time.time()
DAY = 86400.0


def request(c: Convo, name: str, age_days: float) -> Convo:
    created = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=age_days)
    c.c.records.setdefault("consultation_request", []).append(
        dict(
            sender_id=c.sender_id,
            created_at=created,
            updated_at=created,
            kind="transplant",
            name=name,
            email="x@example.com",
            phone=None,
            time_window="mornings",
            consent_at=created,
            status="new",
            reason=None,
        )
    )
    return c


@pytest.fixture
def world(console_url):
    emergency = Convo(NOW - 5 * 3600).turn(
        "my face is swelling after the injections", "emergency", "Call 999.", action="action_emergency"
    )
    emergency.record("safety_event", kind="emergency", detail="emergency")
    complication = Convo(NOW - 4 * 3600).turn("the spots are hot and red", "report_complication")
    complication.record("safety_event", kind="complication", detail="report_complication")
    red = Convo(NOW - 3 * 3600).turn("my hair falls out in patches", "describe_hair_loss")
    red.record("triage_outcome", answers={"tr_pattern": "patches"}, outcome="red_flag")
    red.record("safety_event", kind="red_flag", detail="patchy_loss")
    contra = Convo(NOW - 2 * 3600).turn("/check_eligibility", "check_eligibility")
    contra.record(
        "screening_result",
        answers={"sc_pregnancy": "yes"},
        outcome="contraindication_reported",
        flagged_items=["sc_pregnancy"],
        completed=True,
    )
    overdue = request(Convo(NOW - 9 * DAY).turn("book please", "book_consultation"), "Olga Overdue", 9)
    fresh = request(Convo(NOW - 600).turn("book please", "book_consultation"), "Nina New", 0.01)
    reviewed = Convo(NOW - 3600).turn("I can't breathe", "emergency", "Call 999.", action="action_emergency")
    reviewed.record("safety_event", kind="emergency", detail="emergency")
    test_one = Convo(NOW - 1800).turn("testing the emergency", "emergency", "Call 999.", action="action_emergency")
    test_one.record("safety_event", kind="emergency", detail="emergency")
    plain = Convo(NOW - 100).turn("what is it", "ask_what_is")
    store(console_url, emergency, complication, red, contra, overdue, fresh, reviewed, test_one, plain)
    transcript.set_reviewed(console_url, reviewed.sender_id, True, "rita")
    transcript.add_tag(console_url, test_one.sender_id, "test")
    return {k: v.sender_id for k, v in locals().items() if isinstance(v, Convo)}


def section(page: str, key: str) -> str:
    return page.split(f'id="{key}"')[1].split("</section>")[0]


def test_counts(console_url, world):
    from console import summary

    summary.refresh(console_url)
    counts = attention.counts(console_url)
    assert counts == {
        "emergency": 2,  # the reviewed and the test conversation are left out
        "red_flag": 1,
        "contraindication": 1,
        "overdue": 1,
        "new": 1,
        "total": 6,
    }


def test_home_lists_each_item_one_click_from_its_transcript(reviewer_client, world):
    refs = {k: ref_of(reviewer_client, v) for k, v in world.items()}  # what the console names them by
    response = reviewer_client.get("/")
    assert response.status_code == 200
    page = response.text
    emergencies = section(page, "emergency")
    assert emergencies.index(refs["complication"]) < emergencies.index(refs["emergency"])  # newest first
    assert f'href="/conversations/{refs["emergency"]}"' in emergencies
    assert "my face is swelling after the injections" in emergencies
    assert refs["reviewed"] not in page and refs["test_one"] not in page and refs["plain"] not in page
    assert f'href="/conversations/{refs["red"]}"' in section(page, "red_flag")
    contra = section(page, "contraindication")
    assert f'href="/conversations/{refs["contra"]}"' in contra and "Can I have it?" in contra
    assert "Olga Overdue" in section(page, "overdue") and "Nina New" not in section(page, "overdue")
    assert "Nina New" in section(page, "new") and "Hair-transplant consultation request" in section(page, "new")
    # counts at the top, red for what is urgent
    assert re.search(r'class="card danger"><a href="#emergency"><span class="n">2</span>', page)
    assert re.search(r'class="card quiet"><a href="#', page) is None


def test_navigation_shows_the_counts_on_every_page(reviewer_client, world):
    for path in ("/", "/inbox", "/overview", "/followups"):
        page = reviewer_client.get(path).text
        nav = page.split('<nav aria-label="Main">')[1].split("</nav>")[0]
        assert 'Needs attention <span class="count-pill urgent">6</span><span class="sr"> items</span>' in nav, path
        assert 'Follow-ups <span class="count-pill urgent">2</span><span class="sr"> waiting, 1 overdue</span>' in nav, path


def test_reviewing_clears_an_item(reviewer_client, world, console_url):
    refs = {k: ref_of(reviewer_client, v) for k, v in world.items()}  # what the console names them by
    reviewer_client.post(
        f"/conversations/{refs['red']}/review", data={"csrf_token": reviewer_client.csrf, "reviewed": "1"}
    )
    page = reviewer_client.get("/").text
    assert refs["red"] not in page
    assert "Nothing waiting." in section(page, "red_flag")


def test_section_links_open_the_matching_filtered_lists(reviewer_client, world):
    refs = {k: ref_of(reviewer_client, v) for k, v in world.items()}  # what the console names them by
    page = reviewer_client.get("/").text
    link = re.search(r'href="(/inbox\?outcome=emergency&amp;reviewed=no)"', section(page, "emergency")).group(1)
    listed = reviewer_client.get(link.replace("&amp;", "&")).text
    found = re.findall(r'href="/conversations/([^"/]+)"', listed)
    assert sorted(found) == sorted([refs["emergency"], refs["complication"]])
    overdue = re.search(r'href="(/followups\?[^"]*overdue=1)"', section(page, "overdue")).group(1)
    assert "Olga Overdue" in reviewer_client.get(overdue.replace("&amp;", "&")).text
    assert "Nina New" not in reviewer_client.get(overdue.replace("&amp;", "&")).text


def test_empty_home(reviewer_client):
    page = reviewer_client.get("/").text
    assert page.count("Nothing waiting.") == 5
    assert "count-pill" not in page.split('<nav aria-label="Main">')[1].split("</nav>")[0]


def test_home_needs_sign_in(client):
    response = client.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
