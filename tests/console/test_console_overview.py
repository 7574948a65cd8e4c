"""Overview: counts for the last 7 / 30 days, topics and claims, charts with data tables."""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest

from console import overview, summary
from tests.console.console_helpers import Convo, store

NOW = time.time()
DAY = 86400.0


def claim(c: Convo, claim_id: str) -> Convo:
    return c.turn(f"is it true: {claim_id}", "ask_claim", "That is a claim.", slots={"last_claim": claim_id})


@pytest.fixture
def period(console_url):
    """Within 7 days: 3 conversations; 8-29 days ago: 2 more; 40 days ago: 1 (outside both)."""
    recent = [
        claim(
            claim(Convo(NOW - 1 * DAY).turn("what is it", "ask_what_is"), "stops_hair_loss"), "regrows_hair"
        ),
        claim(
            Convo(NOW - 2 * DAY).turn("side effects?", "ask_side_effects").turn("what is it", "ask_what_is"),
            "stops_hair_loss",
        ),
        Convo(NOW - 3 * DAY)
        .turn("???", "nlu_fallback", confidence=0.3)
        .turn("cost", "ask_cost", confidence=0.4),
    ]
    recent[0].record(
        "screening_result", answers={}, outcome="none_reported", flagged_items=[], completed=True
    )
    recent[1].record("screening_result", answers={}, outcome="doctor_check", flagged_items=[], completed=True)
    recent[2].record("triage_outcome", answers={}, outcome="red_flag")
    recent[2].record("safety_event", kind="emergency", detail="")
    at = dt.datetime.fromtimestamp(recent[0].c.t, dt.timezone.utc)
    recent[0].record(
        "consultation_request",
        updated_at=at,
        kind="general",
        name="N",
        email="n@example.com",
        phone=None,
        time_window="any",
        consent_at=at,
        status="new",
        reason=None,
    )
    older = [
        Convo(NOW - 10 * DAY).turn("what is it", "ask_what_is"),
        claim(Convo(NOW - 20 * DAY), "cures_dandruff"),
    ]
    older[0].record("triage_outcome", answers={}, outcome="likely_aga")
    ancient = Convo(NOW - 40 * DAY).turn("what is it", "ask_what_is")
    store(console_url, *recent, *older, ancient)
    summary.refresh(console_url)


def test_counts_for_seven_and_thirty_days(console_url, period):
    week = overview.compute(console_url, 7, ZoneInfo("UTC"), now=NOW)
    assert week.conversations == 3
    assert dict(week.screenings) == {"none_reported": 1, "contraindication_reported": 0, "doctor_check": 1}
    assert dict(week.triage)["red_flag"] == 1 and dict(week.triage)["likely_aga"] == 0
    assert week.consultation_total == 1 and week.escalations == 1
    assert (week.turns, week.fallback_turns) == (8, 2) and week.fallback_rate == pytest.approx(0.25)
    assert week.topics == [("ask_what_is", 2), ("ask_cost", 1), ("ask_side_effects", 1)]
    assert week.claims == [("stops_hair_loss", 2), ("regrows_hair", 1)]
    assert len(week.per_day) == 7 and sum(n for _, n in week.per_day) == 3
    month = overview.compute(console_url, 30, ZoneInfo("UTC"), now=NOW)
    assert month.conversations == 5
    assert dict(month.triage)["likely_aga"] == 1
    assert month.topics[0] == ("ask_what_is", 3)
    assert ("cures_dandruff", 1) in month.claims and len(month.per_day) == 30


def test_empty_database_has_no_fallback_rate(console_url):
    empty = overview.compute(console_url, 7, ZoneInfo("UTC"))
    assert empty.conversations == 0 and empty.fallback_rate is None and empty.topics == []


def test_page_renders_figures_and_chart_data_tables(reviewer_client, period):
    page = reviewer_client.get("/overview").text
    assert re.search(r'<span class="n">3</span> conversations', page)
    assert "25.0 %" in page and "(2 of 8 messages)" in page
    topics = page.split('id="topics"')[1].split("</table>")[0]
    assert re.findall(r"<th scope=\"row\">(\w+)</th><td>(\d+)</td>", topics)[0] == ("ask_what_is", "2")
    assert 'class="js-chart" data-table="claims"' in page
    assert '<script src="/static/vendor/chart.umd.js"></script>' in page
    month = reviewer_client.get("/overview?days=30").text
    assert re.search(r'<span class="n">5</span> conversations', month)
    assert 'href="/overview?days=30" aria-current="page"' in month
    assert reviewer_client.get("/overview?days=9999").text.count('aria-current="page">Last 7 days') == 1
