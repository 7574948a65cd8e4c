"""Wordings black-box reviewers found answered as another question (2026-12-06): the
terminology and the routing read them as the visitor meant, through the real Analyser
and ``choose_action``."""
import pytest

from components import signals as sig
from components.routing_policy import choose_action
from tests.components.test_routing_policy import ANSWER, HIGH_STAKES, WEAK
from tests.fixtures.terminology import parse  # and the session's ``analyser`` fixture


def decide(analyser, text, intent, confidence=0.95, after_answer=False):
    """The routing policy's action; ``after_answer``: the bot's last action answered a question."""
    entities, signals = parse(analyser, text)
    return choose_action("action_listen", None, intent, confidence, entities, signals, text, HIGH_STAKES, ANSWER, WEAK,
                         after_answer=after_answer)


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


# --- my own probes of stories with a question (2026-12-06, second session) -------------

@pytest.mark.parametrize("text, topic", [
    # a can't / shouldn't before a topic is what is asked, not a denial of it
    ("I just had my third session an hour ago and I can't wash my hair until tomorrow, right?", "aftercare"),
    # "should I wait before ..." of washing or the gym is the time after a session
    ("How long should I wait before washing my hair?", "aftercare"),
    ("should I wait before working out after the injections?", "aftercare"),
    # giving up on a course is the results question, not getting ready for one
    ("I've had 4 meso sessions and I see nothing. How long should I wait before giving up?", "results_timeline"),
    ("I had meso yesterday and there are little red dots all over my scalp, is that normal?", "side_effects"),
])
def test_story_questions_name_the_topic_asked(analyser, text, topic):
    assert topics_of(analyser, text) == [topic], text


def test_other_negations_still_deny_a_topic(analyser):
    entities, _ = parse(analyser, "I had no pain, when can I wash my hair?")
    assert [e.get("role") for e in entities if e.get("value") == "pain"] == ["negated"]
    assert topics_of(analyser, "should I wait before the session if I have a cold?") == ["preparation"]


def test_an_unsure_emergency_guess_with_no_sign_gives_way_to_the_topic_asked(analyser):
    text = "I just had my third session an hour ago and I can't wash my hair until tomorrow, right?"
    assert decide(analyser, text, "emergency", 0.65) == "action_answer_topic"
    # a word of something wrong with the body keeps the question of which was meant
    assert decide(analyser, "an hour after my session my head aches badly, can I wash my hair?",
                  "emergency", 0.65) == "action_clarify"
    # a sign of a complication is answered as one
    assert decide(analyser, "an hour after my session my scalp feels hot, can I wash my hair?",
                  "emergency", 0.65) == "utter_complication"


def test_asking_for_proof_is_the_evidence_question(analyser):
    text = "My clinic says I need 10 sessions of meso at 150 each. That seems like a lot. Is there any proof it works?"
    assert decide(analyser, text, "report_complication", 0.46) == "action_explain_claim"


@pytest.mark.parametrize("text", [
    "I had a hair transplant 8 months ago and the results are patchy. My surgeon suggested meso, is that a thing?",
    "after PRP I got patchy regrowth, is that normal?",
])
def test_patchy_results_of_a_treatment_are_no_bald_patches(analyser, text):
    entities, signals = parse(analyser, text)
    assert sig.safety_route(entities, signals, text) == (None, []), text


def test_patchy_hair_loss_beside_a_treatments_results_keeps_the_red_flag(analyser):
    text = "my hair is patchy and the results of minoxidil are bad"
    entities, signals = parse(analyser, text)
    assert sig.safety_route(entities, signals, text) == (sig.RED_FLAG, ["patchy_loss"])


@pytest.mark.parametrize("text, intent", [
    ("I start chemo next week. When will my hair start falling out, and does it grow back?", "describe_hair_loss"),
    ("does biotin help hair grow?", "ask_claim"),
])
def test_cancer_treatment_and_supplements_get_their_own_answer(analyser, text, intent):
    assert decide(analyser, text, intent, 0.9) == "action_answer_topic"
    assert topics_of(analyser, text)[0] in ("cancer_treatment", "supplements")


def test_a_fever_during_chemotherapy_is_the_cancer_teams_at_once_even_when_clumps_are_explained(analyser):
    for text in ("I'm on chemo and have a fever, my hair comes out in clumps",
                 "since starting chemo my hair comes out in clumps and I have a fever"):
        entities, signals = parse(analyser, text)
        found, reasons = sig.safety_route(entities, signals, text)
        assert found == sig.RED_FLAG and sig.CANCER_FEVER in reasons, text


@pytest.mark.parametrize("text", [
    "will meso work on a completely bald area?",
    "I'm completely bald on top for years, would meso help?",
    "no hair left at the crown, what can I do",
])
def test_one_bald_part_of_the_head_is_no_total_hair_loss(analyser, text):
    entities, signals = parse(analyser, text)
    assert sig.safety_route(entities, signals, text) == (None, []), text


def test_all_hair_gone_stays_a_red_flag(analyser):
    text = "I'm completely bald, even my eyebrows fell out"
    entities, signals = parse(analyser, text)
    found, reasons = sig.safety_route(entities, signals, text)
    assert found == sig.RED_FLAG and "total_loss" in reasons


def test_an_unsure_out_of_scope_guess_about_mesotherapy_asks_which_topic(analyser):
    text = "My wife is 34 weeks pregnant and I want to book meso for myself. Is that ok for me to do while she's pregnant?"
    assert decide(analyser, text, "out_of_scope", 0.52) == "action_clarify"
    # sure, or about another part of the body, it stays declined
    assert decide(analyser, "can mesotherapy get rid of cellulite on my thighs?", "out_of_scope", 0.52) == "utter_out_of_scope"


def test_is_it_too_late_to_try_anything_asks_for_the_options(analyser):
    text = "I'm 55 and my hair has been thinning for ten years. My mother was the same. Is it too late for me to try anything?"
    assert topics_of(analyser, text) == ["treatment_options"]


# --- a black-box safety review of this session's changes (2026-12-06) -------------------

@pytest.mark.parametrize("text", [
    "im on chemo for breast cancer and losing my hair, tonight i have 38.7 temperature, can meso help regrow it later?",
    "Im having chemo and my temp is 38 and shivery, when is it ok to start biotin?",
    "my partner is on chemotherapy and has a temperature of 38.4 tonight, will her hair grow back?",
    "on chemo, fever 39 since this morning, is it normal for my scalp to hurt where hair fell out?",
    "I'm on chemo and have a fever of 38.5. If I have mesotherapy later, will it help my hair?",
])
def test_a_temperature_during_cancer_treatment_goes_to_the_cancer_team_at_once(analyser, text):
    entities, signals = parse(analyser, text)
    found, reasons = sig.safety_route(entities, signals, text)
    assert found == sig.RED_FLAG and sig.CANCER_FEVER in reasons, text
    assert decide(analyser, text, "describe_hair_loss") == "action_red_flag"


@pytest.mark.parametrize("text", [
    "on chemo, temp is normal, when will my hair fall out?",
    "I had chemo 10 years ago and had covid with a high fever last month, now shedding",
    "does hair grow back after chemotherapy?",
    "chemo hair loss is temporary, right?",
    "what if I get a fever during chemo, will my hair still fall out?",
])
def test_cancer_treatment_without_a_temperature_now_is_no_cancer_fever(analyser, text):
    entities, signals = parse(analyser, text)
    assert sig.CANCER_FEVER not in sig.safety_route(entities, signals, text)[1], text


@pytest.mark.parametrize("text, kind", [
    ("Quick q - can I wear a cap tomorrow? also my chest feels really tight and heavy since lunch", "emergency"),
    ("can i wash my hair tonight? my chest is tight and it hurts since the session", "emergency"),
    ("cant stop thinking about hurting myself because of my bald spot. how many sessions would i need", "self_harm"),
    ("im so done with everything, ive got pills saved up. anyway does biotin help hair", "self_harm"),
])
def test_emergencies_beside_an_ordinary_question_are_emergencies(analyser, text, kind):
    entities, _ = parse(analyser, text)
    signs = [e for e in entities if e["entity"] == "emergency_sign" and e.get("role") != "negated"]
    assert kind in [e["value"] for e in signs], text


# --- a black-box review of stories with a question (2026-12-06) ---------------------------

def test_how_much_it_hurts_is_no_price_question():
    assert not sig.asks_price([], "I'm terrified of needles. How much does the scalp injection actually hurt?")
    assert sig.asks_price([], "How much does the scalp injection cost?")
    assert sig.asks_price([], "how much does a session cost, and does it hurt?")


def test_a_price_asked_beside_a_medicine_of_the_story_is_the_price(analyser):
    text = "My husband wants to do it too, he's been using finasteride for 5 years. How much does a course cost at your clinic?"
    assert decide(analyser, text, "ask_price", 1.0) is None  # the rule's price answer


def test_a_medicine_of_the_story_is_no_combination_when_the_question_asks_aftercare(analyser):
    text = ("my dermatologist put me on finasteride last year and it helped a bit. I booked meso next week. "
            "can I wash my hair the same day after the injections?")
    entities, _ = parse(analyser, text)
    assert sig.combined_with(entities, text) is None
    assert decide(analyser, text, "report_complication", 0.8) == "action_answer_topic"
    # asked in the question, it stays the combination
    text = "I booked meso next week. Can I keep using finasteride with the injections?"
    entities, _ = parse(analyser, text)
    assert sig.combined_with(entities, text) is not None


def test_a_topic_of_the_story_does_not_block_the_comparison_asked(analyser):
    from contentfiles import comparison_sides
    text = ("I've been on minoxidil 5% for a year, it's a pain to apply every day and makes my hair greasy. "
            "Is mesotherapy better than minoxidil?")
    entities, _ = parse(analyser, text)
    assert sig.compared(entities, text, comparison_sides()) == ["minoxidil", "mesotherapy"]
    # pain asked of the two is still the pain question
    text = "which hurts less, PRP or meso?"
    entities, _ = parse(analyser, text)
    assert sig.compared(entities, text, comparison_sides()) == []


@pytest.mark.parametrize("text, topic", [
    ("I paid 900 euros for 6 sessions elsewhere and saw nothing. How long are people supposed to wait before seeing results?",
     "results_timeline"),
    ("I saw a before/after on instagram with a massive difference after just 1 session. Is that realistic?",
     "results_timeline"),
    ("when will I see something", "results_timeline"),
    ("how many times do I have to come", "session_length"),
])
def test_everyday_wordings_name_their_topic(analyser, text, topic):
    assert topic in topics_of(analyser, text), text


def test_meso_too_beside_a_medicine_is_the_combination(analyser):
    text = "I'm on minoxidil, can I do meso too?"
    entities, _ = parse(analyser, text)
    assert sig.combined_with(entities, text) is not None
    assert decide(analyser, text, "ask_alternatives", 0.9) == "action_other_treatment"


# The black-box review of 2026-12-06 (third session): questions inside long stories.
@pytest.mark.parametrize("text, first", [
    # a condition asked about in the question sentence: whether it matters comes first,
    # the story's topic after it
    ("Hello, I am 31 and had my son 5 months ago by c-section. My hair has gone really thin at the temples and "
     "fringe area. I am still breastfeeding him twice in the day and at night. can i have the mesotherapy "
     "injections while breastfeeding or do i need to wait? My husband thinks im being vain lol", "contraindications"),
    ("i had breast cancer 4 years ago, chemo and radiotherapy, all clear now thank god. my hair grew back but never "
     "as thick as it was. can someone who had cancer have mesotherapy? my oncologist retired", "contraindications"),
    # how long a session takes, not the time off after it
    ("How long does one session actually take? I dont want to have to book a half day off", "session_length"),
    # how many sessions in a story about the drive to the clinic
    ("I live about 2 hours drive from the clinic out in the countryside. My husband would have to drive me. how many "
     "sessions would i need in total and how often?", "session_length"),
    # whether results stay, asked beside maintenance sessions
    ("I finished my course of 6 sessions in the spring. The clinic wants me to come every 3 months for maintenance. "
     "do I really need maintenance sessions or will the results stay?", "results_timeline"),
    # exercise and a sunbed after a session
    ("my partner had her first session today and she wants to go to her spin class tomorrow morning. is exercising "
     "the next day ok?", "aftercare"),
    ("i use sunbeds twice a week. my session is next monday. how long should I stay off the sunbed after?",
     "aftercare"),
    # the menopause asked as a cause: the answer on causes (the sources have nothing on it alone)
    ("I'm 55, went through the menopause around 51, on HRT patches now. My hair has lost so much volume. Is it "
     "the menopause causing my hair thinning?", "hair_loss_causes"),
])
def test_the_question_of_a_story_comes_first(analyser, text, first):
    found = topics_of(analyser, text)
    assert found and found[0] == first, (text, found)


def test_a_session_plan_asked_of_another_treatment_is_that_treatments_question(analyser):
    assert topics_of(analyser, "how many sessions of PRP do I need") == ["prp"]


@pytest.mark.parametrize("text, intent, action", [
    # "as good as" weighs two treatments: the comparison, not one side's card
    ("My boyfriend is 27 and his doctor offered him finasteride but he's scared of the side effects. He'd rather do "
     "mesotherapy. Is mesotherapy as good as finasteride? I'm asking for him", "report_complication",
     "action_compare_treatments"),
    # "meso while on finasteride": a combination the sources do not cover, not the finasteride card
    ("im 25 and started finasteride 1mg 3 months ago. my hairline looks same so far. can i do mesotherapy while on "
     "finasteride or is that pointless?", "describe_hair_loss", "action_other_treatment"),
    # a medicine's serious side effects in a story about acne: not the injections' side effects
    ("My daughter is 14 and has terrible acne. I've heard Accutane can make a big improvement but also that it's "
     "got a lot of potentially serious side effects. What is your opinion?", "out_of_scope", None),
])
def test_story_questions_about_two_treatments_or_another_medicine(analyser, text, intent, action):
    assert decide(analyser, text, intent, 0.96 if intent == "out_of_scope" else 0.62) == action, text


@pytest.mark.parametrize("text, topic", [
    ("how often do you have to go", "session_length"),  # no domain word, yet the visits
    ("Is the procedure long?", "session_length"),
    ("how long does it take for results to show", "results_timeline"),
    ("when do results start", "results_timeline"),
])
def test_short_questions_about_the_visits_and_the_results(analyser, text, topic):
    assert topics_of(analyser, text) == [topic], text


@pytest.mark.parametrize("text", ["im 17 can i get it", "I'm 70, can I still have it?"])
def test_an_age_with_may_i_have_it_gets_who_should_not_have_it_before_any_screening(analyser, text):
    assert topics_of(analyser, text) == ["contraindications"], text
    assert decide(analyser, text, "check_eligibility") == "action_answer_topic", text


def test_may_i_have_it_without_an_age_keeps_the_screening_questions(analyser):
    assert decide(analyser, "can i have mesotherapy?", "check_eligibility") is None  # the rule: the questions


# The black-box review of 2026-12-06 (follow-ups): a short question that leans on the
# answer just given was declined as outside the domain.
@pytest.mark.parametrize("text, intent", [
    ("what about aspirin", "out_of_scope"),
    ("so should I do it or not", "out_of_scope"),
    ("can i use both", "out_of_scope"),
    ("how many days wait", "out_of_scope"),
    ("and after that?", "out_of_scope"),
    ("what else can i do", "out_of_scope"),
])
def test_a_short_follow_up_right_after_an_answer_is_asked_about_not_declined(analyser, text, intent):
    assert decide(analyser, text, intent, after_answer=True) == "action_clarify", text
    # the same message opening a conversation is declined as before (the rule's decline)
    assert decide(analyser, text, intent) in (None, "utter_out_of_scope"), text


@pytest.mark.parametrize("text, intent", [
    ("what is the weather today", "out_of_scope"),  # no follow-up shape
    ("how far is paris from london", "out_of_scope"),  # two words of another subject
    ("what about my car insurance", "out_of_scope"),
    ("ok thanks", "thank"),
])
def test_everyday_messages_after_an_answer_keep_their_answer(analyser, text, intent):
    assert decide(analyser, text, intent, after_answer=True) is None, text


@pytest.mark.parametrize("text, intent, action", [
    ("how far apart", "out_of_scope", "action_answer_topic"),  # the sessions, in any conversation
    ("does the consultation cost anything", "ask_consultation_info", "action_price_info"),
    ("is the first consultation free?", "ask_procedure", "action_price_info"),
])
def test_short_questions_on_the_sessions_and_the_consultation_fee(analyser, text, intent, action):
    assert decide(analyser, text, intent) == action, text


@pytest.mark.parametrize("text", ["women?", "and for men?", "what about women"])
def test_men_or_women_asked_alone(analyser, text):
    assert topics_of(analyser, text) == ["men_women"], text
    assert decide(analyser, text, "out_of_scope") == "action_answer_topic", text


def test_adding_mesotherapy_to_a_medicine_is_a_combination(analyser):
    text = "im on minoxidil already, can i add meso"
    assert sig.combined_with(parse(analyser, text)[0], text)["value"] == "minoxidil"


# The safety review of 2026-12-06 (third session): an emergency the classifier guessed for
# signs told as history asks which topic was meant (its answer gives the emergency number
# first); signs of now keep the fixed emergency answer.
@pytest.mark.parametrize("text, past", [
    ("I once had a really bad reaction to a vitamin B12 shot, my whole arm swelled up", True),
    ("I fainted once at a blood test when I was 15, is that a problem?", True),
    ("I had chest pain last year, turned out to be heartburn, all checked out fine. can I book a session?", True),
    ("I have chest pain", False),
    ("I once had a bad reaction and now my throat is closing", False),
])
def test_an_emergency_guessed_for_signs_told_as_history_is_asked_about(analyser, text, past):
    assert decide(analyser, text, "emergency", 1.0) == ("action_clarify" if past else None), text


@pytest.mark.parametrize("text, intent, action", [
    ("do you have any offers or packages?", "out_of_scope", "action_price_info"),  # the clinic's prices
    ("are there any deals on pizza today?", "out_of_scope", None),  # the rule's decline
    ("is it safe for teenagers?", "ask_side_effects", "action_answer_topic"),
])
def test_offers_and_teenagers(analyser, text, intent, action):
    assert decide(analyser, text, intent) == action, text


def test_teenagers_asked_of_the_treatment_get_who_should_not_have_it(analyser):
    assert topics_of(analyser, "is it safe for teenagers?") == ["contraindications"]


@pytest.mark.parametrize("intent", ["ask_price", "describe_hair_loss"])
def test_a_price_asked_beside_heavy_shedding_gets_the_causes_answer_not_only_the_price(analyser, intent):
    text = ("so my hair started thinning after covid, then my job got super stressful, and for the last two weeks "
            "I've been losing literal handfuls every morning, clumps in the shower drain. anyway how much does a "
            "session cost?")
    assert decide(analyser, text, intent, 0.9) == "action_answer_topic"
    assert "after_illness" in topics_of(analyser, text)


def test_pink_spots_the_morning_after_a_session_are_side_effects(analyser):
    text = "I had a session this morning and the spots are a bit pink, is that normal?"
    assert topics_of(analyser, text) == ["side_effects"]
    assert decide(analyser, text, "report_complication", 0.6) == "action_answer_topic"


@pytest.mark.parametrize("text, intent, action", [
    ("i'm scared", "deny", "action_respond_to_statement"),  # who can help now, not "anything else?"
    ("I don't know, I'm so worried", "dont_know", "action_respond_to_statement"),
    ("no thanks", "deny", None),  # the rule's "anything else?"
])
def test_fear_taken_for_a_no_gets_the_statements_answer(analyser, text, intent, action):
    assert decide(analyser, text, intent) == action, text


def test_a_condition_asked_in_a_story_is_answered_with_one_topic_of_the_story_not_asked_which(analyser):
    text = ("Hello, I am 31 and had my son 5 months ago by c-section. My hair has gone really thin at the temples. "
            "I am still breastfeeding him. can i have the mesotherapy injections while breastfeeding?")
    assert topics_of(analyser, text) == ["contraindications", "postpartum"]  # two answers, not "which one?"


def test_a_sign_told_as_history_beside_a_topic_gets_the_topic(analyser):
    text = "had chest pains last year, A&E, just heartburn, all tests normal. does mesotherapy have any risks for the heart?"
    assert decide(analyser, text, "emergency", 1.0) == "action_answer_topic"
    assert "side_effects" in topics_of(analyser, text)


@pytest.mark.parametrize("text", ["had chest pain since this morning and it's getting worse",
                                  "had chest pain an hour ago after my session"])
def test_a_sign_told_with_words_of_now_stays_an_emergency(analyser, text):
    entities, _ = parse(analyser, text)
    assert sig.emergency_signs(entities, text), text


def test_two_treatments_weighed_by_price_get_the_clinics_answer_on_prices(analyser):
    assert decide(analyser, "which one is cheaper, meso or PRP?", "ask_alternatives", 0.9) == "action_price_info"
    assert decide(analyser, "how much does PRP cost?", "ask_price", 0.9) == "action_answer_topic"  # PRP's own answer


@pytest.mark.parametrize("text, first", [
    ("from what age can you have mesotherapy?", "contraindications"),  # what is known of age
    ("from what age can you get a hair transplant", "transplant_candidacy"),
    ("had my first session tuesday. today i have tiny red bumps where the needles went, a bit tender, no fever. normal?",
     "side_effects"),
])
def test_an_age_asked_and_red_bumps_after_a_session(analyser, text, first):
    assert topics_of(analyser, text)[0] == first, text


def test_worry_denied_is_no_worry(analyser):
    assert parse(analyser, "no, i'm scared")[1]["worried"] is True
    assert parse(analyser, "no I'm not worried, just asking")[1]["worried"] is False
    assert decide(analyser, "no I'm not worried, just asking", "deny") is None


@pytest.mark.parametrize("text, intent", [
    ("i'm terrified of needles, will this be ok for me", "goodbye"),  # was "Goodbye, take care"
    ("im scared of needles", "dont_know"),  # was "who can help now"
    ("I hate needles, is it for me?", "check_eligibility"),  # was the screening questions
    ("I faint at the sight of needles, can I have it done?", "check_eligibility"),
    ("i get really anxious with needles, would I manage?", "nlu_fallback"),
])
def test_a_fear_of_needles_is_whether_it_hurts(analyser, text, intent):
    assert topics_of(analyser, text) == ["pain"], text
    assert decide(analyser, text, intent, 0.8) == "action_answer_topic", text


def test_a_fear_without_a_topic_still_gets_who_can_help_now(analyser):
    assert decide(analyser, "im so scared", "deny") == "action_respond_to_statement"


@pytest.mark.parametrize("text", ["my forehead is puffy the day after the scalp injections, is that normal?",
                                  "my forehead swelled up after the meso"])
def test_a_puffy_forehead_after_the_injections_is_a_side_effect(analyser, text):
    assert topics_of(analyser, text) == ["side_effects"], text


@pytest.mark.parametrize("text, had", [
    ("I'm 6 weeks pregnant and had mesotherapy last week, is my baby ok?", True),
    ("found out i'm pregnant, had a meso session 5 days ago. should i worry?", True),
    ("since my last session I found out I am pregnant", True),
    ("im breastfeeding and had my scalp injected 2 days ago is my milk ok?", True),
    ("im pregnant, can I have my next session?", False),
    # someone else's session is not the visitor's (review: "my sister had the scalp injections")
    ("im 12 weeks pregnant and my hair is a mess, my sister had the scalp injections and said it was amazing. "
     "is mesotherapy safe during pregnancy?", False),
    ("my friend had meso last week and is breastfeeding, is that ok", False),
    ("is mesotherapy safe when pregnant", False),
])
def test_a_session_already_had_is_told_apart_from_one_to_come(text, had):
    assert sig.told_after_session(text) is had, text


@pytest.mark.parametrize("text, intent", [
    ("do laser caps work for hair loss", "ask_alternatives"),  # was the list of proven treatments, lasers unnamed
    ("is a laser comb any good", "out_of_scope"),  # was declined as outside the domain
    ("does red light therapy regrow hair", "ask_claim"),  # was mesotherapy's claim
])
def test_a_hair_treatment_the_sources_do_not_cover_is_said_to_be_beyond_them(analyser, text, intent):
    assert decide(analyser, text, intent, 0.95) == "action_other_treatment", text


def test_laser_elsewhere_and_mesotherapys_own_claim_keep_their_answers(analyser):
    assert decide(analyser, "does mesotherapy regrow hair", "ask_claim", 0.95) is None  # the rule's claim answer
    assert decide(analyser, "what are the alternatives to a hair transplant", "ask_alternatives", 0.95) is None


@pytest.mark.parametrize("text, expected", [
    ("postpartum hair loss how long does it last", ["postpartum"]),  # not mesotherapy's results
    ("my wife lost a lot of hair after our second baby, what vitamins are good for that", ["supplements", "postpartum"]),
    ("how long does meso take to work after having a baby", ["postpartum", "results_timeline"]),  # mesotherapy named
])
def test_a_cause_named_without_mesotherapy_keeps_its_own_time_and_uses(analyser, text, expected):
    assert sorted(topics_of(analyser, text)) == sorted(expected), text


@pytest.mark.parametrize("text, topic", [
    ("when can i go back to the gym after the scalp injections", "aftercare"),  # its line on exercise
    ("is it ok to wear a cap after the injections, i work outside", "aftercare"),
])
def test_activities_after_a_session_are_aftercare(analyser, text, topic):
    assert topics_of(analyser, text) == [topic], text


def test_a_sure_booking_guess_without_a_word_of_booking_answers_the_topic(analyser):
    assert decide(analyser, "when can I go back to work and the gym", "book_consultation", 0.94) == "action_answer_topic"
    assert decide(analyser, "can I book a consultation about going back to work?", "book_consultation", 0.94) is None


def test_dry_breaking_hair_asked_about_is_whether_it_would_help(analyser):
    text = "my hair is very dry and breaks easily, im not losing it exactly. would meso help with that or is it only for hair loss"
    entities, _ = parse(analyser, text)
    assert "split_ends" in sig.affirmed(entities, "hair_problem")
    assert decide(analyser, text, "describe_hair_loss", 0.98) == "action_explain_claim"


@pytest.mark.parametrize("text, expected", [
    ("i have a wedding in 3 days and want to dye my hair, i had mesotherapy yesterday. is that too soon?", ["aftercare"]),
    ("had my injections on monday, can i go swimming saturday?", ["aftercare"]),
    ("can I dye my hair while pregnant?", []),  # no session told: not the days after one
])
def test_an_activity_asked_of_the_days_after_a_session_is_aftercare(analyser, text, expected):
    assert topics_of(analyser, text) == expected, text


def test_fainting_told_as_once_is_no_emergency_of_now(analyser):
    text = "im scared of needles and blood tests honestly, fainted once at the GP. does PRP hurt a lot?"
    entities, _ = parse(analyser, text)
    assert not sig.emergency_signs(entities, text) and sig.alarm_told_as_past(entities, text)
    now = "I fainted once again just now after the injections"
    assert sig.emergency_signs(parse(analyser, now)[0], now)


@pytest.mark.parametrize("text, first", [
    # waiting "before" working out, told after a session: the days after it
    ("gym question: had meso on my scalp yesterday, feel fine. how long do i need to wait before working out and "
     "sweating? i usually go every day", "aftercare"),
    # no question mark: the last sentence with a question word first is the question
    ("my sister told me to put ice on after her treatment but my head is a bit tender where they injected. what "
     "should i avoid doing in the first couple days after scalp mesotherapy", "aftercare"),
    # a cause in the story beside sessions had: the results asked about stay
    ("had 4 sessions, stressed at work constantly. do the results stay if i stop or does the hair just fall out "
     "again after a while", "results_timeline"),
])
def test_the_question_of_a_story_comes_before_its_details(analyser, text, first):
    assert topics_of(analyser, text)[0] == first, text


def test_a_weak_emergency_guess_for_fainting_told_as_once_answers_the_question(analyser):
    text = "im scared of needles and blood tests honestly, fainted once at the GP. does PRP hurt a lot?"
    assert decide(analyser, text, "emergency", 0.65) == "action_answer_topic"
    assert decide(analyser, text, "emergency", 0.99) == "action_answer_topic"
    assert decide(analyser, "i just fainted after my session", "emergency", 0.65) != "action_answer_topic"


@pytest.mark.parametrize("text, emergency", [
    ("i have a fever of 40 and a stiff neck right now", True),  # review: no urgent reply in the screening
    ("i have a high fever and a really stiff neck", True),
    ("stiff neck and a temperature since this morning", True),
    ("had a fever and stiff neck years ago with meningitis", False),  # long over
    ("my neck is stiff from sleeping badly", False),  # no fever
    ("stiff neck but no fever, is that from the injections?", False),  # a fever denied
])
def test_a_fever_with_a_stiff_neck_is_an_emergency(analyser, text, emergency):
    entities, _ = parse(analyser, text)
    assert bool(sig.emergency_signs(entities, text)) is emergency, text


@pytest.mark.parametrize("text, next_step", [
    ("ok what should i do", True), ("what now?", True), ("so who do I see", True), ("what should i do now?", True),
    ("what should i do about my diet and my sleep", False), ("what now, can I still have meso next week?", False),
])
def test_what_now_asked_alone_is_the_next_step(text, next_step):
    assert sig.asks_next_step(text) is next_step, text


def test_what_now_right_after_see_a_doctor_gets_the_next_step_not_a_decline(analyser):
    entities, signals = parse(analyser, "ok what should i do")
    after = choose_action("action_listen", None, "request_medical_advice", 0.9, entities, signals, "ok what should i do",
                          HIGH_STAKES, ANSWER, WEAK, after_red_flag=True)
    assert after == "action_red_flag"
    assert choose_action("action_listen", None, "request_medical_advice", 0.9, entities, signals, "ok what should i do",
                         HIGH_STAKES, ANSWER, WEAK) != "action_red_flag"


def test_whether_one_is_a_candidate_still_starts_the_screening(analyser):
    # (only the practical side of a session asked as "is it for me?" is that topic's question)
    assert decide(analyser, "am I a good candidate for hair mesotherapy?", "check_eligibility", 1.0) is None


@pytest.mark.parametrize("text, flagged", [
    ("i have a mole on my scalp thats been bleeding", True),  # review: saved as a tumour, no "get it checked"
    ("a sore on my scalp that wont heal for months", True),
    ("a lump on my head that is getting bigger", True),
    ("i have a mole on my scalp, is meso ok", False),
    ("the mole has not changed at all", False),
    ("hair grows slowly, i have a lump of hair", False),
])
def test_a_mole_or_sore_that_bleeds_changes_or_does_not_heal_reaches_a_doctor(analyser, text, flagged):
    route, reasons = sig.safety_route(*parse(analyser, text), text)
    assert ("changing_mole" in reasons) is flagged, text


@pytest.mark.parametrize("text", ["i also have this rash that doesnt fade when i press a glass on it",
                                  "there's a rash that doesn't fade"])
def test_a_rash_that_does_not_fade_is_an_emergency(analyser, text):
    assert sig.emergency_signs(parse(analyser, text)[0], text), text


def test_fainting_told_as_the_last_time_is_no_emergency_of_now(analyser):
    text = "last time i had a jab i passed out, is meso safe for someone like me"
    assert not sig.emergency_signs(parse(analyser, text)[0], text)


@pytest.mark.parametrize("text", [
    "my hair started falling out after covid, will it grow back",  # review: mesotherapy's claim, "a current infection"
])
def test_an_it_that_is_the_hair_is_no_question_about_the_treatment(analyser, text):
    assert decide(analyser, text, "ask_claim", 0.51) == "action_answer_topic"
    assert topics_of(analyser, text) == ["after_illness"]


def test_what_now_with_where_to_go_is_the_next_step():
    assert sig.asks_next_step("what now? should i go to the clinic or a&e")
    assert sig.asks_next_step("ok what now")
    assert not sig.asks_next_step("what now, can I still have meso next week?")


# --- The second review of 2026-12-06 (90 single questions, 40 conversations) -----------

@pytest.mark.parametrize("text, flags", [
    # PCOS's extra facial hair, a sparse beard wished fuller: growth, not a loss to see a doctor for
    ("i have pcos and thinning on top, facial hair too. is meso any good for pcos hair loss", []),
    ("would mesotherapy work on my patchy beard? want it fuller", []),
    ("why is my hair thinning and i am losing so much of my hair, but yet my facial hair is out of control?", []),
    # a word of losing it keeps the red flag, and eyebrows and lashes always do
    ("my beard is falling out in patches, how do i get it fuller", ["body_hair_loss", "patchy_loss"]),
    ("my beard wont grow back in one spot and im losing hair", ["body_hair_loss"]),
    ("i have pcos, losing hair, eyebrows too", ["body_hair_loss"]),
    ("pcos and my eyebrows are falling out", ["body_hair_loss"]),
    ("im losing my hair and my eyebrows are thinning", ["body_hair_loss"]),
])
def test_body_hair_told_as_growing_is_no_red_flag(analyser, text, flags):
    route, reasons = sig.safety_route(*parse(analyser, text), text)
    assert sorted(reasons) == sorted(flags), text


def test_chilling_out_is_no_chill_of_a_fever(analyser):
    text = "my hair falls out when im stressed, is there anything to stop it besides just chilling out lol"
    assert sig.safety_route(*parse(analyser, text), text) == (None, [])
    text = "my hair is falling out and i have a fever and chills"
    assert sig.safety_route(*parse(analyser, text), text)[1] == ["systemic"]


@pytest.mark.parametrize("text, intent, confidence", [
    ("does rosemary oil work for hair loss", "ask_alternatives", 0.99),  # review: the list of proven treatments
    ("is onion juice good for regrowing hair", "ask_alternatives", 0.49),
    ("any natural remedies for thinning hair?", "ask_alternatives", 0.99),
])
def test_a_home_remedy_gets_my_sources_say_nothing(analyser, text, intent, confidence):
    assert decide(analyser, text, intent, confidence) == "action_other_treatment", text


def test_a_home_remedy_told_in_the_story_does_not_take_the_question(analyser):
    text = ("My hair fall has increased since I moved. I apply coconut oil twice a week, but it hasn't made a "
            "difference. What should I do?")
    entities, _ = parse(analyser, text)
    assert sig.remedy_told_in_story(entities, text)
    assert decide(analyser, text, "request_medical_advice", 0.58) != "action_other_treatment"
    asked = "I have thinning hair. Does coconut oil help?"
    assert not sig.remedy_told_in_story(parse(analyser, asked)[0], asked)


def test_a_cause_with_no_word_of_hair_asked_is_it_for_me_starts_the_screening(analyser):
    # review: "i get panic attacks, is it for me?" got the answer on shedding after stress
    assert decide(analyser, "i get panic attacks, is it for me?", "check_eligibility", 0.99) is None
    assert decide(analyser, "can i have mesotherapy for stress hair loss", "check_eligibility", 0.96) == (
        "action_answer_topic")


def test_mesotherapy_after_a_transplant_told_as_weeks_ago_is_combining_them(analyser):
    text = "i had a hair transplant 3 weeks ago, surgeon mentioned meso to help the grafts, when can i start"
    assert sig.combined_with(parse(analyser, text)[0], text)
    assert decide(analyser, text, "ask_dhi", 1.0) == "action_other_treatment"  # review: what DHI is


def test_feeling_low_is_its_own_topic(analyser):
    assert topics_of(analyser, "lately i feel really down") == ["low_mood"]
    assert "low_mood" in topics_of(analyser, "ive been on finasteride for 2 months and i feel so low")


def decide_after(analyser, text, intent, confidence=0.95, **context):
    entities, signals = parse(analyser, text)
    return choose_action("action_listen", None, intent, confidence, entities, signals, text, HIGH_STAKES, ANSWER, WEAK,
                         **context)


@pytest.mark.parametrize("text, intent", [
    ("how many sessions?", "ask_sessions"), ("does it hurt", "ask_side_effects"), ("what about for women?", "ask_indications"),
    ("any side effects?", "ask_side_effects"), ("can i use it while breastfeeding", "check_eligibility"),
])
def test_a_short_follow_up_after_another_treatment_asks_which_was_meant(analyser, text, intent):
    # review: "how many sessions?" after the answer on PRP got mesotherapy's sessions
    assert decide_after(analyser, text, intent, after_treatment=True) == "action_which_treatment", text
    assert decide_after(analyser, text, intent) != "action_which_treatment", text


@pytest.mark.parametrize("text, intent", [
    ("how many sessions of meso?", "ask_sessions"),  # mesotherapy named
    ("and for prp?", "ask_indications"),  # a treatment named
    ("my eyebrows are falling out too", "describe_hair_loss"),  # a red flag first
])
def test_a_follow_up_that_names_a_treatment_or_a_sign_is_not_asked_which(analyser, text, intent):
    assert decide_after(analyser, text, intent, after_treatment=True) != "action_which_treatment", text


def test_are_you_sure_it_is_deleted_asks_the_deletion_again(analyser):
    text = "are you sure its deleted?"
    assert decide_after(analyser, text, "ask_claim", 0.78, after_delete_question=True) == "action_confirm_forget_me"
    assert decide_after(analyser, text, "ask_claim", 0.78) != "action_confirm_forget_me"
    # "yes" and "no" to the question are its answers (conversation.py, the rules)
    assert decide_after(analyser, "no", "deny", 0.99, after_delete_question=True) != "action_confirm_forget_me"


def test_feeling_low_taken_unsure_for_an_emergency_gets_its_answer(analyser):
    # review: "lately i feel really down" after finasteride got "call 999 if chest pain..."
    assert decide(analyser, "lately i feel really down", "emergency", 0.6) == "action_answer_topic"
    # a sign beside it is not passed over
    text = "i feel really down and my chest is tight"
    assert decide(analyser, text, "emergency", 0.6) != "action_answer_topic"


@pytest.mark.parametrize("text", ["ok who should we see", "who should he see", "what should we do now"])
def test_the_next_step_asked_for_a_child_or_with_we(text):
    # review: "ok who should we see" after "see a doctor" about a child got the decline
    assert sig.asks_next_step(text), text


def test_can_mesotherapy_help_him_taken_unsure_for_what_can_you_do_is_whether_it_works(analyser):
    assert decide(analyser, "can mesotherapy help him?", "ask_capabilities", 0.37) == "action_explain_claim"
    assert decide(analyser, "what can you do?", "ask_capabilities", 0.37) != "action_explain_claim"


def test_a_follow_up_with_a_line_of_the_last_answer_gets_that_line(analyser):
    # review: "and the gym?" after the aftercare answer got urgent care and "did you mean"
    assert decide_after(analyser, "and the gym?", "report_complication", 0.55, lead_follow_up=True) == (
        "action_answer_topic")
    assert decide_after(analyser, "and the gym?", "report_complication", 0.55) != "action_answer_topic"


def test_the_aftercare_answer_has_a_line_for_the_gym_and_alcohol_but_not_for_prices():
    from contentfiles import has_lead_for

    assert has_lead_for("aftercare", "and the gym?") and has_lead_for("aftercare", "ok cool, and alcohol?")
    assert not has_lead_for("aftercare", "and the price?") and not has_lead_for("no_such_entry", "gym")


@pytest.mark.parametrize("text, intent, confidence", [
    ("so can I have it or not? just tell me yes or no", "affirm", 0.38),  # review: the consultation's consent
    ("can i have it then?", "check_eligibility", 0.98),  # the questions again
])
def test_can_i_have_it_right_after_the_screening_is_for_the_doctor(analyser, text, intent, confidence):
    assert decide_after(analyser, text, intent, confidence, after_flow="action_screening_summary") == "action_flow_next_step"
    assert decide_after(analyser, text, intent, confidence) != "action_flow_next_step"


def test_a_plain_yes_after_the_screening_is_still_a_yes(analyser):
    assert decide_after(analyser, "yes please", "affirm", 0.99, after_flow="action_screening_summary") != "action_flow_next_step"


@pytest.mark.parametrize("text, intent, confidence, topic", [
    # the second review of 2026-12-06 (100 FAQ-style questions): each was clarified or
    # answered as another question
    ("Can I do mesotherapy every week?", "check_eligibility", 0.99, "session_length"),  # the screening questions
    ("Mesotherpy session lenght?", "ask_what_is", 0.53, "session_length"),
    ("Had 3 sessions so far and honestly can't see any change. Clinic says be patient. Is that normal?",
     "ask_side_effects", 0.59, "results_timeline"),
    ("Swelling on my forehead the day after mesotherapy hair treatment - normal?", "report_complication", 0.79,
     "side_effects"),
    ("Had my first meso session this morning. I didn't catch what the nurse said. What should I avoid for the next "
     "day or two?", "inform", 0.51, "aftercare"),
])
def test_faq_wordings_name_their_topic(analyser, text, intent, confidence, topic):
    assert topic in topics_of(analyser, text), text
    assert decide(analyser, text, intent, confidence) == "action_answer_topic", text


def test_a_claim_word_asked_of_finasteride_is_finasteride_s_question(analyser):
    text = "Does finasteride really regrow hair or does it just stop the loss?"
    assert decide(analyser, text, "ask_claim", 1.0) == "action_answer_topic"  # review: mesotherapy's claim
    assert decide(analyser, "does mesotherapy really regrow hair?", "ask_claim", 1.0) != "action_answer_topic"


def test_does_meso_work_for_a_cause_taken_unsure_gets_the_causes_answer(analyser):
    assert decide(analyser, "Does meso work for thinning from stress?", "ask_claim", 0.72) == "action_answer_topic"


def test_a_bald_scalp_called_shiny_is_no_scarring(analyser):
    text = "Can mesotherapy regrow hair on a completely shiny bald scalp?"
    assert "scarring" not in sig.safety_route(*parse(analyser, text), text)[1]
    text = "there is a smooth shiny patch where no hair grows"
    assert "scarring" in sig.safety_route(*parse(analyser, text), text)[1]


@pytest.mark.parametrize("flow", ["action_screening_summary", "action_triage_outcome", "action_consultation_submit"])
def test_so_what_now_after_a_flow_ends_gets_its_next_step(analyser, flow):
    # review: "so what now?" after a questionnaire's result got the decline
    assert decide_after(analyser, "so what now?", "out_of_scope", 0.8, after_flow=flow) == "action_flow_next_step"
    assert decide_after(analyser, "so what now?", "out_of_scope", 0.8) != "action_flow_next_step"


@pytest.mark.parametrize("text", ["not sure what you mean by clumps?", "whats counted as scaly?",
                                  "what counts as a bald patch"])
def test_the_meaning_of_a_sign_asked_is_no_sign_told(analyser, text):
    assert sig.safety_route(*parse(analyser, text), text) == (None, []), text


@pytest.mark.parametrize("text", ["How often should I change my toothbrush?", "how often should you wash your car",
                                  "how often should i water a cactus"])
def test_how_often_of_anything_else_names_no_session_topic(analyser, text):
    # a first version of "Can I do mesotherapy every week?" made every "how often" a session question
    assert "session_length" not in topics_of(analyser, text)
    assert decide(analyser, text, "out_of_scope", 1.0) != "action_answer_topic"  # (the rule declines it)


def test_how_often_of_mesotherapy_is_its_sessions(analyser):
    for text in ("how often should i have it done", "how often do you need mesotherapy sessions",
                 "Can I do mesotherapy every week?"):
        assert "session_length" in topics_of(analyser, text), text


def test_less_shedding_or_new_hair_first_is_when_results_show(analyser):
    # left from the last review: the consultation answer on a weak second opinion
    text = "will i see less shedding first or new hair first"
    assert topics_of(analyser, text) == ["results_timeline"]
    assert "results_timeline" not in topics_of(analyser, "which comes first, the chicken or the egg?")


# --- The generalization review of the same session (117 conversations) -----------------

@pytest.mark.parametrize("text, intent", [
    ("how long should i roast a leg of lamb with rosemary", "out_of_scope"),
    ("whats the best castor oil for constipation", "out_of_scope"),
])
def test_a_home_remedys_words_without_hair_are_not_a_hair_treatment(analyser, text, intent):
    # review: the "my sources say nothing about home remedies" answer to a cooking question
    assert decide(analyser, text, intent, 1.0) != "action_other_treatment"


@pytest.mark.parametrize("text, intent, confidence", [
    ("castor oil on my scalp - any good?", "inform", 0.81),  # review: "Sorry, I didn't understand that"
    ("can i put coconut oil in my hair before bed to stop it falling out?", "describe_hair_loss", 0.63),
])
def test_a_home_remedy_asked_as_a_statement_gets_my_sources_say_nothing(analyser, text, intent, confidence):
    assert decide(analyser, text, intent, confidence) == "action_other_treatment"


@pytest.mark.parametrize("text, intent, confidence", [
    ("honestly i just feel really low about all this", "emergency", 0.95),  # review: the medical-emergency text
    ("my hair is thinning and its getting me down", "emergency", 0.85),
])
def test_low_mood_taken_even_surely_for_an_emergency_gets_its_answer(analyser, text, intent, confidence):
    assert "low_mood" in topics_of(analyser, text)
    if topics_of(analyser, text) == ["low_mood"]:
        assert decide(analyser, text, intent, confidence) == "action_answer_topic"


def test_thoughts_of_suicide_stay_the_crisis_answer(analyser):
    text = "i feel really low and i want to die"
    assert decide(analyser, text, "emergency", 0.99) != "action_answer_topic"


def test_a_medicines_effect_on_the_body_is_no_treatment_done_elsewhere(analyser):
    # review: "oral minox making my ankles swell a bit, normal?" got "Sorry, I can't help with that"
    assert decide(analyser, "oral minox making my ankles swell a bit, normal?", "out_of_scope", 0.99) == (
        "action_answer_topic")


def test_a_beard_told_as_patchy_and_wished_thicker_is_no_red_flag(analyser):
    text = "my beard is patchy, want it thicker"
    assert sig.safety_route(*parse(analyser, text), text) == (None, [])


@pytest.mark.parametrize("text", ["alcohol?", "gym?", "and sun?", "what about hats"])
def test_a_one_word_follow_up_with_a_line_of_the_last_answer_gets_it(analyser, text):
    # review: "alcohol?" after the aftercare answer was declined, "gym?" not understood
    assert decide_after(analyser, text, "nlu_fallback", 0.35, lead_follow_up=True) == "action_answer_topic", text


def test_low_mood_with_the_overrides_mark_of_any_emergency_guess_is_still_low_mood(analyser):
    # the override marks every emergency guess ("emergency_kind": "other"); only thoughts of
    # suicide ("self_harm") keep the crisis answer
    text = "honestly i just feel really low about all this"
    entities, signals = parse(analyser, text)
    marked = entities + [{"entity": "emergency_kind", "value": "other"}]
    assert choose_action("action_listen", None, "emergency", 0.95, marked, signals, text, HIGH_STAKES, ANSWER,
                         WEAK) == "action_answer_topic"
    crisis = entities + [{"entity": "emergency_kind", "value": "self_harm"}]
    assert choose_action("action_listen", None, "emergency", 0.95, crisis, signals, text, HIGH_STAKES, ANSWER,
                         WEAK) != "action_answer_topic"
