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
    """A claims-versus-evidence answer: actions/claims.py sets both slots."""
    return c.turn(
        f"is it true: {claim_id}",
        "ask_claim",
        "That is a claim.",
        action="action_explain_claim",
        slots={"last_claim": claim_id, "last_answer": f"claim:{claim_id}"},
    )


def ask(c: Convo, text: str, intent: str, entry: str, confidence=None) -> Convo:
    """A knowledge answer: actions/knowledge.py sets last_answer and also last_claim
    (the claim "is that proven?" would explain next), which must not count as a claim asked."""
    return c.turn(
        text,
        intent,
        "An answer.",
        confidence=confidence,
        action="action_answer_knowledge",
        slots={"last_answer": f"knowledge:{entry}", "last_claim": "general_efficacy"},
    )


@pytest.fixture
def period(console_url):
    """Within 7 days: 3 conversations; 8-29 days ago: 2 more; 40 days ago: 1 (outside both)."""
    recent = [
        claim(claim(ask(Convo(NOW - 1 * DAY), "what is it", "ask_what_is", "what_is"), "stops_hair_loss"), "hair_growth"),
        claim(
            ask(ask(Convo(NOW - 2 * DAY), "side effects?", "ask_side_effects", "side_effects"), "what is it", "ask_what_is", "what_is"),
            "stops_hair_loss",
        ),
        ask(Convo(NOW - 3 * DAY).turn("???", "nlu_fallback", confidence=0.3), "how many sessions", "ask_sessions", "sessions", 0.4),
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
        ask(Convo(NOW - 10 * DAY), "what is it", "ask_what_is", "what_is"),
        claim(Convo(NOW - 20 * DAY), "dandruff"),
    ]
    older[0].record("triage_outcome", answers={}, outcome="likely_aga")
    ancient = ask(Convo(NOW - 40 * DAY), "what is it", "ask_what_is", "what_is")
    store(console_url, *recent, *older, ancient)
    summary.refresh(console_url)


def test_counts_for_seven_and_thirty_days(console_url, period):
    week = overview.compute(console_url, 7, ZoneInfo("UTC"), now=NOW)
    assert week.conversations == 3
    assert dict(week.screenings) == {"none_reported": 1, "contraindication_reported": 0, "doctor_check": 1}
    assert dict(week.triage)["red_flag"] == 1 and dict(week.triage)["likely_aga"] == 0
    assert week.consultation_total == 1 and week.escalations == 1
    assert (week.turns, week.fallback_turns) == (8, 2) and week.fallback_rate == pytest.approx(0.25)
    assert week.topics == [("what_is", 2), ("sessions", 1), ("side_effects", 1)]
    # knowledge answers set last_claim to general_efficacy 4 times: not counted
    assert week.claims == [("stops_hair_loss", 2), ("hair_growth", 1)]
    assert len(week.per_day) == 7 and sum(n for _, n in week.per_day) == 3
    month = overview.compute(console_url, 30, ZoneInfo("UTC"), now=NOW)
    assert month.conversations == 5
    assert dict(month.triage)["likely_aga"] == 1
    assert month.topics[0] == ("what_is", 3)
    assert ("dandruff", 1) in month.claims and len(month.per_day) == 30
    assert "general_efficacy" not in dict(month.claims)
    # visitors -> questionnaire -> consultation request
    assert [(name, n) for name, n, _, _ in week.funnel] == [
        ("Conversations", 3),
        ("Answered a questionnaire", 3),
        ("Requested a consultation", 1),
    ]


def test_test_conversations_are_left_out(console_url, period):
    from console import transcript

    tagged = Convo(NOW - 1 * DAY)
    claim(ask(tagged, "what is it", "ask_what_is", "what_is"), "stops_hair_loss")
    tagged.record("triage_outcome", answers={}, outcome="red_flag")
    tagged.record("safety_event", kind="emergency", detail="")
    store(console_url, tagged)
    summary.refresh(console_url)
    transcript.add_tag(console_url, tagged.sender_id, "test")
    week = overview.compute(console_url, 7, ZoneInfo("UTC"), now=NOW)
    assert week.conversations == 3 and week.escalations == 1 and dict(week.triage)["red_flag"] == 1
    assert week.topics[0] == ("what_is", 2) and week.claims[0] == ("stops_hair_loss", 2)


def test_empty_database_has_no_fallback_rate(console_url):
    empty = overview.compute(console_url, 7, ZoneInfo("UTC"))
    assert empty.conversations == 0 and empty.fallback_rate is None and empty.topics == []


def test_page_renders_figures_and_chart_data_tables(reviewer_client, period):
    page = reviewer_client.get("/overview").text
    assert re.search(r'<span class="n">3</span> conversations', page)
    assert "25.0 %" in page and "(2 of 8 messages)" in page
    topics = page.split('id="topics"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', topics)[0] == ("What is mesotherapy?", "2")
    claims = page.split('id="claims"')[1].split("</table>")[0]
    assert re.findall(r'<th scope="row">([^<]+)</th>', claims) == ["It stops hair loss", "It regrows hair"]
    # plain labels, colours by meaning, numbers open the filtered inbox
    triage = page.split('id="triage"')[1].split("</table>")[0]
    assert '<tr data-meaning="danger"><th scope="row">Red flag: see a doctor</th><td><a href="/inbox?outcome=triage:red_flag&amp;date_from=' in triage
    assert "red_flag<" not in page and "likely_aga" not in page.replace("triage:likely_aga", "")
    screenings = page.split('id="screenings"')[1].split("</table>")[0]
    assert '<tr data-meaning="ok"><th scope="row">No contraindication reported</th>' in screenings
    assert 'href="/inbox?outcome=consultation&amp;date_from=' in page
    assert "From visit to consultation request" in page
    assert 'class="js-chart" data-table="claims"' in page
    assert '<script src="/static/vendor/chart.umd.js"></script>' in page
    month = reviewer_client.get("/overview?days=30").text
    assert re.search(r'<span class="n">5</span> conversations', month)
    assert 'href="/overview?days=30" aria-current="page"' in month
    assert reviewer_client.get("/overview?days=9999").text.count('aria-current="page">Last 7 days') == 1


def test_questions_reached_show_where_visitors_stop(console_url, reviewer_client):
    reached = (["sc_pregnancy", "sc_breastfeeding", "sc_allergy"], ["sc_pregnancy", "sc_breastfeeding"], ["sc_pregnancy"])
    convos = []
    for slots in reached:
        c = Convo(NOW - DAY).turn("can I have it", "check_eligibility")
        for slot in slots:
            c.c.slot("requested_slot", slot)
            c.c.slot("requested_slot", slot)  # asked again (an unclear answer): one conversation
        convos.append(c)
    old = Convo(NOW - 20 * DAY)
    old.c.slot("requested_slot", "sc_pregnancy")
    store(console_url, *convos, old)
    summary.refresh(console_url)
    week = overview.compute(console_url, 7, ZoneInfo("UTC"), now=NOW)
    screening = week.questions("screening_form")
    assert [n for _, n, _ in screening[:4]] == [3, 2, 1, 0]
    assert screening[0][0] == "Are you pregnant, or could you be?"
    assert screening[1][2] == pytest.approx(2 / 3)
    assert [n for _, n, _ in week.questions("triage_form")] == [0] * 7
    assert overview.compute(console_url, 30, ZoneInfo("UTC"), now=NOW).questions("screening_form")[0][1] == 4
    page = reviewer_client.get("/overview").text
    table = page.split("<caption>Contraindication screening</caption>")[1].split("</table>")[0]
    assert '<th scope="row">Are you pregnant, or could you be?</th><td>3</td><td>100.0 %</td>' in table
    assert '<th scope="row">Are you breastfeeding at the moment?</th><td>2</td><td>66.7 %</td>' in table
