"""Issue 12 §4: a visitor who chose "Don't keep my answers" leaves no questionnaire answer
in the conversation log (tracker store), in the clinic records, or in a questionnaire
left in the middle (retention command)."""
import asyncio
import json
import time

import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from records import db, private_answers, retention, store as records_store
from records.models import ScreeningResult, TriageOutcome
from records.tracker_store import MesoTrackerStore

DOMAIN = Domain.load("domain.yml")  # the assistant's slots, keep_answers among them
ANSWER = "yes, I'm 12 weeks pregnant"
CHOICE = "Don't keep my answers"
SUMMARY = "You said yes to pregnancy. Practitioners advise against it."


def _rows(url, sender):
    with db.get_engine(url).connect() as conn:
        return conn.execute(
            sa.text("select type_name, intent_name, data from events where sender_id = :s order by id"), {"s": sender}
        ).all()


def _user(text, intent="inform"):
    return UserUttered(text, {"name": intent, "confidence": 0.9})


def _opening():
    return [
        SessionStarted(), ActionExecuted("action_listen"),
        _user("can I have mesotherapy?", "check_eligibility"),
        ActionExecuted("action_screening_intro"), BotUttered("I'll ask you 7 short questions."),
        ActionExecuted("screening_form"), ActiveLoop("screening_form"), SlotSet("requested_slot", "sc_pregnancy"),
        BotUttered("Are you pregnant?", {"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
        ActionExecuted("action_listen"),
    ]


def _answer_pregnant():
    return [
        _user(ANSWER, "affirm"), ActionExecuted("screening_form"), SlotSet("sc_pregnancy", "yes"),
        SlotSet("requested_slot", "sc_breastfeeding"), BotUttered("Are you breastfeeding?"),
        ActionExecuted("action_listen"),
    ]


def _choose_not_to_keep():
    return [
        _user(CHOICE), ActionExecuted("screening_form"), SlotSet("keep_answers", False),
        BotUttered("Understood. Your answers won't be kept."), BotUttered("Are you breastfeeding?"),
        ActionExecuted("action_listen"),
    ]


def _finish():
    return [
        _user("no, not breastfeeding", "deny"), ActionExecuted("screening_form"), SlotSet("sc_breastfeeding", "no"),
        SlotSet("requested_slot", None), ActiveLoop(None), ActionExecuted("action_screening_summary"),
        BotUttered(SUMMARY, {"buttons": [{"title": "Request a consultation", "payload": "/book_consultation"}]}),
        SlotSet("sc_pregnancy", None), SlotSet("sc_breastfeeding", None),
        SlotSet("screening_outcome", "contraindication_reported"), ActionExecuted("action_listen"),
    ]


def _save_turns(sender, *turns):
    """Saves the tracker after each turn, as Rasa does."""
    tracker_store = MesoTrackerStore(domain=DOMAIN)
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    for turn in turns:
        for event in turn:
            tracker.update(event)
        asyncio.run(tracker_store.save(tracker))
    return tracker_store


def test_without_the_choice_everything_is_kept(db_url):
    _save_turns("keeps", _opening(), _answer_pregnant(), _finish())
    blob = " ".join(r.data for r in _rows(db_url, "keeps"))
    assert ANSWER in blob and SUMMARY in blob and '"contraindication_reported"' in blob


def test_the_choice_masks_earlier_answers_and_keeps_the_open_questionnaire_working(db_url):
    tracker_store = _save_turns("mid", _opening(), _answer_pregnant(), _choose_not_to_keep())
    rows = _rows(db_url, "mid")
    blob = " ".join(r.data for r in rows)
    assert ANSWER not in blob and CHOICE not in blob and "Are you pregnant?" not in blob
    assert "can I have mesotherapy?" in blob and "I'll ask you 7 short questions." in blob  # before the questions
    masked_users = [r for r in rows if r.type_name == "user" and private_answers.ANSWER_NOT_KEPT in r.data]
    assert len(masked_users) == 2 and all(r.intent_name is None for r in masked_users)  # "affirm" would tell
    # the questionnaire is still running: its answers so far are still there for it
    tracker = asyncio.run(tracker_store.retrieve("mid"))
    assert tracker.get_slot("sc_pregnancy") == "yes" and tracker.active_loop_name == "screening_form"
    assert tracker.get_slot("keep_answers") is False


def test_when_the_questionnaire_ends_no_answer_outcome_or_summary_is_left(db_url):
    tracker_store = _save_turns("ends", _opening(), _answer_pregnant(), _choose_not_to_keep(), _finish())
    rows = _rows(db_url, "ends")
    blob = " ".join(r.data for r in rows)
    for secret in (ANSWER, SUMMARY, "not breastfeeding", '"contraindication_reported"'):
        assert secret not in blob, secret
    slot_values = [json.loads(r.data) for r in rows if r.type_name == "slot"]
    assert all(e["value"] is None for e in slot_values if private_answers.is_private_slot(e["name"]))
    summary = [json.loads(r.data) for r in rows if r.type_name == "bot"][-1]
    assert summary["data"]["buttons"][0]["payload"] == "/book_consultation"  # "yes" still means "book"
    tracker = asyncio.run(tracker_store.retrieve("ends"))
    assert tracker.get_slot("sc_pregnancy") is None and tracker.get_slot("screening_outcome") is None
    assert tracker.active_loop_name is None


def test_an_emergency_typed_during_the_questions_stays_readable(db_url):
    emergency = "my throat is swelling after the injection"
    turn = [
        _user(emergency, "emergency"), ActionExecuted("screening_form"), BotUttered("Call 999 now."),
        SlotSet("requested_slot", None), ActiveLoop(None), ActionExecuted("action_listen"),
    ]
    _save_turns("urgent", _opening(), _choose_not_to_keep(), turn)
    blob = " ".join(r.data for r in _rows(db_url, "urgent"))
    assert emergency in blob and CHOICE not in blob


def test_mask_is_idempotent_and_leaves_other_conversation_parts_alone():
    events = [e.as_dict() for e in _opening() + _answer_pregnant() + _choose_not_to_keep() + _finish()]
    once, texts = private_answers.mask(events)
    twice, again = private_answers.mask(once)
    assert once == twice and again == []
    assert ANSWER in texts and CHOICE in texts
    assert len(once) == len(events)
    assert [e["event"] for e in once] == [e["event"] for e in events]


def test_a_questionnaire_left_in_the_middle_is_masked_by_the_retention_command(db_url):
    _save_turns("left", _opening(), _answer_pregnant(), _choose_not_to_keep())
    _save_turns("recent-left", _opening(), _answer_pregnant(), _choose_not_to_keep())
    _save_turns("kept", _opening(), _answer_pregnant())
    later = time.time() + private_answers.ABANDONED_AFTER_SECONDS + 60
    assert private_answers.mask_abandoned(now=later, dry_run=True) == 2
    assert private_answers.mask_abandoned(now=time.time()) == 0  # nobody has left yet
    assert '"yes"' in " ".join(r.data for r in _rows(db_url, "left"))
    assert private_answers.mask_abandoned(now=later) == 2
    left = [json.loads(r.data) for r in _rows(db_url, "left") if r.type_name == "slot"]
    assert all(e["value"] is None for e in left if private_answers.is_private_slot(e["name"]))
    assert '"sc_pregnancy", "value": "yes"' in " ".join(r.data for r in _rows(db_url, "kept"))
    assert private_answers.mask_abandoned(now=later) == 0  # nothing left to mask


def test_the_retention_command_reports_the_masked_questionnaires(db_url):
    _save_turns("old-left", _opening(), _answer_pregnant(), _choose_not_to_keep())
    counts = retention.purge(3650, url=db_url)
    assert counts["unkept_answers_masked"] == 0  # the conversation is minutes old
    assert "unkept_answers_masked" in retention.report(counts, 3650, False)


def test_forget_answers_deletes_the_conversations_screening_and_triage_records(db_url):
    records_store.save_screening("forget-me-answers", {"sc_pregnancy": "yes"}, "contraindication_reported",
                                 ["sc_pregnancy"], True)
    records_store.save_triage("forget-me-answers", {"tr_family": "yes"}, "likely_aga")
    records_store.save_triage("someone-else", {"tr_family": "yes"}, "likely_aga")
    counts = private_answers.forget_answers("forget-me-answers")
    assert counts == {"screening_result": 1, "triage_outcome": 1}
    with db.session_scope() as session:
        assert session.query(ScreeningResult).count() == 0
        assert session.query(TriageOutcome).filter_by(sender_id="someone-else").count() == 1


def test_the_masked_slots_and_forms_are_the_domains_questionnaires():
    """No drift: every answer slot of the questionnaires is masked, the masked forms exist,
    and the choice's slot is in the domain."""
    forms = DOMAIN.forms
    assert set(private_answers.QUESTIONNAIRES) <= set(forms)
    for form in private_answers.QUESTIONNAIRES:
        for slot in forms[form]["required_slots"]:
            assert private_answers.is_private_slot(slot), slot
    assert not any(private_answers.is_private_slot(s) for s in forms["consultation_form"]["required_slots"])
    assert private_answers.KEEP_SLOT in [s.name for s in DOMAIN.slots]
    assert set(private_answers.OUTCOME_SLOTS) <= {s.name for s in DOMAIN.slots}
