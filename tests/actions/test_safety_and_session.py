"""Disclosure, emergencies, the human route, medical-advice refusal, forget me."""
import pytest
from sqlalchemy import select

from actions import content
from actions.common import text_of
from actions.safety import (
    ActionDeclineMedicalAdvice,
    ActionEmergency,
    ActionForgetMe,
    ActionHumanHandoff,
    ActionPriceInfo,
    ActionReportComplication,
)
from actions.conversation import ActionRespondToStatement
from actions.session import ActionSessionStart
from records import db, store
from records.models import ConsultationRequest, SafetyEvent
from tests.actions.helpers import entity, placed, run, texts, tracker
from tests.probe_runner import load_clinic

CLINIC = load_clinic()  # data/content/clinic.yml: clinics edit it, so expected values come from it


def _kinds(url):
    with db.session_scope(url) as session:
        return [r.kind for r in session.execute(select(SafetyEvent)).scalars()]


def test_session_start_discloses_before_anything_else():
    messages, events = run(ActionSessionStart(), tracker(""))
    text = texts(messages)
    assert "automated assistant" in text and "not a diagnosis" in text and "not for emergencies" in text
    assert CLINIC["name"] in text and CLINIC["emergency_number"] in text
    assert [e["event"] for e in events] == ["session_started", "action"]


def test_emergency_answer_is_immediate_and_recorded(db_url):
    messages, _ = run(ActionEmergency(), tracker("chest pain", "emergency"))
    assert f"emergency number here is {CLINIC['emergency_number']}" in texts(messages)  # after the rule's fixed utter_emergency
    assert _kinds(db_url) == ["emergency"]
    # the chat widget shows it as an alert by this marker, not by its words
    assert [m.get("custom") for m in messages] == [{"kind": "emergency"}]


def test_thoughts_of_suicide_get_a_crisis_line_after_the_emergency_answer(db_url):
    text = "I don't want to live anymore"
    sign = {**entity("emergency_sign", "self_harm"), "start": 2, "end": len(text) - len(" anymore")}
    messages, _ = run(ActionEmergency(), tracker(text, "emergency", entities=[sign]))
    assert CLINIC["crisis_line"] in messages[-1]["text"] and CLINIC["emergency_number"] in texts(messages)
    assert [m.get("custom") for m in messages] == [{"kind": "emergency"}] * 2
    assert _kinds(db_url) == ["emergency"]
    # a chest pain is no reason to name the crisis line; nor is a misspelt dye
    for other, value in (("chest pain", "emergency"), ("I want to die my hair red", "self_harm")):
        sign = {**entity("emergency_sign", value), "start": 0, "end": len(other.split(" my")[0])}
        messages, _ = run(ActionEmergency(), tracker(other, "emergency", entities=[sign]))
        assert CLINIC["crisis_line"] not in texts(messages)


def test_another_persons_thoughts_of_suicide_get_the_crisis_line_for_both(db_url):
    text = "my partner has been thinking about killing himself"
    start = text.index("killing himself")
    sign = {**entity("emergency_sign", "self_harm"), "start": start, "end": start + len("killing himself")}
    messages, _ = run(ActionEmergency(), tracker(text, "emergency", entities=[sign]))
    assert messages[-1]["text"] == text_of("crisis_support_someone_else")
    assert CLINIC["crisis_line"] in messages[-1]["text"] and messages[-1].get("custom") == {"kind": "emergency"}


def test_complication_gets_urgent_care(db_url):
    messages, _ = run(ActionReportComplication(), tracker("pus after the injections", "report_complication"))
    text = texts(messages)
    assert CLINIC["urgent_care"] in text and CLINIC["emergency_number"] in text
    assert _kinds(db_url) == ["complication"]
    assert [m.get("custom") for m in messages] == [{"kind": "urgent_care"}]


def test_emergency_still_answered_when_the_database_is_down(monkeypatch, tmp_path):
    monkeypatch.setenv("MESOGUIDE_DB_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("MESOGUIDE_DATA_DIR", str(tmp_path))
    messages, _ = run(ActionEmergency(), tracker("I can't breathe", "emergency"))
    assert CLINIC["emergency_number"] in texts(messages)
    assert (tmp_path / "spool" / "records.jsonl").read_text().count('"kind":"emergency"') == 1  # kept for later


def test_medical_advice_is_declined_with_a_doctor_route(db_url):
    messages, _ = run(ActionDeclineMedicalAdvice(), tracker("how much zinc should I take", "request_medical_advice"))
    assert "can't diagnose, prescribe or recommend doses" in texts(messages)
    payloads = [b["payload"] for m in messages for b in m.get("buttons") or []]
    assert payloads[0] == "/describe_hair_loss" and "/book_consultation" in payloads  # a way forward
    assert _kinds(db_url) == ["medical_advice_declined"]


def test_handoff_and_price_use_the_configured_clinic_contact(db_url):
    for action in (ActionHumanHandoff(), ActionPriceInfo()):
        messages, _ = run(action, tracker("x", "human_handoff"))
        assert CLINIC["phone"] in texts(messages) and CLINIC["email"] in texts(messages)


def test_forget_me_deletes_the_records(db_url):
    store.save_consultation("test-sender-0001", "general", "Anna", "anna@example.com", None, "any time")
    messages, events = run(ActionForgetMe(), tracker("delete my data", "forget_me"))
    assert "deleted" in texts(messages) and events == [{"event": "restart", "timestamp": None}]
    assert messages[-1].get("custom") == {"kind": "data_deleted"}  # the widget erases its copy
    with db.session_scope(db_url) as session:
        assert session.execute(select(ConsultationRequest)).scalars().all() == []


def test_statement_of_a_condition_gets_its_answer_and_the_screening_offer():
    messages, _ = run(ActionRespondToStatement(), tracker("I'm breastfeeding", "inform",
                                                          entities=[entity("condition", "breastfeeding")]))
    assert "breastfeeding" in messages[0]["text"] and messages[-1]["buttons"][0]["payload"] == "/check_eligibility"


def test_a_condition_told_after_a_session_gets_what_to_do_now_and_no_screening_offer():
    """Review: "I'm 6 weeks pregnant and had mesotherapy last week" was offered the
    questions asked before mesotherapy, after the usual "advise against" line."""
    text = "I'm 6 weeks pregnant and had mesotherapy last week"
    pregnancy = placed(text, "pregnant", "condition", "pregnancy")
    messages, _ = run(ActionRespondToStatement(), tracker(text, "inform", entities=[pregnancy]))
    variants = content.knowledge_entries()["contraindications"]["variants"]
    assert messages[0]["text"] == variants["condition_after_session"]["pregnancy"].strip()
    assert text_of("offer_screening") not in [m["text"] for m in messages]
    # before any session, the offer is made
    before = "I'm 6 weeks pregnant"
    messages, _ = run(ActionRespondToStatement(), tracker(before, "inform", entities=[pregnancy]))
    assert text_of("offer_screening") in [m["text"] for m in messages]


@pytest.mark.parametrize("text", ["i'm scared", "I'm so worried, I can't stop crying"])
def test_a_statement_of_fear_gets_who_can_help_now_not_anything_else(text):
    messages, _ = run(ActionRespondToStatement(), tracker(text, "inform", signals={"worried": True}))
    assert [m["text"] for m in messages] == [text_of("worried_statement")]
    assert messages[0]["buttons"][0]["payload"] == "/human_handoff"


def test_fear_told_as_an_answer_to_an_offer_gets_who_can_help_now():
    from actions.conversation import ActionHandleAnswer

    messages, _ = run(ActionHandleAnswer(), tracker("no, i'm scared", "deny", signals={"worried": True}))
    assert [m["text"] for m in messages] == [text_of("worried_statement")]


def test_a_plain_statement_still_gets_anything_else():
    messages, _ = run(ActionRespondToStatement(), tracker("I'm not worried", "inform", signals={"worried": False}))
    assert [m["text"] for m in messages] != [text_of("worried_statement")]


def _after_offer(buttons, intent="affirm"):
    from tests.actions.helpers import user_event

    bot = {"event": "bot", "text": "Would you like...?", "data": {"buttons": buttons}}
    return tracker("yes please", intent, history=[user_event("I'm breastfeeding", "inform"), bot])


def test_yes_to_an_offer_starts_the_offered_flow():
    from actions.conversation import ActionHandleAnswer

    messages, events = run(ActionHandleAnswer(), _after_offer([{"title": "Yes, check for me", "payload": "/check_eligibility"},
                                                               {"title": "No, thanks", "payload": "/deny"}]))
    assert events == [{"event": "followup", "timestamp": None, "name": "action_screening_intro"}]
    assert messages == []  # the intro action speaks, then starts the form


@pytest.mark.parametrize("text, starts", [
    ("all over", True),  # review: taken as "No, thanks" and the questions never started
    ("suddenly, a few weeks ago", True),
    ("no thanks", False),
])
def test_an_answer_to_the_first_hair_loss_question_given_to_the_offer_starts_them(text, starts):
    from actions.conversation import ActionHandleAnswer
    from tests.actions.helpers import user_event

    bot = {"event": "bot", "text": text_of("offer_triage"), "data": {"buttons": content.messages()["offer_triage"]["buttons"]}}
    for intent, action in (("deny", ActionHandleAnswer()), ("inform", ActionRespondToStatement())):
        trk = tracker(text, intent, history=[user_event("hair coming out since my baby was born", "describe_hair_loss"), bot])
        messages, events = run(action, trk)
        started = events == [{"event": "followup", "timestamp": None, "name": "action_triage_intro"}]
        assert started is starts, (text, intent)


def test_yes_without_a_single_offer_asks_what_else():
    from actions.conversation import ActionHandleAnswer

    messages, events = run(ActionHandleAnswer(), _after_offer([{"title": "How is it done?", "payload": "/ask_procedure"}]))
    assert events == [] and messages[0]["response"] == "utter_anything_else"


def test_capabilities_list_unless_the_visitor_names_their_hair_problem():
    from actions.conversation import ActionCapabilities
    from tests.actions.helpers import entity

    messages, events = run(ActionCapabilities(), tracker("what can you do", "ask_capabilities"))
    assert messages == [] and events == []  # the rule goes on to utter_capabilities
    trk = tracker("what kind of hair loss do I have? can you ask me some questions?", "ask_capabilities",
                  entities=[entity("hair_problem", "hair_loss")])
    messages, events = run(ActionCapabilities(), trk)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_triage_intro"}]
    negated = tracker("no hair loss, just curious what you do", "ask_capabilities",
                      entities=[entity("hair_problem", "hair_loss", "negated")])
    assert run(ActionCapabilities(), negated)[1] == []
