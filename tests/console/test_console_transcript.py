"""The transcript page and the annotations staff make on it."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from console import db
from tests.console.console_helpers import Convo, conversation_path, ref_of, store


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
    c = Convo()
    c.turn(
        "I am not pregnant, can I have it?",
        "check_eligibility",
        "Let me ask a few questions.",
        action="screening_form",
        confidence=0.93,
        entities=[
            {"entity": "condition", "value": "pregnancy", "role": "negated", "start": 8, "end": 16},
            {"entity": "topic", "value": "eligibility", "extractor": "RegexEntityExtractor"},
        ],
        slots={"sc_pregnancy": "no"},
    )
    c.turn("/deny", "deny", "Thanks.", action="screening_form", slots={"sc_allergy": "no"})
    c.turn(
        "what about dandruff",
        "ask_claim",
        "That is a marketing claim.",
        action="action_explain_claim",
        slots={"last_claim": "dandruff", "last_answer": "claim:dandruff"},
    )
    c.record(
        "screening_result",
        answers={"sc_pregnancy": "no", "sc_allergy": "yes"},
        outcome="contraindication_reported",
        flagged_items=["sc_allergy"],
        completed=False,
    )
    c.record(
        "triage_outcome", answers={"tr_pattern": "top_thinning", "tr_family": "yes"}, outcome="likely_aga"
    )
    store(console_url, c)
    return c


def page_of(client, sender: str, details: bool = False) -> str:
    response = client.get(conversation_path(client, sender) + ("?details=1" if details else ""))
    assert response.status_code == 200
    return response.text


def test_technical_view_has_every_turn_with_nlu_action_slots_and_records(reviewer_client, convo):
    text = html.unescape(page_of(reviewer_client, convo.sender_id, details=True))
    for expected in (
        "I am not pregnant, can I have it?",
        "Let me ask a few questions.",
        "check_eligibility",
        "Can I have it?",
        "confidence 0.93",
        "pregnancy (negated)",
        "<code>topic</code>=eligibility",
        "screening_form",
        "RulePolicy",
        "action_explain_claim",
        "claim:dandruff",
        "<code>/deny</code>",
        "Website chat",
        "3 visitor messages",
        "Show the conversation only",
    ):
        assert expected in text, expected
    assert "action_listen" not in text


def test_default_view_is_the_conversation_in_plain_words(reviewer_client, convo):
    page = page_of(reviewer_client, convo.sender_id)
    text = html.unescape(page)
    for expected in (
        "I am not pregnant, can I have it?",
        "Let me ask a few questions.",
        "Website chat",
        "Show technical details",
        "Screening: Contraindication reported (stopped early)",
        "Hair loss: Likely pattern hair loss",
        # answers by their questions, in words
        "Are you pregnant, or could you be?",
        "Are you allergic to anything that may be in the mix?",
        "Where do you notice the hair loss most?",
        "Top thins, front hairline kept",
        "Has anyone in your family had hair loss like yours?",
    ):
        assert expected in text, expected
    # the button click reads as the button the visitor saw
    clicked = text.split("clicked a button")[1].split("</li>")[0]
    assert '<span class="btn chosen">No</span>' in clicked
    for code in ("/deny", "sc_pregnancy", "sc_allergy", "tr_family", "tr_pattern", "top_thinning", "likely aga",
                 "check_eligibility", "screening_form", "action_explain_claim", "RulePolicy", "confidence"):
        assert code not in text, code
    assert 'class="ev action"' not in page and 'class="ev slot"' not in page


def test_slots_are_shown_as_they_were_at_each_message(reviewer_client, convo):
    page = page_of(reviewer_client, convo.sender_id, details=True)
    users = [chunk.split("</li>")[0] for chunk in page.split('class="ev user')[1:]]
    slots = [re.search(r'<details class="slots">(.*?)</details>', u, re.S) for u in users]
    assert slots[0] is None
    assert "sc_pregnancy" in slots[1].group(1) and "sc_allergy" not in slots[1].group(1)
    assert "sc_pregnancy" in slots[2].group(1) and "sc_allergy" in slots[2].group(1)
    assert "Are you pregnant, or could you be?" in slots[1].group(1)


def test_viewing_a_transcript_is_audited(reviewer_client, convo, console_url):
    page_of(reviewer_client, convo.sender_id)
    assert ("rita", "transcript.view", "conversation:ref:" + ref_of(reviewer_client, convo.sender_id), "") in audit_rows(console_url)


def test_unknown_conversation_is_404(reviewer_client, console_url):
    assert reviewer_client.get("/conversations/nope").status_code == 404
    response = reviewer_client.post(
        "/conversations/nope/tags", data={"csrf_token": reviewer_client.csrf, "name": "x"}
    )
    assert response.status_code == 404


def test_tag_and_untag(reviewer_client, convo, console_url):
    path = conversation_path(reviewer_client, convo.sender_id)
    response = reviewer_client.post(
        f"{path}/tags", data={"csrf_token": reviewer_client.csrf, "name": " needs  review "}
    )
    assert response.status_code == 303 and response.headers["location"] == f"{path}?msg=tagged#tags"
    from_details = reviewer_client.post(
        f"{path}/tags", data={"csrf_token": reviewer_client.csrf, "name": "x", "view": "details"}
    )
    assert from_details.headers["location"] == f"{path}?details=1&msg=tagged#tags"
    reviewer_client.post(f"{path}/tags", data={"csrf_token": reviewer_client.csrf, "name": "needs review"})
    page = page_of(reviewer_client, convo.sender_id)
    assert page.count('<span class="tag">needs review</span>') == 1
    tag_id = re.search(r"/tags/(\d+)/remove", page).group(1)
    assert reviewer_client.get("/inbox?tag=needs+review").text.count(ref_of(reviewer_client, convo.sender_id)) >= 1
    reviewer_client.post(f"{path}/tags/{tag_id}/remove", data={"csrf_token": reviewer_client.csrf})
    assert '<span class="tag">needs review</span>' not in page_of(reviewer_client, convo.sender_id)
    actions = [r[1] for r in audit_rows(console_url)]
    assert "conversation.tag" in actions and "conversation.untag" in actions


def test_invalid_tag_is_refused(reviewer_client, convo):
    path = conversation_path(reviewer_client, convo.sender_id)
    response = reviewer_client.post(
        f"{path}/tags", data={"csrf_token": reviewer_client.csrf, "name": "a" * 65}
    )
    assert response.headers["location"] == f"{path}?err=tag#tags"


def test_mark_reviewed_and_back(reviewer_client, convo, console_url):
    path = conversation_path(reviewer_client, convo.sender_id)
    reviewer_client.post(f"{path}/review", data={"csrf_token": reviewer_client.csrf, "reviewed": "1"})
    page = page_of(reviewer_client, convo.sender_id)
    assert "Reviewed</span> by rita" in page and "Mark as not reviewed" in page
    assert ref_of(reviewer_client, convo.sender_id) in reviewer_client.get("/inbox?reviewed=yes").text
    reviewer_client.post(f"{path}/review", data={"csrf_token": reviewer_client.csrf, "reviewed": "0"})
    assert "Mark as reviewed" in page_of(reviewer_client, convo.sender_id)
    assert ref_of(reviewer_client, convo.sender_id) in reviewer_client.get("/inbox?reviewed=no").text


def test_notes_on_the_conversation_and_on_a_message(reviewer_client, convo, console_url):
    path = conversation_path(reviewer_client, convo.sender_id)
    first_user = event_ids(console_url, convo.sender_id, "user")[0]
    loose = reviewer_client.post(
        f"{path}/notes", data={"csrf_token": reviewer_client.csrf, "text": "Call back Monday"}
    )
    assert loose.headers["location"] == f"{path}?msg=noted#notes"
    on_message = reviewer_client.post(
        f"{path}/notes",
        data={"csrf_token": reviewer_client.csrf, "text": "Good answer here", "event_id": str(first_user)},
    )
    assert on_message.headers["location"] == f"{path}?msg=noted#e{first_user}"
    page = page_of(reviewer_client, convo.sender_id)
    message = page.split(f'id="e{first_user}"')[1].split("</li>")[0]
    assert "Good answer here" in message and "Call back Monday" not in message
    assert "Call back Monday" in page.split('aria-label="Review"')[1]
    empty = reviewer_client.post(f"{path}/notes", data={"csrf_token": reviewer_client.csrf, "text": "   "})
    assert empty.headers["location"].endswith("err=note#notes")


def test_flag_a_message(reviewer_client, convo, console_url):
    path = conversation_path(reviewer_client, convo.sender_id)
    bot = event_ids(console_url, convo.sender_id, "bot")[1]
    response = reviewer_client.post(
        f"{path}/flags",
        data={"csrf_token": reviewer_client.csrf, "event_id": str(bot), "reason": "too vague"},
    )
    assert response.headers["location"].endswith(f"msg=flagged#e{bot}")
    page = page_of(reviewer_client, convo.sender_id)
    assert "Flagged by rita: too vague" in page.split(f'id="e{bot}"')[1].split("</li>")[0]
    assert ("rita", "message.flag", "conversation:ref:" + ref_of(reviewer_client, convo.sender_id), f"event {bot}") in audit_rows(
        console_url
    )


def test_flags_and_notes_cannot_point_into_another_conversation(reviewer_client, convo, console_url):
    other = Convo().turn("someone else", "greet")
    store(console_url, other)
    foreign = event_ids(console_url, other.sender_id, "user")[0]
    slot_event = event_ids(console_url, convo.sender_id, "slot")[0]
    path = conversation_path(reviewer_client, convo.sender_id)
    for event_id in (foreign, slot_event, 999999):
        response = reviewer_client.post(
            f"{path}/flags", data={"csrf_token": reviewer_client.csrf, "event_id": str(event_id)}
        )
        assert "err=event" in response.headers["location"]
    note = reviewer_client.post(
        f"{path}/notes", data={"csrf_token": reviewer_client.csrf, "text": "x", "event_id": str(foreign)}
    )
    assert "err=note" in note.headers["location"]
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


def test_a_turn_taken_without_an_answer_is_marked_not_understood_with_why(reviewer_client, console_url):
    from console import labels
    from tests.console.console_helpers import policy_turn

    c = Convo().turn("what is it", "ask_what_is", "Injections.", confidence=0.97)
    policy_turn(c, "and after my FUE?", "ask_side_effects", "action_other_treatment", confidence=0.92)
    store(console_url, c)
    page = reviewer_client.get(conversation_path(reviewer_client, c.sender_id)).text
    why = html.escape(labels.not_understood_reason("action_other_treatment"))
    assert page.count('<span class="badge muted" title="') == 1
    assert f'<span class="badge muted" title="{why}">Not understood</span>' in page
