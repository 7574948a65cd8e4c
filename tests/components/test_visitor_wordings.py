"""Wordings black-box reviewers found answered as another question (2026-12-06): the
terminology and the routing read them as the visitor meant, through the real Analyser
and ``choose_action``."""
import pytest

from components import signals as sig
from components.routing_policy import choose_action
from tests.components.test_routing_policy import ANSWER, HIGH_STAKES, WEAK
from tests.fixtures.terminology import parse  # and the session's ``analyser`` fixture


def decide(analyser, text, intent, confidence=0.95):
    entities, signals = parse(analyser, text)
    return choose_action("action_listen", None, intent, confidence, entities, signals, text, HIGH_STAKES, ANSWER, WEAK)


def topics_of(analyser, text):
    return sig.topics(parse(analyser, text)[0], text)


@pytest.mark.parametrize("text, intent", [
    ("can i get meso under my eyes for dark circles", "check_eligibility"),
    ("meso for my face", "check_eligibility"),
    ("mesotherapy under eyes", "ask_what_is"),
    ("facial mesotherapy, how many sessions?", "ask_sessions"),
])
def test_mesotherapy_asked_for_the_face_is_declined(analyser, text, intent):
    assert decide(analyser, text, intent) == "utter_out_of_scope", text


@pytest.mark.parametrize("text", [
    "is mesotherapy for the face the same as for hair?",  # the hair is named
    "after meso my forehead is swollen",  # a sign after a session, no use elsewhere
    "can I have meso on my scalp and face",
])
def test_the_face_beside_the_scalp_or_a_sign_after_a_session_is_not_declined(text):
    assert not sig.treated_elsewhere(text), text


def test_an_unsure_booking_guess_gives_way_to_the_topic_asked(analyser):
    assert decide(analyser, "when can i go back to the gym", "book_consultation", 0.67) == "action_answer_topic"
    # a sure booking request stays one
    assert decide(analyser, "I'd like to book a consultation about PRP", "book_consultation", 0.99) is None


def test_an_age_asked_of_mesotherapy_is_who_should_not_have_it(analyser):
    text = "can a 16 year old get meso"
    assert topics_of(analyser, text) == ["contraindications"]


@pytest.mark.parametrize("text, asked", [
    ("im 70 can i still have it", True),
    ("my scalp is sore. should i worry", True),
    ("I had my first session last week", False),
])
def test_a_verb_before_i_asks_wherever_the_sentence_starts(text, asked):
    assert sig.asked(text) is asked


@pytest.mark.parametrize("text, intent", [
    ("Can someone tell me roughly how much hair mesotherapy costs per session? I'm a student and I've been losing "
     "hair since a bad bout of stress during exams.", "describe_hair_loss"),
    ("I'm healthy apart from mild arthritis. How much would a full course of scalp mesotherapy typically cost, "
     "roughly?", "ask_claim"),
])
def test_a_price_asked_inside_a_story_gets_the_price_answer(analyser, text, intent):
    assert decide(analyser, text, intent, 0.6) == "action_price_info", text


@pytest.mark.parametrize("text", [
    "Is it possible to change my flight date without paying a fee?",  # no treatment named
    "Does the price include the consultation for stress hair loss?",  # a topic named in the question
])
def test_a_price_word_without_a_treatment_or_beside_a_topic_is_not_the_price_answer(analyser, text):
    assert decide(analyser, text, "out_of_scope", 0.6) != "action_price_info", text


def test_an_organ_transplant_is_a_condition_for_the_doctor_not_a_hair_transplant(analyser):
    text = "I had a kidney transplant ten years ago and take tacrolimus. Would scalp injections be risky for me?"
    entities = parse(analyser, text)[0]
    assert [e["value"] for e in entities if e["entity"] == "condition"] == ["other_condition", "other_condition"]
    assert not [e for e in entities if e["entity"] == "procedure"]


@pytest.mark.parametrize("text, topic", [
    ("How long should I wait after mesotherapy before colouring or bleaching my hair?", "aftercare"),
    ("Should I dye it before or after the injections?", "aftercare"),
    ("should I wash my hair before the session?", "preparation"),
    ("can I take ibuprofen before my session?", "preparation"),
])
def test_hair_dye_and_the_time_after_a_session_are_aftercare_not_preparation(analyser, text, topic):
    found = topics_of(analyser, text)
    assert found[0] == topic and (topic == "preparation" or "preparation" not in found), (text, found)


@pytest.mark.parametrize("text", [
    "Periods due on the day of my session. Is it totally fine to go ahead or not?",
    "I'm allergic to B vitamins I think. Meso is fine for me though as long as they skip that one, yeah?",
])
def test_a_condition_with_is_it_fine_asks_who_should_not_have_it(analyser, text):
    assert topics_of(analyser, text) == ["contraindications"], text


@pytest.mark.parametrize("text", [
    "are the injections under the skin or deeper?",
    "how deep do the injections go into the skin?",
])
def test_injections_into_the_skin_are_the_procedure_not_a_treatment_elsewhere(text):
    assert not sig.treated_elsewhere(text), text
