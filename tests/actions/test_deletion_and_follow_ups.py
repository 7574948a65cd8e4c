"""A deletion asked for in the middle of a questionnaire, "is it deleted?" to the
question whether to delete, and a short follow-up right after the answer on another
treatment (black-box review of 2026-12-06, conversations)."""
import pytest
from sqlalchemy import select

from actions import content
from actions.common import text_of
from actions.consultation import ActionConsultationSubmit, ValidateConsultationForm
from actions.routing import ActionConfirmForgetMe, ActionWhichTreatment
from actions.screening import ActionScreeningSummary, ValidateScreeningForm
from actions.triage import ActionTriageOutcome, ValidateTriageForm
from records import db
from records.models import ConsultationRequest, ScreeningResult, TriageOutcome
from tests.actions.helpers import entity, run, slot_events, texts, tracker
from tests.probe_runner import load_clinic

DELETE = "actually delete everything i told you"


@pytest.mark.parametrize("validation, form, requested", [
    (ValidateScreeningForm, "screening_form", "sc_breastfeeding"),
    (ValidateTriageForm, "triage_form", "tr_onset"),
    (ValidateConsultationForm, "consultation_form", "cs_name"),
])
def test_delete_my_data_in_a_questionnaire_asks_to_confirm_and_ends_it(validation, form, requested):
    # review: "Sorry, I didn't catch your answer" and the question again
    messages, events = run(validation(), tracker(DELETE, "forget_me", 1.0, active_loop=form, requested_slot=requested,
                                                 slots={"sc_pregnancy": "no"}))
    assert messages[0]["text"] == text_of("forget_me_confirm")
    assert [b["payload"] for b in messages[0]["buttons"]][0] == "/forget_me"
    assert slot_events(events)["flow_stopped"] == "forget"
    assert requested not in slot_events(events)  # not read as an answer
    assert len(messages) == 1  # no next question under it


def test_a_weak_guess_at_deleting_is_not_taken_for_it_in_a_questionnaire():
    _, events = run(ValidateScreeningForm(), tracker("no", "forget_me", 0.3, active_loop="screening_form",
                                                     requested_slot="sc_pregnancy"))
    assert slot_events(events).get("flow_stopped") is None


def _screenings(url):
    with db.session_scope(url) as session:
        return list(session.execute(select(ScreeningResult)).scalars())


def test_a_screening_ended_for_deletion_saves_nothing_says_nothing_and_keeps_the_answers_to_resume(db_url):
    messages, events = run(ActionScreeningSummary(), tracker(DELETE, "forget_me", slots={
        "sc_pregnancy": "no", "flow_stopped": "forget"}))
    assert messages == []
    assert _screenings(db_url) == []
    # kept in the conversation only, for "No, keep it" (a "Yes, delete" restarts it)
    assert "sc_pregnancy" not in slot_events(events) and slot_events(events)["flow_stopped"] is None
    # a plain stop still keeps them for the doctor (tests/actions/test_screening.py)
    run(ActionScreeningSummary(), tracker("stop", "stop", slots={"sc_pregnancy": "no", "flow_stopped": "stopped"}))
    assert len(_screenings(db_url)) == 1


def test_triage_and_consultation_ended_for_deletion_say_nothing_and_save_nothing(db_url):
    messages, events = run(ActionTriageOutcome(), tracker(DELETE, "forget_me", slots={
        "tr_pattern": "all_over", "flow_stopped": "forget"}))
    assert messages == [] and "tr_pattern" not in slot_events(events)
    messages, events = run(ActionConsultationSubmit(), tracker(DELETE, "forget_me", slots={
        "cs_name": "Sam", "flow_stopped": "forget"}))
    assert messages == [] and slot_events(events)["cs_name"] is None
    with db.session_scope(db_url) as session:
        assert list(session.execute(select(TriageOutcome)).scalars()) == []
        assert list(session.execute(select(ConsultationRequest)).scalars()) == []


def test_is_it_deleted_to_the_deletion_question_says_nothing_is_deleted_yet():
    confirm = content.messages()["forget_me_confirm"]
    asked = [{"event": "user", "text": "delete my data", "parse_data": {"intent": {"name": "forget_me"}}},
             {"event": "action", "name": "screening_form"},  # asked inside a questionnaire as well
             {"event": "bot", "text": confirm["text"], "data": {"buttons": confirm["buttons"]}},
             {"event": "action", "name": "action_listen"}]
    messages, _ = run(ActionConfirmForgetMe(), tracker("are you sure its deleted?", "ask_claim", 0.78, history=asked))
    assert messages[0]["text"] == text_of("forget_me_not_yet")
    assert messages[1]["buttons"][0]["payload"] == "/forget_me"
    # the first time it is asked, only the question
    messages, _ = run(ActionConfirmForgetMe(), tracker("delete my data", "forget_me", 1.0))
    assert len(messages) == 1 and "delete" in messages[0]["text"]


@pytest.mark.parametrize("treatment, text, intent, entities, meso_payload", [
    ("prp", "how many sessions?", "ask_sessions", [], "/ask_sessions"),
    ("minoxidil", "any side effects?", "ask_side_effects", [entity("topic", "side_effects")], "/ask_side_effects"),
    ("finasteride", "what about for women?", "ask_indications", [entity("topic", "men_women")], None),
])
def test_a_follow_up_after_another_treatment_asks_which_with_a_button_each(treatment, text, intent, entities, meso_payload):
    trk = tracker(text, intent, entities=entities, slots={"last_answer": f"knowledge:{treatment}"})
    messages, events = run(ActionWhichTreatment(), trk)
    names = content.routing()["treatment_entries"]
    assert messages[0]["text"] == text_of("which_treatment", treatment=names[treatment])
    assert names[treatment] in messages[0]["text"]
    buttons = messages[0]["buttons"]
    assert buttons[0] == content.buttons_for([treatment])[0]  # that treatment's answer
    assert buttons[1]["title"].startswith("Mesotherapy: ")
    if meso_payload:
        assert buttons[1]["payload"] == meso_payload
    assert events == []


def test_the_low_mood_answer_names_the_clinics_crisis_line_and_the_prescriber():
    text = content.entry_text(content.knowledge_entries()["low_mood"], [], "lately i feel really down")
    clinic = load_clinic()
    assert clinic["crisis_line"] in text and clinic["emergency_number"] in text
    assert "{" not in text and "finasteride" in text.lower()


def test_and_the_gym_after_the_aftercare_answer_leads_with_its_line():
    from actions.routing import ActionAnswerTopic

    trk = tracker("and the gym?", "report_complication", 0.55, slots={"last_answer": "knowledge:aftercare"})
    messages, events = run(ActionAnswerTopic(), trk)
    entry = content.knowledge_entries()["aftercare"]
    gym_line = next(lead for lead in entry["leads"] if "gym" in lead["words"])
    assert messages[0]["text"].startswith(content.lead_text(gym_line))
    assert {"event": "slot", "name": "last_answer", "value": "knowledge:aftercare"} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events]


def test_weight_loss_without_trying_gets_see_a_doctor_without_the_diets_reassurance():
    from actions.routing import red_flag_entries

    entities = [entity("red_flag", "systemic"), entity("topic", "crash_diet"), entity("hair_problem", "hair_loss")]
    found = [i for i, _ in red_flag_entries(["systemic"], entities, "my hair is thinning and ive lost 8 kilos without trying")]
    assert "crash_diet" not in found


def test_weight_loss_asked_as_a_cause_keeps_the_diets_answer():
    from actions.routing import red_flag_entries

    entities = [entity("red_flag", "systemic"), entity("topic", "crash_diet"), entity("hair_problem", "hair_loss")]
    assert "crash_diet" in [i for i, _ in red_flag_entries(["systemic"], entities, "can rapid weight loss cause hair loss?")]


def test_a_question_about_ones_data_in_a_questionnaire_is_no_request_to_delete():
    # the consent step's "what will you do with my data?" taken for "delete my data"
    _, events = run(ValidateConsultationForm(), tracker("what will you do with my data?", "forget_me", 0.9,
                                                        active_loop="consultation_form", requested_slot="cs_consent"))
    assert slot_events(events).get("flow_stopped") is None


def test_facial_hair_is_no_question_about_face_mesotherapy():
    entry = content.knowledge_entries()["indications"]
    said = content.entry_text(entry, [], "i have pcos and thinning on top, facial hair too. is meso any good")
    assert not said.startswith(text_of("hair_only_not_face"))
    assert content.entry_text(entry, [], "is facial mesotherapy good for wrinkles").startswith(text_of("hair_only_not_face"))


@pytest.mark.parametrize("text, topics, kept", [
    # review: "what's the downtime after PRP" got mesotherapy's time off first
    ("Whats the downtime after PRP", ["downtime", "prp"], ["prp"]),
    ("can i have prp if im pregnant", ["contraindications", "prp"], ["prp"]),
    ("minoxidil side effects", ["side_effects", "minoxidil"], ["minoxidil"]),
    # mesotherapy named beside it: both sides asked
    ("is prp or mesotherapy more painful", ["pain", "prp"], ["pain", "prp"]),
])
def test_mesotherapys_own_aspects_are_not_answered_for_another_treatment(text, topics, kept):
    from actions.routing import topic_entries

    entities = [entity("topic", t) for t in topics]
    if "mesotherapy" in text:
        entities.append(entity("procedure", "mesotherapy"))
    assert sorted(i for i, _ in topic_entries(entities, text, topics)) == sorted(kept)


@pytest.mark.parametrize("entry_id, text, words", [
    ("minoxidil", "Can minoxidil cause heart palpitations?", "get medical advice today"),
    ("minoxidil", "Oral minoxidil vs topical - what's the difference?", "outside their licence"),
    ("minoxidil", "Is Regaine foam better than the liquid?", "do not compare the foam"),
    ("prp", "Whats the downtime after PRP", "time off PRP needs"),
    ("prp", "Can PRP be done at the same time as a hair transplant?", "surgeon"),
    ("prp", "Is PRP safe if I have a low platelet count?", "The doctor decides"),
])
def test_another_treatments_answer_leads_with_the_aspect_asked(entry_id, text, words):
    said = content.entry_text(content.knowledge_entries()[entry_id], [], text)
    first_line = said.split("\n")[0]
    assert words in first_line, said
    assert "{" not in said


@pytest.mark.parametrize("validation, form, requested, text", [
    (ValidateScreeningForm, "screening_form", "sc_pregnancy", "why do you need to know that?"),
    (ValidateTriageForm, "triage_form", "tr_onset", "why are you asking"),
    (ValidateConsultationForm, "consultation_form", "cs_consent", "who sees my details?"),
    (ValidateConsultationForm, "consultation_form", "cs_name", "why do you need my name?"),
])
def test_why_a_question_is_asked_is_answered_and_the_question_comes_again(validation, form, requested, text):
    # review: "I haven't told you anything yet that needs a source", or the question read as an answer
    messages, events = run(validation(), tracker(text, "ask_source", 0.9, active_loop=form, requested_slot=requested))
    assert messages[0]["text"] == text_of(f"why_asked_{form}")
    assert requested not in slot_events(events)
    assert slot_events(events).get("flow_stopped") is None


def test_does_it_hurt_after_the_answer_on_prp_gets_prps_line_on_pain():
    from actions.routing import ActionAnswerTopic

    trk = tracker("does it hurt?", "ask_side_effects", 0.9, entities=[entity("topic", "pain")],
                  slots={"last_answer": "knowledge:prp"})
    messages, _ = run(ActionAnswerTopic(), trk)
    entry = content.knowledge_entries()["prp"]
    pain_line = next(lead for lead in entry["leads"] if "hurt" in lead["words"])
    assert messages[0]["text"].startswith(content.lead_text(pain_line))
    # after an answer on mesotherapy itself, the same words get mesotherapy's pain answer
    trk = tracker("does it hurt?", "ask_side_effects", 0.9, entities=[entity("topic", "pain")],
                  slots={"last_answer": "knowledge:aftercare"})
    messages, _ = run(ActionAnswerTopic(), trk)
    assert content.knowledge_entries()["pain"]["answer"].strip() in texts(messages)


@pytest.mark.parametrize("text, words", [
    ("on finasteride, my breasts feel sore and there is a lump", "need a doctor soon"),
    ("can i take finasteride while my wife is pregnant", "should not touch broken or crushed tablets"),
])
def test_finasterides_answer_leads_with_breast_changes_and_a_partners_pregnancy(text, words):
    said = content.entry_text(content.knowledge_entries()["finasteride"], [], text)
    assert words in said.split("\n")[0]


def test_a_session_told_of_without_a_question_gets_what_may_follow():
    # review: "i had mesotherapy 3 days ago" got "All right. Is there anything else?"
    from actions.conversation import ActionRespondToStatement

    messages, _ = run(ActionRespondToStatement(), tracker("i had mesotherapy 3 days ago", "inform", 0.8,
                                                          entities=[entity("procedure", "mesotherapy")]))
    assert messages[0]["text"] == text_of("after_session_prompt")
    assert "/report_complication" in [b["payload"] for b in messages[0]["buttons"]]
    messages, _ = run(ActionRespondToStatement(), tracker("my sister had mesotherapy", "inform", 0.8))
    assert messages[0]["text"] != text_of("after_session_prompt")
