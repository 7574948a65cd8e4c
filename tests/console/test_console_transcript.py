"""The transcript page and the annotations staff make on it."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from console import db
from tests.console.console_helpers import Convo, store


def event_ids(url: str, sender: str, type_name: str):
    e = db.tables().events
    with db.session(url) as s:
        return list(
            s.scalars(
                sa.select(e.c.id).where(e.c.sender_id == sender, e.c.type_name == type_name).order_by(e.c.id)
            )
        )


def audit_rows(url: str):
    log = db.tables().audit_log
    with db.session(url) as s:
        return [
            tuple(r)
            for r in s.execute(
                sa.select(log.c.username, log.c.action, log.c.target, log.c.detail).order_by(log.c.id)
            )
        ]


@pytest.fixture
def convo(console_url) -> Convo:
    c = Convo(channel="socketio")
    c.turn(
        "I am not pregnant, can I have it?",
        "start_screening",
        "Let me ask a few questions.",
        action="screening_form",
        confidence=0.93,
        entities=[
            {"entity": "condition", "value": "pregnancy", "role": "negated", "start": 8, "end": 16},
            {"entity": "topic", "value": "eligibility", "extractor": "RegexEntityExtractor"},
        ],
        slots={"sc_pregnancy": "no"},
    )
    c.turn("no allergies", "deny", "Thanks.", action="screening_form", slots={"sc_allergies": "no"})
    c.turn(
        "what about dandruff",
        "ask_claim",
        "That is a marketing claim.",
        action="action_answer_claim",
        slots={"last_claim": "cures_dandruff"},
    )
    c.record(
        "screening_result",
        answers={"sc_pregnancy": "no", "sc_allergies": "yes"},
        outcome="contraindication_reported",
        flagged_items=["sc_allergies"],
        completed=False,
    )
    c.record("triage_outcome", answers={"tr_pattern": "thinning on top"}, outcome="likely_aga")
    store(console_url, c)
    return c


def page_of(client, sender: str) -> str:
    response = client.get(f"/conversations/{sender}")
    assert response.status_code == 200
    return response.text


def test_every_turn_with_nlu_action_slots_and_records(reviewer_client, convo):
    text = html.unescape(page_of(reviewer_client, convo.sender_id))
    for expected in (
        "I am not pregnant, can I have it?",
        "Let me ask a few questions.",
        "start_screening",
        "confidence 0.93",
        "pregnancy (negated)",
        "<code>topic</code>=eligibility",
        "screening_form",
        "RulePolicy",
        "action_answer_claim",
        "cures_dandruff",
        "channel socketio",
        "3 visitor messages",
        "Screening: contraindication reported (stopped early)",
        "Triage: likely aga",
        "thinning on top",
    ):
        assert expected in text, expected
    assert "action_listen" not in text


def test_slots_are_shown_as_they_were_at_each_message(reviewer_client, convo):
    page = page_of(reviewer_client, convo.sender_id)
    users = [chunk.split("</li>")[0] for chunk in page.split('class="ev user')[1:]]
    slots = [re.search(r'<details class="slots">(.*?)</details>', u, re.S) for u in users]
    assert slots[0] is None
    assert "sc_pregnancy" in slots[1].group(1) and "sc_allergies" not in slots[1].group(1)
    assert "sc_pregnancy" in slots[2].group(1) and "sc_allergies" in slots[2].group(1)


def test_viewing_a_transcript_is_audited(reviewer_client, convo, console_url):
    page_of(reviewer_client, convo.sender_id)
    assert ("rita", "transcript.view", f"conversation:{convo.sender_id}", "") in audit_rows(console_url)


def test_unknown_conversation_is_404(reviewer_client, console_url):
    assert reviewer_client.get("/conversations/nope").status_code == 404
    response = reviewer_client.post(
        "/conversations/nope/tags", data={"csrf_token": reviewer_client.csrf, "name": "x"}
    )
    assert response.status_code == 404


def test_tag_and_untag(reviewer_client, convo, console_url):
    path = f"/conversations/{convo.sender_id}"
    response = reviewer_client.post(
        f"{path}/tags", data={"csrf_token": reviewer_client.csrf, "name": " needs  review "}
    )
    assert response.status_code == 303 and response.headers["location"] == f"{path}?msg=tagged"
    reviewer_client.post(f"{path}/tags", data={"csrf_token": reviewer_client.csrf, "name": "needs review"})
    page = page_of(reviewer_client, convo.sender_id)
    assert page.count('<span class="tag">needs review</span>') == 1
    tag_id = re.search(r"/tags/(\d+)/remove", page).group(1)
    assert reviewer_client.get("/inbox?tag=needs+review").text.count(convo.sender_id) >= 1
    reviewer_client.post(f"{path}/tags/{tag_id}/remove", data={"csrf_token": reviewer_client.csrf})
    assert '<span class="tag">needs review</span>' not in page_of(reviewer_client, convo.sender_id)
    actions = [r[1] for r in audit_rows(console_url)]
    assert "conversation.tag" in actions and "conversation.untag" in actions


def test_invalid_tag_is_refused(reviewer_client, convo):
    path = f"/conversations/{convo.sender_id}"
    response = reviewer_client.post(
        f"{path}/tags", data={"csrf_token": reviewer_client.csrf, "name": "a" * 65}
    )
    assert response.headers["location"] == f"{path}?err=tag"


def test_mark_reviewed_and_back(reviewer_client, convo, console_url):
    path = f"/conversations/{convo.sender_id}"
    reviewer_client.post(f"{path}/review", data={"csrf_token": reviewer_client.csrf, "reviewed": "1"})
    page = page_of(reviewer_client, convo.sender_id)
    assert "Reviewed</span> by rita" in page and "Mark as not reviewed" in page
    assert convo.sender_id in reviewer_client.get("/inbox?reviewed=yes").text
    reviewer_client.post(f"{path}/review", data={"csrf_token": reviewer_client.csrf, "reviewed": "0"})
    assert "Mark as reviewed" in page_of(reviewer_client, convo.sender_id)
    assert convo.sender_id in reviewer_client.get("/inbox?reviewed=no").text


def test_notes_on_the_conversation_and_on_a_message(reviewer_client, convo, console_url):
    path = f"/conversations/{convo.sender_id}"
    first_user = event_ids(console_url, convo.sender_id, "user")[0]
    reviewer_client.post(
        f"{path}/notes", data={"csrf_token": reviewer_client.csrf, "text": "Call back Monday"}
    )
    reviewer_client.post(
        f"{path}/notes",
        data={"csrf_token": reviewer_client.csrf, "text": "Good answer here", "event_id": str(first_user)},
    )
    page = page_of(reviewer_client, convo.sender_id)
    message = page.split(f'id="e{first_user}"')[1].split("</li>")[0]
    assert "Good answer here" in message and "Call back Monday" not in message
    assert "Call back Monday" in page.split('aria-label="Review"')[1]
    empty = reviewer_client.post(f"{path}/notes", data={"csrf_token": reviewer_client.csrf, "text": "   "})
    assert empty.headers["location"].endswith("err=note")


def test_flag_a_message(reviewer_client, convo, console_url):
    path = f"/conversations/{convo.sender_id}"
    bot = event_ids(console_url, convo.sender_id, "bot")[1]
    response = reviewer_client.post(
        f"{path}/flags",
        data={"csrf_token": reviewer_client.csrf, "event_id": str(bot), "reason": "too vague"},
    )
    assert response.headers["location"].endswith("msg=flagged")
    page = page_of(reviewer_client, convo.sender_id)
    assert "Flagged by rita: too vague" in page.split(f'id="e{bot}"')[1].split("</li>")[0]
    assert ("rita", "message.flag", f"conversation:{convo.sender_id}", f"event {bot}") in audit_rows(
        console_url
    )


def test_flags_and_notes_cannot_point_into_another_conversation(reviewer_client, convo, console_url):
    other = Convo().turn("someone else", "greet")
    store(console_url, other)
    foreign = event_ids(console_url, other.sender_id, "user")[0]
    slot_event = event_ids(console_url, convo.sender_id, "slot")[0]
    path = f"/conversations/{convo.sender_id}"
    for event_id in (foreign, slot_event, 999999):
        response = reviewer_client.post(
            f"{path}/flags", data={"csrf_token": reviewer_client.csrf, "event_id": str(event_id)}
        )
        assert response.headers["location"].endswith("err=event")
    note = reviewer_client.post(
        f"{path}/notes", data={"csrf_token": reviewer_client.csrf, "text": "x", "event_id": str(foreign)}
    )
    assert note.headers["location"].endswith("err=note")
    t = db.tables()
    with db.session(console_url) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(t.message_flag)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(t.note)) == 0


def test_contact_details_stay_out_of_the_transcript(reviewer_client, console_url):
    import datetime as dt

    c = Convo().turn("my email is [email redacted]", "inform")
    now = dt.datetime.now(dt.timezone.utc)
    c.record(
        "consultation_request",
        updated_at=now,
        kind="general",
        name="Zed Person",
        email="zed@example.com",
        phone="+44 7700 900123",
        time_window="evenings",
        consent_at=now,
        status="new",
        reason=None,
    )
    store(console_url, c)
    page = page_of(reviewer_client, c.sender_id)
    assert "Consultation requested" in page
    assert "zed@example.com" not in page and "7700 900123" not in page and "Zed Person" not in page
