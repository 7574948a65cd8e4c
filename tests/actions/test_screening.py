"""Contraindication screening: reading answers, resuming, outcomes, records."""
import pytest
from sqlalchemy import select

from actions import content
from actions.screening import (
    ActionScreeningIntro,
    ActionScreeningSummary,
    ValidateScreeningForm,
    screening_outcome,
)
from records import db
from records.models import ScreeningResult
from tests.actions.helpers import answers, entity, placed, run, slot_events, texts, tracker, user_event
from tests.probe_runner import load_clinic

FORM = "screening_form"


def ask(text, intent=None, requested="sc_pregnancy", entities=None, slots=None, confidence=0.95, signals=None):
    return run(
        ValidateScreeningForm(),
        tracker(
            text, intent, confidence=confidence, entities=entities, slots=slots, active_loop=FORM,
            requested_slot=requested, signals=signals,
        ),
    )


@pytest.mark.parametrize(
    "text,intent,expected",
    [
        ("/affirm", "affirm", "yes"),
        ("/deny", "deny", "no"),
        ("/dont_know", "dont_know", "unsure"),
        ("nope", "deny", "no"),
        ("Nope.", "greet", "no"),  # the words decide even when the classifier is off
        ("not that I know", "deny", "no"),
        ("not that i know of", "out_of_scope", "no"),
        ("I don't know", "dont_know", "unsure"),
        ("not sure", "inform", "unsure"),
        ("yeah", "affirm", "yes"),
        ("dunno", "nlu_fallback", "unsure"),
    ],
)
def test_plain_answers(text, intent, expected):
    _, events = ask(text, intent)
    assert answers(events) == {"sc_pregnancy": expected}


def test_a_stated_fact_answers_the_question():
    _, events = ask("yes I'm 3 months pregnant", "inform", entities=[entity("condition", "pregnancy")])
    assert slot_events(events)["sc_pregnancy"] == "yes"


def test_negated_and_uncertain_mentions_fill_several_items():
    ents = [entity("condition", "pregnancy", "negated"), entity("condition", "breastfeeding", "uncertain")]
    _, events = ask("I'm not pregnant and not sure about breastfeeding", "inform", entities=ents)
    assert answers(events) == {"sc_pregnancy": "no", "sc_breastfeeding": "unsure"}


def test_a_condition_told_of_someone_else_answers_nothing_for_the_visitor():
    # "my mother had breast cancer" (terminology someone_else): the tumour question is still asked
    history = [user_event("my mother had breast cancer", "inform",
                          entities=[entity("condition", "tumour", "someone_else")])]
    trk = tracker("can I have mesotherapy?", "check_eligibility", history=history)
    _, events = run(ValidateScreeningForm(), trk)
    assert "sc_tumour" not in answers(events)


def test_an_answer_about_another_item_does_not_answer_the_question_asked():
    messages, events = ask("yes I'm breastfeeding", "inform", entities=[entity("condition", "breastfeeding")])
    assert answers(events) == {"sc_breastfeeding": "yes"}
    # kept, and said so before the pregnancy question comes again (no silent repeat)
    said = [m.get("text") for m in messages]
    noted, asked = (content.messages()[k]["text"] for k in ("answer_noted_other", "ask_sc_pregnancy"))
    assert said[0] == noted and said[-1] == asked


@pytest.mark.parametrize("text, requested", [
    ("im a guy lol", "sc_pregnancy"),
    ("I'm 52, menopause done and dusted", "sc_pregnancy"),
    ("i'm a man obviously", "sc_breastfeeding"),
])
def test_typed_words_of_the_question_answer_it(text, requested):
    _, events = ask(text, "inform", requested=requested)
    # (and the other questions those words answer: pregnancy, breastfeeding, periods)
    assert answers(events)[requested] == "no"
    assert set(answers(events)) <= {"sc_pregnancy", "sc_breastfeeding", "sc_menstruation"}
    assert set(answers(events).values()) == {"no"}


def test_not_sure_beside_another_items_condition_answers_the_question_asked_too():
    _, events = ask("not sure, my period is late", "dont_know", entities=[entity("condition", "menstruation")])
    assert answers(events)["sc_pregnancy"] == "unsure"


def test_an_answer_to_the_question_asked_gets_no_noted_line():
    messages, events = ask("no", "deny")
    assert answers(events) == {"sc_pregnancy": "no"}
    assert content.messages()["answer_noted_other"]["text"] not in texts(messages)


def test_facts_given_before_the_screening_are_not_asked_again():
    history = [user_event("I'm breastfeeding my son", "inform", entities=[entity("condition", "breastfeeding")]),
               user_event("no allergies at all", "deny", entities=[entity("condition", "allergy", "negated")])]
    trk = tracker("can I have mesotherapy?", "check_eligibility", history=history)
    _, events = run(ValidateScreeningForm(), trk)
    assert answers(events) == {"sc_breastfeeding": "yes", "sc_allergy": "no"}


def test_intro_counts_every_question_on_a_fresh_start_and_hands_over_to_the_form():
    messages, events = run(ActionScreeningIntro(), tracker("can I have mesotherapy?", "check_eligibility"))
    assert f"{len(content.screening_items())} short questions" in texts(messages)
    assert events == [{"event": "followup", "timestamp": None, "name": FORM}]


def test_intro_on_resume_counts_only_the_questions_left():
    answered = {"sc_pregnancy": "no", "sc_breastfeeding": "no", "sc_allergy": "unsure"}
    history = [user_event("I have hashimoto's", "inform", entities=[entity("condition", "endocrine_disorder")])]
    trk = tracker("can we continue?", "check_eligibility", slots=answered, history=history)
    messages, events = run(ActionScreeningIntro(), trk)
    left = len(content.screening_items()) - 4
    assert "kept your earlier answers" in texts(messages) and f"{left} short questions left" in texts(messages)
    assert events[-1]["name"] == FORM


def test_intro_in_a_new_conversation_never_says_it_carries_on_but_counts_what_was_said():
    """"I get cold sores sometimes, does that matter?" as the first message: one
    question fewer, and no "carry on where we stopped" (nothing was stopped)."""
    trk = tracker("i get cold sores sometimes. does that matter", "ask_contraindications",
                  entities=[entity("condition", "infection")])
    messages, _ = run(ActionScreeningIntro(), trk)
    left = len(content.screening_items()) - 1
    assert "carry on" not in texts(messages) and "kept your earlier answers" not in texts(messages)
    assert f"{left} short questions" in texts(messages)


def test_intro_says_one_question_in_words_and_nothing_when_none_is_left():
    items = list(content.screening_items())
    messages, _ = run(ActionScreeningIntro(), tracker("go on", "check_eligibility", slots={s: "no" for s in items[:-1]}))
    assert "one short question left" in texts(messages)
    messages, events = run(ActionScreeningIntro(), tracker("go on", "check_eligibility", slots={s: "no" for s in items}))
    assert messages == [] and events[-1]["name"] == FORM


def test_a_question_in_between_is_answered_and_the_question_repeated():
    messages, events = ask("what are the side effects?", "ask_side_effects")
    assert "pain" in texts(messages).lower()
    slots = slot_events(events)
    assert "sc_pregnancy" not in slots and slots["form_turns_kept"] == 1.0  # re-asked by the form


def test_a_question_in_between_that_names_a_topic_gets_that_topic_and_the_question_again():
    """"wait, does it hurt?" mid-questionnaire: the pain answer (as outside the flow),
    not the side effects the classifier guessed; then the same question again."""
    messages, events = ask("wait, does it hurt?", "ask_side_effects", entities=[entity("topic", "pain")])
    said = [m["text"] for m in messages]
    assert said[0] == content.knowledge_entries()["pain"]["answer"].strip()
    assert content.knowledge_entries()["side_effects"]["answer"].strip() not in said
    slots = slot_events(events)
    assert "sc_pregnancy" not in slots and slots["form_turns_kept"] == 1.0
    # an answer with a topic word but no question is still read as the answer
    _, events = ask("no, I'm not pregnant, I just had a baby", "inform", entities=[entity("topic", "postpartum")])
    assert slot_events(events).get("sc_pregnancy") == "no"


@pytest.mark.parametrize("confidence,answered", [(0.7, True), (0.5, False)])
def test_a_question_mid_form_is_answered_only_above_the_interrupt_confidence(confidence, answered):
    from actions.common import INTERRUPT_CONFIDENCE

    assert (confidence >= INTERRUPT_CONFIDENCE) is answered
    messages, _ = ask("what are the side effects?", "ask_side_effects", confidence=confidence)
    assert ("pain" in texts(messages).lower()) is answered
    assert ("didn't catch" in texts(messages)) is not answered


def test_the_same_flow_asked_for_in_the_middle_says_these_questions_answer_it():
    messages, events = ask("so no meso for me?", "check_eligibility")
    assert messages[0]["text"] == content.messages()["flow_answers_that"]["text"]
    assert messages[-1]["text"] == content.messages()["ask_sc_pregnancy"]["text"]  # and the question again
    assert not any(k.startswith("sc_") for k in answers(events))  # nothing taken as an answer
    other, _ = ask("can I book a consultation?", "book_consultation")
    assert other[0]["text"] == content.messages()["finish_current_first"]["text"]


def test_an_answer_that_fits_no_option_is_asked_again_with_the_options():
    messages, events = ask("purple", "nlu_fallback", confidence=0.2)
    said = texts(messages)
    assert "didn't catch" in said and '"Yes"' in said and '"No"' in said and '"Not sure"' in said
    assert answers(events) == {"unclear_answers": 1.0, "form_turns_kept": 1.0}


def test_a_second_answer_that_fits_no_option_is_taken_as_not_sure_and_the_questions_go_on():
    messages, events = ask("purple again", "nlu_fallback", confidence=0.2, slots={"unclear_answers": 1.0})
    assert "not sure" in texts(messages)
    assert answers(events) == {"sc_pregnancy": "unsure", "unclear_answers": None}


def test_a_red_flag_typed_during_the_screening_gets_see_a_doctor_and_the_question_again():
    flag = entity("red_flag", "body_hair_loss")
    messages, events = ask("my eyebrows are falling out", "inform", entities=[flag])
    said = texts(messages)
    assert "doctor or dermatologist" in said and "eyebrows" in said
    assert "sc_pregnancy" not in slot_events(events) and "flow_stopped" not in slot_events(events)


def test_a_complication_typed_during_the_screening_gets_urgent_care_and_ends_it(sqlite_url):
    signs = [entity("complication_sign", "infection_sign")]
    trk_text = "since my injection yesterday there is pus"
    messages, events = ask(trk_text, "inform", entities=signs, signals={"injection_context": True})
    assert messages[0]["response"] == "utter_complication"
    assert slot_events(events)["flow_stopped"] == "emergency"


def test_stop_ends_the_form_and_keeps_answers():
    _, events = ask("stop", "stop", slots={"sc_pregnancy": "no"})
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert slot_events(events)["flow_stopped"] == "stopped"
    assert "sc_pregnancy" not in slot_events(events)


def test_an_emergency_in_the_middle_escalates_and_ends(sqlite_url):
    messages, events = ask("I can't breathe and my throat is swelling", "emergency")
    assert messages[0]["response"] == "utter_emergency" and load_clinic()["emergency_number"] in texts(messages)
    assert slot_events(events)["flow_stopped"] == "emergency"


def test_a_reaction_told_as_history_in_the_middle_is_no_emergency(sqlite_url):
    messages, events = ask("I once had a really bad reaction to a vitamin B12 shot, my whole arm swelled up",
                           "emergency", requested="sc_allergy")
    assert "utter_emergency" not in [m.get("response") for m in messages]
    assert slot_events(events).get("flow_stopped") is None


@pytest.mark.parametrize(
    "answers,outcome,yes,unsure",
    [
        ({"sc_pregnancy": "no", "sc_allergy": "no"}, "none_reported", [], []),
        ({"sc_pregnancy": "yes", "sc_infection": "unsure"}, "contraindication_reported", ["sc_pregnancy"], ["sc_infection"]),
        ({"sc_tumour": "unsure"}, "doctor_check", [], ["sc_tumour"]),
    ],
)
def test_outcome_rules(answers, outcome, yes, unsure):
    assert screening_outcome(answers) == (outcome, yes, unsure)


ALL_NO = {s: "no" for s in ("sc_pregnancy", "sc_breastfeeding", "sc_allergy", "sc_menstruation", "sc_endocrine", "sc_tumour", "sc_infection")}


def _stored(url):
    with db.session_scope(url) as session:
        return [(r.outcome, r.completed, r.answers, r.flagged_items) for r in session.execute(select(ScreeningResult)).scalars()]


def test_summary_nothing_reported_never_clears_and_offers_consultation(db_url):
    messages, events = run(ActionScreeningSummary(), tracker("/deny", "deny", slots=ALL_NO))
    text = texts(messages)
    assert "doctor" in text and "final decision" in text
    assert any(b["payload"] == "/book_consultation" for b in messages[0]["buttons"])
    assert slot_events(events)["screening_outcome"] == "none_reported"
    assert _stored(db_url) == [("none_reported", True, ALL_NO, [])]


def test_summary_names_the_items_and_the_advice(db_url):
    answers = dict(ALL_NO, sc_menstruation="yes", sc_allergy="yes", sc_endocrine="unsure")
    messages, _ = run(ActionScreeningSummary(), tracker("/deny", "deny", slots=answers))
    text = texts(messages)
    assert "allergy" in text and "period" in text and "postponing" in text
    assert "hormone problem" in text and "check" in text
    assert _stored(db_url)[0][0] == "contraindication_reported"
    assert _stored(db_url)[0][3] == ["sc_allergy", "sc_menstruation", "sc_endocrine"]


def test_stopped_screening_keeps_answers_for_the_doctor(db_url):
    messages, events = run(
        ActionScreeningSummary(), tracker("stop", "stop", slots={"sc_pregnancy": "no", "flow_stopped": "stopped"})
    )
    assert "stopped" in texts(messages)
    assert "sc_pregnancy" not in slot_events(events)  # kept to resume later
    assert _stored(db_url) == [("none_reported", False, {"sc_pregnancy": "no"}, [])]


@pytest.mark.parametrize("text, requested, entities", [
    # review: saved as "yes, a tumour" (and as "breastfeeding"); "i have" is not a yes to another thing
    ("i have a bad headache", "sc_tumour", [entity("topic", "side_effects")]),
    ("i have a high fever and a really stiff neck", "sc_breastfeeding", [entity("red_flag", "systemic")]),
])
def test_i_have_something_else_is_no_yes_to_the_question_asked(text, requested, entities):
    _, events = ask(text, "affirm", requested=requested, entities=entities)
    assert requested not in answers(events)


def test_i_have_the_condition_asked_is_a_yes():
    _, events = ask("i have a thyroid problem", "affirm", requested="sc_endocrine",
                    entities=[entity("condition", "endocrine_disorder")])
    assert answers(events) == {"sc_endocrine": "yes"}


def test_a_correction_of_an_earlier_answer_is_kept_and_said_so():
    """Review: "actually wait, i might be pregnant, not sure" at the breastfeeding
    question was dropped (pregnancy had been answered no) and the summary said nothing."""
    messages, events = ask("actually wait, i might be pregnant, not sure", "inform", requested="sc_breastfeeding",
                           entities=[entity("condition", "pregnancy", "uncertain")], slots={"sc_pregnancy": "no"})
    assert answers(events).get("sc_pregnancy") == "unsure"
    assert content.messages()["answer_noted_other"]["text"] in [m.get("text") for m in messages]
    # without a word of correction, an earlier answer stays as given
    _, events = ask("i might be pregnant", "inform", requested="sc_breastfeeding",
                    entities=[entity("condition", "pregnancy", "uncertain")], slots={"sc_pregnancy": "no"})
    assert "sc_pregnancy" not in answers(events)


def test_a_word_of_yes_with_something_else_stays_a_yes():
    _, events = ask("yes, and my hair is falling out", "affirm", requested="sc_pregnancy",
                    entities=[entity("hair_problem", "hair_loss")])
    assert answers(events) == {"sc_pregnancy": "yes"}


def test_a_reaction_to_a_jab_told_as_a_correction_answers_the_allergy_question():
    text = "actually im not sure, i did get a rash after a b12 jab once"
    allergy = placed(text, "rash after a b12 jab", "condition", "allergy")
    _, events = ask(text, "inform", requested="sc_menstruation", entities=[allergy], slots={"sc_allergy": "no"})
    assert answers(events).get("sc_allergy") == "yes"


@pytest.mark.parametrize("text, requested, entities", [
    # review (2026-12-06): a question back was saved as a yes ("a hormone problem" in the summary)
    ("does diabetes count?", "sc_endocrine", [entity("condition", "endocrine_disorder")]),
    ("what counts as a hormone problem?", "sc_endocrine", []),
    ("why do you need to know?", "sc_pregnancy", []),
])
def test_a_question_back_is_answered_and_not_saved_as_an_answer(text, requested, entities):
    messages, events = ask(text, "ask_contraindications", requested=requested, entities=entities)
    assert requested not in answers(events)
    assert texts(messages)  # something is said: the answer, then the question again


@pytest.mark.parametrize("text, requested, expected", [
    ("i have hashimotos, does that count?", "sc_endocrine", "yes"),  # told, with a question
    ("yes?", "sc_pregnancy", "yes"),
])
def test_an_answer_with_a_question_mark_is_still_an_answer(text, requested, expected):
    entities = [entity("condition", "endocrine_disorder")] if "hashimoto" in text else []
    _, events = ask(text, "affirm", requested=requested, entities=entities)
    assert answers(events)[requested] == expected


@pytest.mark.parametrize("previous, outcome, key", [
    ("action_screening_summary", None, "screening_doctor_decides"),
    ("action_triage_outcome", "likely_aga", "next_step_likely_aga"),
    ("action_triage_outcome", "unclear", "triage_unclear"),
    ("action_consultation_submit", None, "next_step_consultation"),
])
def test_the_next_step_after_a_flow_is_that_flows(previous, outcome, key):
    from actions.common import text_of
    from actions.conversation import ActionFlowNextStep

    history = [{"event": "user", "text": "...", "parse_data": {"intent": {"name": "deny"}}},
               {"event": "action", "name": previous}, {"event": "action", "name": "action_listen"}]
    messages, events = run(ActionFlowNextStep(), tracker("so what now?", "out_of_scope", 0.8, history=history,
                                                         slots={"triage_outcome": outcome}))
    assert messages[0]["text"] == text_of(key) and events == []
    if key == "screening_doctor_decides":
        assert "/book_consultation" in [b["payload"] for b in messages[0]["buttons"]]


@pytest.mark.parametrize("text, requested, read", [
    # review (generalization): "didn't catch your answer"; a question with a story saved as a yes
    ("what counts as a hormone problem?", "sc_endocrine", None),
    ("whats counted as a tumour, i had a mole removed", "sc_tumour", "unsure"),
])
def test_what_counts_as_gets_the_not_sure_hint(text, requested, read):
    messages, events = ask(text, "ask_contraindications", requested=requested)
    from actions.common import text_of

    assert messages[0]["text"] == text_of("what_counts_hint")
    assert answers(events).get(requested) == read


def test_feeling_low_in_the_screening_gets_who_can_help_and_the_same_question():
    # review: "honestly i just feel really low about all this" got the medical-emergency text
    messages, events = ask("honestly i just feel really low about all this", "emergency", confidence=0.9,
                           requested="sc_breastfeeding",
                           entities=[entity("topic", "low_mood"), entity("emergency_kind", "other")])
    said = texts(messages)
    assert load_clinic()["crisis_line"] in said and "utter_emergency" not in [m.get("response") for m in messages]
    assert slot_events(events).get("flow_stopped") is None and "sc_breastfeeding" not in answers(events)
