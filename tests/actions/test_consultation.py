"""Consultation request: consent, validation with retries, one row per conversation."""
import pytest
from sqlalchemy import select

from actions.consultation import (
    ActionConsultationSubmit,
    ValidateConsultationForm,
    parse_contact,
    parse_name,
    parse_time,
)
from records import db
from records.models import ConsultationRequest
from tests.actions.helpers import answers, entity, run, slot_events, texts, tracker
from tests.probe_runner import load_clinic

FORM = "consultation_form"


def ask(text, requested, intent="inform", slots=None, entities=None):
    return run(
        ValidateConsultationForm(),
        tracker(text, intent, entities=entities, slots=slots, active_loop=FORM, requested_slot=requested),
    )


@pytest.mark.parametrize(
    "text,email,phone",
    [
        ("anna.smith@example.com", "anna.smith@example.com", None),
        ("you can reach me at tom@mail.co.uk thanks", "tom@mail.co.uk", None),
        ("+44 7700 900123", None, "+447700900123"),
        ("(020) 7946-0000", None, "02079460000"),
        ("anna@", None, None),
        ("12345", None, None),
        ("<script>alert(1)</script>", None, None),
    ],
)
def test_parse_contact(text, email, phone):
    assert parse_contact(text) == {"email": email, "phone": phone}


@pytest.mark.parametrize(
    "text,name",
    [("My name is Anna Smith", "Anna Smith"), ("it's Tom", "Tom"), ("Zoë O'Neill-Brown", "Zoë O'Neill-Brown"),
     ("yes", None), ("<img src=x onerror=alert(1)>", None), ("anna@example.com", None), ("x" * 100, None)],
)
def test_parse_name(text, name):
    assert parse_name(text) == name


def test_parse_time():
    assert parse_time("weekday mornings please") == "mornings"
    assert parse_time("after work") == "evenings"
    assert parse_time("Tuesdays <b>only</b>") == "Tuesdays only"
    assert parse_time("!!!") is None


def test_kind_comes_from_the_triage_outcome():
    _, events = run(ValidateConsultationForm(), tracker("/book_consultation", "book_consultation", slots={"triage_outcome": "likely_aga"}))
    assert answers(events) == {"cs_kind": "transplant"}


def test_kind_from_the_request_text():
    _, events = run(ValidateConsultationForm(), tracker("book me a mesotherapy appointment", "book_consultation",
                                                        entities=[entity("procedure", "mesotherapy")]))
    assert answers(events) == {"cs_kind": "mesotherapy"}


def test_declining_consent_in_words_is_an_answer_even_when_it_sounds_like_stop():
    _, events = ask("no, I'd rather not give my details", "cs_consent", intent="stop")
    assert slot_events(events)["flow_stopped"] == "no_consent"
    _, events = ask("stop", "cs_consent", intent="stop")
    assert slot_events(events)["flow_stopped"] == "stopped"


def test_no_consent_ends_the_request():
    _, events = ask("/deny", "cs_consent", intent="deny")
    assert slot_events(events)["flow_stopped"] == "no_consent"
    assert "cs_consent" not in slot_events(events)


def test_malformed_contact_is_asked_again_twice_then_a_way_out():
    messages, events = ask("anna at example", "cs_contact")
    assert "doesn't look like" in texts(messages) and answers(events) == {"contact_attempts": 1.0}
    messages, events = ask("anna at example dot com", "cs_contact", slots={"contact_attempts": 1.0})
    assert answers(events) == {"contact_attempts": 2.0}
    messages, events = ask("still wrong", "cs_contact", slots={"contact_attempts": 2.0})
    assert slot_events(events)["flow_stopped"] == "contact_failed"


def test_a_question_at_a_free_text_prompt_is_answered_not_stored():
    messages, events = ask("what is mesotherapy?", "cs_name", intent="ask_what_is")
    assert "inject" in texts(messages) and "cs_name" not in slot_events(events)


def _requests(url):
    with db.session_scope(url) as session:
        return [(r.sender_id, r.kind, r.name, r.email, r.phone, r.time_window)
                for r in session.execute(select(ConsultationRequest)).scalars()]


FILLED = {"cs_kind": "transplant", "cs_consent": "yes", "cs_name": "Anna Smith", "cs_time": "mornings",
          "cs_contact": "anna@example.com"}


def test_submit_stores_exactly_one_request_per_conversation(db_url):
    for _ in range(2):
        messages, events = run(ActionConsultationSubmit(), tracker("anna@example.com", "inform", slots=FILLED))
    assert "hair-transplant consultation" in texts(messages) and "anna@example.com" in texts(messages)
    assert _requests(db_url) == [("test-sender-0001", "transplant", "Anna Smith", "anna@example.com", None, "mornings")]
    assert slot_events(events)["cs_contact"] is None  # cleared after use


@pytest.mark.parametrize("reason,expected", [("no_consent", "haven't stored"), ("contact_failed", "haven't stored"),
                                             ("stopped", "no contact details were stored")])
def test_without_consent_or_contact_nothing_is_stored(db_url, reason, expected):
    messages, _ = run(ActionConsultationSubmit(), tracker("no", "deny", slots={"flow_stopped": reason}))
    assert expected in texts(messages) and load_clinic()["phone"] in texts(messages)
    assert _requests(db_url) == []


@pytest.mark.parametrize("requested, text", [
    ("cs_time", "actually i changed my mind, i dont want to give my details"),  # review: the contact was asked next
    ("cs_contact", "i'd rather not give my number"),
    ("cs_name", "hmm i don't want to share that"),
])
def test_consent_withdrawn_after_it_was_given_ends_the_request(requested, text):
    _, events = run(ValidateConsultationForm(), tracker(text, "deny", active_loop="consultation_form",
                                                        requested_slot=requested, slots={"cs_consent": "yes"}))
    assert slot_events(events)["flow_stopped"] == "no_consent"


def test_is_that_included_in_the_consultation_request_gets_no_not_sure_hint():
    from actions.common import text_of

    messages, events = run(ValidateConsultationForm(), tracker("is that included in the price?", "ask_price",
                                                               active_loop="consultation_form", requested_slot="cs_consent"))
    assert text_of("what_counts_hint") not in [m.get("text") for m in messages]
