"""Issue 12 §4: each questionnaire says its answers are kept for the clinic and lets the
visitor choose not to keep them; the questions run the same, no clinic record is kept."""
import pytest
from sqlalchemy import func, select

from actions import content
from actions.screening import ActionScreeningIntro, ActionScreeningSummary, ValidateScreeningForm
from actions.triage import ActionTriageIntro, ActionTriageOutcome, ValidateTriageForm
from records import db, store as records_store
from records.models import ScreeningResult, TriageOutcome
from records.vocabulary import KEEP_ANSWERS_SLOT
from tests.actions.helpers import run, slot_events, texts, tracker

SENDER = "test-sender-0001"
NOT_KEPT = {KEEP_ANSWERS_SLOT: False}
ALL_NO = {s: "no" for s in content.screening_items()}


def _button_payloads(messages):
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def _count(model):
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "intro,text,intent",
    [(ActionScreeningIntro, "can I have mesotherapy?", "check_eligibility"),
     (ActionTriageIntro, "my hair is falling out", "describe_hair_loss")],
)
def test_each_questionnaire_says_its_answers_are_kept_and_offers_not_keeping_them(intro, text, intent):
    messages, _ = run(intro(), tracker(text, intent))
    assert content.messages()["answers_kept_notice"]["text"].split(".")[0] in texts(messages)
    payload = content.messages()["answers_kept_notice"]["buttons"][0]["payload"]
    assert payload in _button_payloads(messages)
    # the button's words are words the questions understand as the choice
    assert ValidateScreeningForm.declines_keeping(tracker(payload, "inform"))
    messages, _ = run(intro(), tracker(text, intent, slots=NOT_KEPT))
    assert payload not in _button_payloads(messages)  # not offered again once chosen


@pytest.mark.parametrize(
    "text",
    ["Don't keep my answers", "please do not store my answers", "I'd rather you don't keep them",
     "dont save my answers thanks"],
)
def test_the_choice_typed_at_a_question_is_confirmed_and_the_same_question_asked_again(text, db_url):
    records_store.save_screening(SENDER, {"sc_pregnancy": "no"}, "none_reported", [], False)
    messages, events = run(
        ValidateScreeningForm(), tracker(text, "forget_me", slots={"sc_pregnancy": "no"}, active_loop="screening_form",
                                         requested_slot="sc_breastfeeding")
    )
    slots = slot_events(events)
    assert slots[KEEP_ANSWERS_SLOT] is False and "sc_breastfeeding" not in slots
    assert "form_turns_kept" in slots  # the form stays in charge and asks the same question
    assert slots["requested_slot"] == "sc_breastfeeding"
    assert [m["text"] for m in messages] == [
        content.messages()["answers_not_kept"]["text"].strip(), content.messages()["ask_sc_breastfeeding"]["text"].strip()]
    assert _count(ScreeningResult) == 0  # the earlier answers' record is gone


@pytest.mark.parametrize("text", ["do you keep my answers?", "keep them", "no", "I don't know"])
def test_other_messages_are_not_taken_for_the_choice(text):
    _, events = run(ValidateScreeningForm(), tracker(text, "inform", active_loop="screening_form",
                                                     requested_slot="sc_pregnancy"))
    assert KEEP_ANSWERS_SLOT not in slot_events(events)


def test_the_triage_takes_the_choice_too():
    _, events = run(ValidateTriageForm(), tracker("don't keep my answers", "inform", active_loop="triage_form",
                                                  requested_slot="tr_family"))
    assert slot_events(events)[KEEP_ANSWERS_SLOT] is False


def test_a_finished_screening_not_kept_still_tells_the_visitor_but_stores_nothing(db_url):
    answers = dict(ALL_NO, sc_pregnancy="yes")
    messages, events = run(ActionScreeningSummary(), tracker("/deny", "deny", slots={**answers, **NOT_KEPT}))
    assert "pregnan" in texts(messages).lower()  # the visitor still hears what came up
    assert slot_events(events)["screening_outcome"] == "contraindication_reported"
    assert _count(ScreeningResult) == 0


def test_a_stopped_screening_not_kept_says_so(db_url):
    messages, _ = run(ActionScreeningSummary(), tracker("stop", "stop", slots={
        "sc_pregnancy": "no", "flow_stopped": "stopped", **NOT_KEPT}))
    assert texts(messages) == content.messages()["screening_stopped_not_kept"]["text"]
    assert _count(ScreeningResult) == 0


def test_a_triage_not_kept_stores_no_outcome(db_url):
    slots = {"tr_pattern": "temples_crown", "tr_onset": "gradual", "tr_patches": "no", "tr_scalp": "no",
             "tr_trigger": "no", "tr_deficiency": "no", "tr_family": "yes"}
    run(ActionTriageOutcome(), tracker("yes", "affirm", slots=slots))
    assert _count(TriageOutcome) == 1
    run(ActionTriageOutcome(), tracker("yes", "affirm", slots={**slots, **NOT_KEPT}, sender_id="another-sender-2"))
    assert _count(TriageOutcome) == 1
