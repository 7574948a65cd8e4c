"""Answers that come before the classifier's guess (actions/routing.py)."""
import pytest
from sqlalchemy import select

from actions import content
from actions.common import text_of
from actions.consultation import ValidateConsultationForm
from actions.knowledge import ActionAnswerKnowledge
from actions.routing import ActionAnswerTopic, ActionClarify, ActionConfirmForgetMe, ActionRedFlag
from records import db
from records.models import SafetyEvent
from tests.actions.helpers import entity, placed, run, slot_events, texts, tracker

PLAIN = {"in_domain": True, "injection_context": False}


def test_red_flag_says_see_a_doctor_with_the_reason_first_and_logs_it(sqlite_url):
    trk = tracker(
        "my 9 year old son is losing hair in round patches", "describe_hair_loss",
        entities=[entity("red_flag", "child"), entity("red_flag", "patchy_loss")], signals=PLAIN,
    )
    messages, _ = run(ActionRedFlag(), trk)
    first = messages[0]["text"]
    reasons = content.routing()["red_flag_reasons"]
    assert "doctor or dermatologist" in first
    assert reasons["child"] in first and reasons["patchy_loss"] in first
    assert "not a diagnosis" in first
    with db.session_scope() as session:
        rows = session.execute(select(SafetyEvent.kind, SafetyEvent.detail)).all()
    assert rows == [("red_flag", "child,patchy_loss")]


def test_red_flag_for_patches_adds_the_general_information_on_alopecia_areata(sqlite_url):
    trk = tracker("bald patches", "ask_claim", entities=[entity("red_flag", "patchy_loss")], signals=PLAIN)
    messages, events = run(ActionRedFlag(), trk)
    linked = content.entries_for_mentions([("red_flag", "patchy_loss")])
    assert linked, "an entry with when: red_flag:patchy_loss gives the general information"
    assert messages[1]["text"] == linked[0][1]["answer"].strip()
    assert slot_events(events)["last_answer"] == f"knowledge:{linked[0][0]}"


def test_sudden_shedding_adds_what_usually_causes_it_after_see_a_doctor(sqlite_url):
    """"It comes out in handfuls, what could happen?" with no cause named: "see a doctor",
    then the causes of hair loss (shedding a few months after a birth, an illness, stress
    or a diet, which usually settles), not the bare referral."""
    trk = tracker("Suddenly my hair is falling out in handfuls, I'm only 40. What could happen?",
                  "describe_hair_loss", entities=[entity("red_flag", "sudden_loss")], signals=PLAIN)
    messages, events = run(ActionRedFlag(), trk)
    assert "doctor" in messages[0]["text"]
    assert messages[1]["text"] == content.knowledge_entries()["hair_loss_causes"]["answer"].strip()
    assert "3 months after giving birth" in messages[1]["text"]
    assert slot_events(events)["last_answer"] == "knowledge:hair_loss_causes"


def test_a_red_flag_in_a_story_that_names_a_cause_answers_the_cause_first_after_see_a_doctor(sqlite_url):
    """"Four months after my baby, it comes out in clumps": "see a doctor" first, then the
    visitor's own question (postpartum shedding), then what that kind of loss can be."""
    trk = tracker(
        "I had my baby four months ago and now my hair comes out in round patches, what can I do?",
        "describe_hair_loss", entities=[entity("red_flag", "patchy_loss"), entity("topic", "postpartum")],
        signals=PLAIN,
    )
    messages, events = run(ActionRedFlag(), trk)
    kind = content.entries_for_mentions([("red_flag", "patchy_loss")])[0]
    assert "doctor or dermatologist" in messages[0]["text"]
    assert [m["text"] for m in messages[1:]] == [
        content.knowledge_entries()["postpartum"]["answer"].strip(), kind[1]["answer"].strip()]
    assert slot_events(events)["last_answer"] == f"knowledge:{kind[0]}"


def test_a_red_flag_never_sends_more_than_two_entries_after_see_a_doctor(sqlite_url):
    names = ["postpartum", "thyroid", "stress"]
    trk = tracker("after my baby, with my thyroid and stress, bald patches", "describe_hair_loss",
                  entities=[entity("red_flag", "patchy_loss")] + [entity("topic", n) for n in names], signals=PLAIN)
    messages, _ = run(ActionRedFlag(), trk)
    assert len(messages) == 3
    assert messages[1]["text"] == content.knowledge_entries()["postpartum"]["answer"].strip()


def test_a_topic_answers_the_question_whatever_the_intent():
    messages, events = run(ActionAnswerTopic(), tracker("does it hurt", "ask_price", entities=[entity("topic", "pain")]))
    entry = content.knowledge_entries()["pain"]
    assert messages[0]["text"] == entry["answer"].strip()
    assert slot_events(events) == {"last_answer": "knowledge:pain"}


def test_a_story_with_a_question_gets_the_answer_then_the_offer_of_questions():
    trk = tracker(
        "I had my baby 4 months ago and now my hair comes out everywhere, what should I do?",
        "describe_hair_loss", entities=[entity("topic", "postpartum"), entity("hair_problem", "hair_loss")],
    )
    messages, _ = run(ActionAnswerTopic(), trk)
    assert messages[0]["text"] == content.knowledge_entries()["postpartum"]["answer"].strip()
    assert messages[-1]["text"] == content.messages()["offer_triage"]["text"].strip()


def test_a_request_for_advice_on_a_topic_says_a_doctor_decides_first():
    trk = tracker("should I take finasteride", "request_medical_advice", entities=[entity("topic", "finasteride")])
    messages, _ = run(ActionAnswerTopic(), trk)
    assert messages[0]["text"] == content.messages()["topic_general_info"]["text"].strip()


def test_three_topics_at_once_ask_which_one():
    ents = [entity("topic", t) for t in ("pain", "aftercare", "downtime")]
    messages, _ = run(ActionAnswerTopic(), tracker("pain aftercare and downtime?", "ask_claim", entities=ents))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert messages[0]["text"].startswith(content.messages()["clarify"]["text"][:20])
    assert titles[:3] == [content.entry_title(t) for t in ("pain", "aftercare", "downtime")]


def test_a_session_topic_beside_another_treatment_gives_way_to_its_entry():
    """"Does PRP hurt?": PRP's entry (led by its line on pain), not mesotherapy's pain."""
    ents = [entity("topic", t) for t in ("prp", "pain")]
    messages, _ = run(ActionAnswerTopic(), tracker("does prp hurt?", "ask_claim", entities=ents))
    prp = content.knowledge_entries()["prp"]
    pain_line = content.lead_text(next(lead for lead in prp["leads"] if "hurt" in lead["words"]))
    assert [m["text"] for m in messages] == [f"{pain_line}\n{prp['answer'].strip()}"]


def test_a_contraindication_mentioned_with_another_question_is_acknowledged():
    trk = tracker("I'm pregnant, how is it done?", "ask_procedure", entities=[entity("condition", "pregnancy")])
    messages, _ = run(ActionAnswerKnowledge(), trk)
    note = texts(messages[1:])
    assert "pregnancy" in note and "tell the doctor" in note


def test_clarify_offers_the_likeliest_topics_as_buttons():
    trk = tracker(
        "is the thing after ok", "nlu_fallback", confidence=0.3,
        ranking=[("nlu_fallback", 0.3), ("ask_side_effects", 0.28), ("affirm", 0.2), ("ask_sessions", 0.15), ("ask_dhi", 0.01)],
    )
    messages, _ = run(ActionClarify(), trk)
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/ask_side_effects", "/ask_sessions", "/ask_capabilities"]



def test_clarify_on_a_question_about_ones_hair_offers_the_causes_and_the_hair_loss_questions():
    trk = tracker("How much hair falling out is normal?", "ask_side_effects", confidence=0.99,
                  entities=[entity("hair_problem", "hair_loss")],
                  ranking=[("ask_side_effects", 0.99), ("ask_sessions", 0.15)])
    messages, _ = run(ActionClarify(), trk)
    expected = [b["payload"] for b in content.buttons_for(content.routing()["hair_loss_options"])]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/ask_side_effects"] + expected + ["/ask_capabilities"]
    assert "/describe_hair_loss" in payloads
    # a treatment named: the guesses as before
    trk = tracker("does PRP make hair fall out", "ask_side_effects", confidence=0.5,
                  entities=[entity("hair_problem", "hair_loss"), entity("procedure", "prp")],
                  ranking=[("ask_side_effects", 0.5), ("ask_sessions", 0.3)])
    messages, _ = run(ActionClarify(), trk)
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_side_effects", "/ask_sessions", "/ask_capabilities"]

def test_clarify_on_a_weak_complication_guess_gives_the_urgent_care_line_first():
    trk = tracker("it looks weird where she put the needle", "report_complication", confidence=0.55,
                  ranking=[("report_complication", 0.55), ("ask_side_effects", 0.3)])
    messages, _ = run(ActionClarify(), trk)
    assert "medical care today" in messages[0]["text"]
    # "my heart is racing and I feel very sick after the injections" (review): the line
    # also says when to call the emergency number, before any "did you mean"
    assert "feel very unwell" in messages[0]["text"] and content.clinic()["emergency_number"] in messages[0]["text"]
    assert "/report_complication" in [b["payload"] for b in messages[1]["buttons"]]


def test_clarify_on_a_follow_up_offers_what_the_last_answer_leads_on_to():
    entry = content.knowledge_entries()["contraindications"]
    expected = [b["payload"] for b in content.buttons_for(entry["follow_ups"])]
    trk = tracker("what about aspirin", "out_of_scope", confidence=0.9, signals={"in_domain": True, "follow_up": True},
                  slots={"last_answer": "knowledge:contraindications"},
                  ranking=[("out_of_scope", 0.7), ("ask_price", 0.2)])
    messages, _ = run(ActionClarify(), trk)
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[:1] == ["/ask_price"] and payloads[1:-1] == expected and payloads[-1] == "/ask_capabilities"
    # without the follow-up signal, only the guesses at the message itself
    plain = tracker("what about aspirin", "out_of_scope", confidence=0.9, signals={"in_domain": True},
                    slots={"last_answer": "knowledge:contraindications"}, ranking=[("out_of_scope", 0.7), ("ask_price", 0.2)])
    assert [b["payload"] for b in run(ActionClarify(), plain)[0][0]["buttons"]] == ["/ask_price", "/ask_capabilities"]


@pytest.mark.parametrize("entry_id, text, word", [
    # aftercare: the activity asked; side effects: the sign asked
    ("aftercare", "can i go to the gym the day after?", "gym"),
    ("aftercare", "how long should I stay off the sunbed after my session?", "sunbed"),
    ("aftercare", "can I dye my hair 3 days after meso?", "dye"),
    ("side_effects", "bruise after meso normal?", "bruise"),
    ("side_effects", "bumps on head after injections normal??", "bumps"),
    ("side_effects", "2 weeks after my first session more hair is falling out than before, is shedding normal?",
     "shedding"),
    ("aftercare", "is it ok to wear a cap after the injections, i work outside", "cap"),
    ("aga", "how do i know if its pattern baldness or just shedding", "shedding"),
    ("aga", "is male pattern baldness reversible", "reversible"),
    ("aga", "is a receding hairline always male pattern baldness or can it be something else", "something else"),
    ("indications", "is mesotherapy for hair the same as the face mesotherapy my sister had for wrinkles?", "face"),
    ("side_effects", "my forehead is puffy the day after the scalp injections, is that normal?", "puffy"),
])
def test_an_answer_with_leads_says_the_line_for_what_was_asked_first(entry_id, text, word):
    entry = content.knowledge_entries()[entry_id]
    lead = next(content.lead_text(item) for item in entry["leads"] if word in item["words"])
    messages, _ = run(ActionAnswerTopic(), tracker(text, f"ask_{entry_id}", entities=[entity("topic", entry_id)]))
    assert messages[0]["text"] == f"{lead}\n{entry['answer'].strip()}"


@pytest.mark.parametrize("text, intent, named, added", [
    ("how many prp sessions do i need", "ask_sessions", "prp", None),  # not mesotherapy's course after PRP's
    ("after my baby my hair fell out, whats the usual course", "ask_sessions", "postpartum", None),
    ("how many mesotherapy sessions after having a baby?", "ask_sessions", "postpartum", "sessions"),  # meso named
    ("is it painful, are there side effects?", "ask_side_effects", "pain", "side_effects"),
])
def test_a_sure_guess_at_mesotherapys_facts_is_not_added_beside_another_treatment(text, intent, named, added):
    entities = [entity("topic", named)] + ([entity("procedure", "mesotherapy")] if "mesotherapy" in text else [])
    messages, _ = run(ActionAnswerTopic(), tracker(text, intent, confidence=0.99, entities=entities))
    entries = content.knowledge_entries()
    said = [m["text"] for m in messages]
    assert said[0].endswith(entries[named]["answer"].strip())
    if added:
        assert any(t.endswith(entries[added]["answer"].strip()) for t in said[1:])
    else:
        guessed = content.knowledge_entry_for_intent(intent)[0]
        assert not any(t.endswith(entries[guessed]["answer"].strip()) for t in said)


def test_what_it_is_asked_beside_face_mesotherapy_says_it_covers_hair_only():
    from actions.knowledge import ActionAnswerKnowledge

    messages, _ = run(ActionAnswerKnowledge(), tracker("is hair meso the same as face meso", "ask_what_is"))
    entry = content.knowledge_entries()["what_is"]
    assert messages[0]["text"] == f"{content.messages()['hair_only_not_face']['text'].strip()}\n{entry['answer'].strip()}"


def test_aftercare_without_an_activity_is_the_answer_alone():
    entry = content.knowledge_entries()["aftercare"]
    messages, _ = run(ActionAnswerTopic(), tracker("when can I wash my hair after?", "ask_aftercare",
                                                   entities=[entity("topic", "aftercare")]))
    assert messages[0]["text"] == entry["answer"].strip()


def test_clarify_with_no_candidate_says_it_did_not_understand():
    messages, _ = run(ActionClarify(), tracker("xyzzy", "nlu_fallback", ranking=[("nlu_fallback", 1.0)]))
    assert messages[0]["text"] == content.messages()["not_understood"]["text"].strip()
    assert [b["title"] for b in messages[0]["buttons"]][:1] == ["What is mesotherapy?"]


def test_delete_my_data_is_confirmed_with_a_button_that_deletes():
    messages, events = run(ActionConfirmForgetMe(), tracker("delete my data", "forget_me"))
    assert events == []
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/forget_me", "/deny"]


def test_a_contraindication_with_a_booking_request_is_acknowledged_before_the_questions():
    trk = tracker(
        "I'm pregnant, can I book for next week?", "book_consultation",
        entities=[entity("condition", "pregnancy")], active_loop="consultation_form",
    )
    messages, _ = run(ValidateConsultationForm(), trk)
    said = texts(messages)
    assert "pregnancy" in said and "doctor will discuss it" in said


def test_a_typed_yes_to_the_deletion_question_deletes():
    from actions.conversation import ActionHandleAnswer

    confirm = {"event": "bot", "text": "Do you want me to delete ...?", "data": {"buttons": content.messages()["forget_me_confirm"]["buttons"]}}
    trk = tracker("yes please", "affirm", history=[confirm])
    _, events = run(ActionHandleAnswer(), trk)
    assert events == [{"event": "followup", "timestamp": None, "name": "action_forget_me"}]


def test_clarify_acknowledges_a_contraindication_it_was_told():
    trk = tracker("I have a scalp infection, can I book for Friday?", "book_consultation", confidence=0.6,
                  entities=[entity("condition", "infection")], ranking=[("book_consultation", 0.6), ("ask_contraindications", 0.3)])
    messages, _ = run(ActionClarify(), trk)
    assert "infection" in messages[0]["text"] and "tell the doctor" in messages[0]["text"]
    assert messages[-1]["buttons"][0]["payload"] == "/book_consultation"


def test_a_sure_question_is_answered_beside_the_topic_it_names():
    trk = tracker("is it painful, are there side effects?", "ask_side_effects", confidence=0.93,
                  entities=[entity("topic", "pain")])
    messages, _ = run(ActionAnswerTopic(), trk)
    entries = content.knowledge_entries()
    # the named topic first, then the question the classifier is sure of
    assert [m["text"] for m in messages[:2]] == [entries["pain"]["answer"].strip(), entries["side_effects"]["answer"].strip()]
    aftercare = tracker("can I wash my hair after?", "ask_side_effects", confidence=0.97,
                        entities=[entity("topic", "aftercare")])
    said, events = run(ActionAnswerTopic(), aftercare)
    assert said[0]["text"] == entries["aftercare"]["answer"].strip()
    # the offers under the last message are the named topic's, and so is the slot
    assert said[-1]["buttons"] == content.buttons_for(entries["aftercare"]["follow_ups"])
    assert slot_events(events)["last_answer"] == "knowledge:aftercare"
    weak = tracker("does it hurt", "ask_side_effects", confidence=0.5, entities=[entity("topic", "pain")])
    assert [m["text"] for m in run(ActionAnswerTopic(), weak)[0]][:1] == [entries["pain"]["answer"].strip()]


def test_two_topics_the_visitor_named_are_both_answered_even_beside_a_sure_guess():
    """"Does PRP help with hair loss after giving birth?": the named topics (the cause,
    PRP) are the question; a sure guess at another intent does not push one of them out.
    (Mesotherapy's own aspects asked of PRP, its aftercare or time off, are left out:
    tests/actions/test_deletion_and_follow_ups.py.)"""
    trk = tracker("does PRP help with hair loss after giving birth?", "ask_alternatives", confidence=0.93,
                  entities=[entity("topic", "postpartum"), entity("topic", "prp")])
    messages, _ = run(ActionAnswerTopic(), trk)
    entries = content.knowledge_entries()
    assert [m["text"] for m in messages[:2]] == [entries["postpartum"]["answer"].strip(), entries["prp"]["answer"].strip()]


def test_a_question_about_another_treatment_says_it_cannot_answer_and_who_can():
    from actions.routing import ActionOtherTreatment

    trk = tracker("what are the risks of a hair transplant?", "ask_side_effects",
                  entities=[entity("procedure", "hair_transplant")], signals=PLAIN)
    messages, events = run(ActionOtherTreatment(), trk)
    assert len(messages) == 1 and events == []
    text = messages[0]["text"]
    group = content.routing()["other_treatments"]["transplant"]
    assert text.startswith("I can't answer that one reliably.")
    assert group["name"] in text and "consultation" in text
    # nothing of mesotherapy's side effects is said as if it answered the question
    assert content.knowledge_entries()["side_effects"]["answer"].strip()[:60] not in text
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[-1] == "/book_consultation"
    assert any("transplant_candidacy" in p for p in payloads) and "/ask_dhi" in payloads


def test_the_weeks_after_a_transplant_get_the_doctor_who_did_it_and_the_same_day_signs():
    from actions.routing import ActionOtherTreatment

    trk = tracker("When will the scabs fall off after my hair transplant?", "ask_dhi",
                  entities=[entity("procedure", "hair_transplant")], signals=PLAIN)
    messages, _ = run(ActionOtherTreatment(), trk)
    text = messages[0]["text"]
    assert text.startswith("I can't answer that one reliably.")
    assert "doctor who did it" in text and "pus or a fever need a doctor the same day" in text
    # a question before any treatment keeps the general wording
    before = tracker("what are the risks of a hair transplant?", "ask_side_effects",
                     entities=[entity("procedure", "hair_transplant")], signals=PLAIN)
    assert "doctor who did it" not in run(ActionOtherTreatment(), before)[0][0]["text"]


def test_a_question_about_a_transplants_infection_gets_the_same_day_signs():
    from actions.routing import ActionOtherTreatment

    trk = tracker("What are the signs of infection with a hair transplant?", "ask_dhi",
                  entities=[entity("procedure", "hair_transplant")], signals=PLAIN)
    messages, _ = run(ActionOtherTreatment(), trk)
    assert messages[0]["text"].startswith("I can't answer that one reliably.")
    assert messages[1]["text"] == content.messages()["same_day_signs"]["text"].strip()
    assert messages[1]["buttons"] and not messages[0]["buttons"]  # the buttons come last
    # the risks in general: no extra line
    plain = tracker("what are the risks of a hair transplant?", "ask_dhi",
                    entities=[entity("procedure", "hair_transplant")], signals=PLAIN)
    assert len(run(ActionOtherTreatment(), plain)[0]) == 1


def test_who_can_have_a_transplant_gets_the_candidacy_answer_not_mesotherapys_contraindications():
    from actions.routing import ActionOtherTreatment

    trk = tracker("what would be a reason a woman would not qualify for FUE?", "ask_contraindications",
                  entities=[entity("procedure", "fue")], signals=PLAIN)
    messages, events = run(ActionOtherTreatment(), trk)
    assert [m["text"] for m in messages] == [content.knowledge_entries()["transplant_candidacy"]["answer"].strip()]
    assert slot_events(events)["last_answer"] == "knowledge:transplant_candidacy"



def test_a_transplant_with_an_age_or_a_condition_gets_the_candidacy_answer_but_its_aftermath_does_not():
    from actions.routing import ActionOtherTreatment

    candidacy = content.knowledge_entries()["transplant_candidacy"]["answer"].strip()
    for text, extra in (("What is the best age to get a hair transplant?", []),
                        ("Would being a diabetic rule out having a hair transplant?",
                         [entity("condition", "endocrine_disorder")])):
        trk = tracker(text, "ask_dhi", entities=[entity("procedure", "hair_transplant")] + extra, signals=PLAIN)
        messages, _ = run(ActionOtherTreatment(), trk)
        assert messages[0]["text"] == candidacy, text
        assert len(messages) == (2 if extra else 1), text  # a named condition: "tell the surgeon"
    # the time after it, or signs of a problem, are its recovery: not who can have one
    for text, extra in (("Can I drive after a hair transplant immediately?", []),
                        ("signs of infection in a diabetic after a transplant", [entity("condition", "endocrine_disorder")])):
        trk = tracker(text, "ask_dhi", entities=[entity("procedure", "hair_transplant")] + extra, signals=PLAIN)
        messages, _ = run(ActionOtherTreatment(), trk)
        assert messages[0]["text"] != candidacy and messages[0]["text"].startswith("I can't"), text

def test_microneedling_questions_offer_the_treatments_with_evidence():
    from actions.routing import ActionOtherTreatment

    trk = tracker("how many sessions of microneedling do I need", "ask_sessions",
                  entities=[entity("procedure", "microneedling")], signals=PLAIN)
    messages, _ = run(ActionOtherTreatment(), trk)
    assert "microneedling" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_alternatives", "/book_consultation"]


def test_hair_loss_medicines_in_general_offer_minoxidil_and_finasteride():
    from actions.routing import ActionOtherTreatment

    trk = tracker("is it true that the medications for hair loss have side effects?", "ask_side_effects",
                  entities=[entity("procedure", "hair_loss_medicines")], signals=PLAIN)
    messages, _ = run(ActionOtherTreatment(), trk)
    assert messages[0]["text"].startswith("I can't answer that one reliably.")
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert any("minoxidil" in p for p in payloads) and any("finasteride" in p for p in payloads)


def test_a_treatment_the_sources_do_not_cover_is_not_said_to_be_known_in_outline():
    from actions.routing import ActionOtherTreatment

    trk = tracker("are exosomes safe for hair loss?", "ask_side_effects",
                  entities=[entity("procedure", "exosomes")], signals=PLAIN)
    messages, _ = run(ActionOtherTreatment(), trk)
    text = messages[0]["text"]
    assert text.startswith("I can't answer that one reliably.")  # the same first sentence: a decline
    assert "say nothing about exosome treatments" in text and "only the basics" not in text
    transplant = tracker("does FUE hurt?", "ask_side_effects", entities=[entity("procedure", "fue")], signals=PLAIN)
    assert "only the basics" in run(ActionOtherTreatment(), transplant)[0][0]["text"]



STORY = ("It started to come out in handfuls. Years ago I lost 85 pounds in a year. This year we had Covid. "
         "Can stress make you lose your hair?")
STORY_TOPICS = [placed(STORY, "lost 85 pounds", "topic", "crash_diet"), placed(STORY, "Covid", "topic", "after_illness"),
                placed(STORY, "stress", "topic", "stress")]


def test_a_story_that_names_three_causes_and_asks_about_one_gets_that_one():
    """Issue 11: a story with a question inside gets the question answered, not "which one?"."""
    messages, events = run(ActionAnswerTopic(), tracker(STORY, "describe_hair_loss", entities=STORY_TOPICS))
    stress = content.knowledge_entries()["stress"]["answer"].strip()
    assert messages[0]["text"] == stress
    assert not any(m["text"].startswith(content.messages()["clarify"]["text"][:20]) for m in messages)
    assert slot_events(events)["last_answer"] == "knowledge:stress"


def test_a_story_whose_question_names_three_topics_still_asks_which_one():
    text = "I lost weight. Could stress, covid or my diet be why?"
    ents = [placed(text, "stress", "topic", "stress"), placed(text, "covid", "topic", "after_illness"),
            placed(text, "diet", "topic", "crash_diet")]
    messages, _ = run(ActionAnswerTopic(), tracker(text, "describe_hair_loss", entities=ents))
    assert messages[0]["text"].startswith(content.messages()["clarify"]["text"][:20])


def test_after_see_a_doctor_the_topic_of_the_question_comes_before_the_story(sqlite_url):
    trk = tracker(STORY, "describe_hair_loss", entities=[entity("red_flag", "sudden_loss")] + STORY_TOPICS,
                  signals=PLAIN)
    messages, _ = run(ActionRedFlag(), trk)
    assert "doctor or dermatologist" in messages[0]["text"]
    assert messages[1]["text"] == content.knowledge_entries()["stress"]["answer"].strip()


def test_signs_of_an_infection_on_the_scalp_get_a_doctor_today_not_a_routine_appointment(sqlite_url):
    """Review: "red, hot and swollen with pus since my FUE 5 days ago" got "make an
    appointment with your GP" only; pus or a fever cannot wait for one."""
    trk = tracker("my scalp is red, hot and swollen with pus since my FUE 5 days ago", "describe_hair_loss",
                  entities=[entity("red_flag", "scalp_infection")], signals=PLAIN)
    messages, _ = run(ActionRedFlag(), trk)
    same_day = content.messages()["red_flag_same_day"]["text"].split("{")[0].strip()
    assert messages[0]["text"].startswith(same_day[:40]) and "today" in messages[0]["text"]
    assert messages[0].get("custom") == {"kind": "urgent_care"}
    # (no routine "make an appointment" for the same signs after "today")
    assert "make an appointment" not in texts(messages)
    # another red flag beside them still gets its routine answer after the same-day one
    trk = tracker("pus on my scalp and bald patches", "describe_hair_loss",
                  entities=[entity("red_flag", "scalp_infection"), entity("red_flag", "patchy_loss")], signals=PLAIN)
    messages, _ = run(ActionRedFlag(), trk)
    assert messages[0]["text"].startswith(same_day[:40])
    assert content.routing()["red_flag_reasons"]["patchy_loss"] in messages[1]["text"]
    # bald patches alone: a routine appointment is right, no same-day line
    trk = tracker("bald patches", "describe_hair_loss", entities=[entity("red_flag", "patchy_loss")], signals=PLAIN)
    messages, _ = run(ActionRedFlag(), trk)
    assert not any("today" in m["text"] for m in messages)


def test_who_can_have_a_transplant_adds_tell_the_surgeon_when_a_condition_is_named():
    """Review: "I'm breastfeeding, is a transplant possible?" got the candidacy text,
    which never mentioned the condition; the surgeon weighs it, never the assistant."""
    from actions.routing import ActionOtherTreatment

    trk = tracker("I'm pregnant, is a hair transplant possible at 40?", "ask_dhi",
                  entities=[entity("procedure", "hair_transplant"), entity("condition", "pregnancy")])
    messages, _ = run(ActionOtherTreatment(), trk)
    label = content.condition_labels().get("pregnancy")
    assert label, "the condition has a label"
    assert messages[0]["text"] == content.knowledge_entries()["transplant_candidacy"]["answer"].strip()
    assert label in messages[-1]["text"] and "surgeon" in messages[-1]["text"]
    assert "mesotherapy" not in messages[-1]["text"]
    # no condition named: the candidacy answer alone
    plain = tracker("is a hair transplant possible at 40?", "ask_dhi", entities=[entity("procedure", "hair_transplant")])
    assert len(run(ActionOtherTreatment(), plain)[0]) == 1


def test_a_past_illness_asked_about_is_not_called_a_current_infection():
    """"I had covid in January and now my hair is falling a lot": shedding after an
    illness, without "you mentioned a current infection"; a present one is still named."""
    covid = tracker("i had covid in january and now my hair is falling a lot", "describe_hair_loss",
                    entities=[entity("topic", "after_illness"), entity("condition", "infection")], signals=PLAIN)
    said = [m["text"] for m in run(ActionAnswerTopic(), covid)[0]]
    assert said[0] == content.knowledge_entries()["after_illness"]["answer"].strip()
    assert not any("current infection" in t for t in said)
    now = tracker("I have a scalp infection right now, does it hurt?", "ask_side_effects", confidence=0.5,
                  entities=[entity("topic", "pain"), entity("condition", "infection")], signals=PLAIN)
    assert any("current infection" in m["text"] for m in run(ActionAnswerTopic(), now)[0])


def test_the_pregnancy_of_a_story_of_shedding_after_the_birth_is_not_called_a_current_one():
    """"after my second pregnancy my hair fell out": the answer on shedding after a
    birth, without "you mentioned pregnancy: practitioners advise against it"."""
    text = "after my second pregnancy my hair started falling out, what can I do?"
    story = tracker(text, "describe_hair_loss", entities=[entity("topic", "postpartum"), entity("condition", "pregnancy")],
                    signals=PLAIN)
    said = [m["text"] for m in run(ActionAnswerTopic(), story)[0]]
    assert said[0] == content.knowledge_entries()["postpartum"]["answer"].strip()
    assert not any("mentioned" in t for t in said)
    now = tracker("I'm pregnant, does it hurt?", "ask_side_effects", confidence=0.5,
                  entities=[entity("topic", "pain"), entity("condition", "pregnancy")], signals=PLAIN)
    assert any("mentioned" in m["text"] for m in run(ActionAnswerTopic(), now)[0])


def test_a_tumour_told_as_over_is_for_the_doctor_without_advise_against():
    text = "I had breast cancer three years ago and finished chemo. Does it hurt?"
    start = text.index("breast cancer")
    cancer = {**entity("condition", "tumour"), "start": start, "end": start + len("breast cancer")}
    said = [m["text"] for m in run(ActionAnswerTopic(), tracker(text, "ask_side_effects", confidence=0.5, entities=[
        entity("topic", "pain"), cancer], signals=PLAIN))[0]]
    assert any("in the past" in t and "doctor" in t for t in said)
    assert not any("advise against" in t for t in said)
    now = "I have a tumour on my scalp, does it hurt?"
    start = now.index("tumour")
    tumour = {**entity("condition", "tumour"), "start": start, "end": start + len("tumour")}
    said = [m["text"] for m in run(ActionAnswerTopic(), tracker(now, "ask_side_effects", confidence=0.5, entities=[
        entity("topic", "pain"), tumour], signals=PLAIN))[0]]
    assert any("advise against" in t for t in said)


def test_a_red_flag_with_a_contraindication_asked_about_a_session_says_tell_the_doctor(sqlite_url):
    text = "i have a small infection and pimples on my scalp, can i still come for my session"
    trk = tracker(text, "ask_contraindications", entities=[entity("red_flag", "scalp_symptoms"),
                                                           entity("condition", "infection")], signals=PLAIN)
    said = [m["text"] for m in run(ActionRedFlag(), trk)[0]]
    assert "doctor" in said[0]
    assert any("current infection" in t and "tell" in t.lower() for t in said[1:])
    # a story about hair loss that mentions no treatment gets no contraindication note
    story = tracker("I'm pregnant and my hair falls out in clumps", "describe_hair_loss",
                    entities=[entity("red_flag", "sudden_loss"), entity("condition", "pregnancy")], signals=PLAIN)
    assert not any("Practitioners advise against" in m["text"] for m in run(ActionRedFlag(), story)[0])


def test_asking_about_the_risk_of_an_infection_is_not_told_it_mentioned_one():
    trk = tracker("is there any risk of infection?", "ask_side_effects", confidence=0.95,
                  entities=[entity("topic", "infection_signs"), entity("condition", "infection")], signals=PLAIN)
    assert not any("current infection" in m["text"] for m in run(ActionAnswerTopic(), trk)[0])


def test_a_condition_outside_the_screening_list_is_named_for_the_doctor_never_judged():
    """"I have a pacemaker, is that a problem?": who should not have it, then the
    pacemaker in the visitor's words with "the sources do not say; tell the doctor"."""
    text = "I have a pacemaker and high blood pressure, is that a problem?"
    trk = tracker(text, "bot_challenge", confidence=0.6, signals=PLAIN, entities=[
        {**entity("condition", "other_condition"), "start": 9, "end": 18},
        {**entity("condition", "other_condition"), "start": 23, "end": 42},
        entity("topic", "contraindications"),
    ])
    said = [m["text"] for m in run(ActionAnswerTopic(), trk)[0]]
    assert said[0] == content.knowledge_entries()["contraindications"]["answer"].strip()
    note = [t for t in said if "pacemaker" in t]
    assert len(note) == 1 and "high blood pressure" in note[0]
    assert "tell the doctor" in note[0] and "say nothing about" in note[0]
    assert not any("Practitioners advise against mesotherapy in that case" in t for t in said)


def test_a_combination_gets_i_cannot_answer_reliably_with_the_treatment_in_the_visitors_words():
    from actions.routing import ActionOtherTreatment

    text = "can i use Minoxidil with mesotherapy?"
    trk = tracker(text, "ask_alternatives", confidence=0.99, signals=PLAIN, entities=[
        {**entity("topic", "minoxidil"), "start": 10, "end": 19},
        {**entity("procedure", "mesotherapy"), "start": 25, "end": 36},
    ])
    messages, _ = run(ActionOtherTreatment(), trk)
    assert "I can't answer that one reliably" in messages[0]["text"]
    assert "combined with minoxidil" in messages[0]["text"] and "doctor" in messages[0]["text"]
    payloads = [b["payload"] for b in messages[0].get("buttons") or []]
    assert len(payloads) == 2  # what the content says about minoxidil, and a consultation


def test_hair_pulling_gets_a_doctor_without_the_stress_shedding_answer(sqlite_url):
    trk = tracker("I pull my hair out when I'm anxious and now there are thin spots", "describe_hair_loss",
                  entities=[entity("red_flag", "hair_pulling"), entity("topic", "stress")], signals=PLAIN)
    said = [m["text"] for m in run(ActionRedFlag(), trk)[0]]
    assert "doctor" in said[0]
    stress = content.knowledge_entries()["stress"]["answer"].strip()
    assert stress not in said


def test_a_named_condition_gets_its_own_line_of_who_should_not_have_it_whatever_the_intent():
    # "I'm pregnant, is that a problem for the injections?" read as side effects: the
    # contraindications topic answers with its pregnancy variant, not the general list
    trk = tracker("I'm pregnant, is that a problem for the injections?", "ask_side_effects", 0.6,
                  entities=[entity("condition", "pregnancy"), entity("topic", "contraindications")])
    messages, _ = run(ActionAnswerTopic(), trk)
    entry = content.knowledge_entries()["contraindications"]
    assert messages[0]["text"] == entry["variants"]["condition"]["pregnancy"].strip()
    # told of someone else, the general answer
    trk = tracker("my wife is pregnant, is that a problem for the injections?", "ask_side_effects", 0.6,
                  entities=[entity("condition", "pregnancy", "someone_else"), entity("topic", "contraindications")])
    messages, _ = run(ActionAnswerTopic(), trk)
    assert messages[0]["text"] == entry["answer"].strip()


def test_a_condition_told_as_over_gets_tell_the_doctor_not_while_you_have_it():
    """Review: "had shingles on my head 5 years ago, all healed now" got "while you have
    an infection ... see a doctor about the infection itself"."""
    text = "had shingles on my head 5 years ago, all healed now. can I still have mesotherapy?"
    trk = tracker(text, "ask_contraindications", entities=[placed(text, "shingles", "condition", "infection"),
                                                          entity("topic", "contraindications")], signals=PLAIN)
    said = [m["text"] for m in run(ActionAnswerTopic(), trk)[0]]
    entry = content.knowledge_entries()["contraindications"]
    assert said[0] == entry["answer"].strip()
    assert entry["variants"]["condition"]["infection"].strip() not in said
    assert any("an infection in the past" in t and "doctor" in t for t in said[1:])
    assert not any("current" in t for t in said[1:])


@pytest.mark.parametrize("text, words", [
    ("I'm 6 weeks pregnant and had mesotherapy last week, is my baby ok?", "pregnant"),
    ("found out i'm pregnant, had a meso session 5 days ago. should i worry?", "pregnant"),
])
def test_pregnant_after_a_session_is_told_to_tell_the_midwife(text, words):
    trk = tracker(text, "ask_contraindications", entities=[placed(text, words, "condition", "pregnancy"),
                                                          entity("topic", "contraindications")], signals=PLAIN)
    said = [m["text"] for m in run(ActionAnswerTopic(), trk)[0]]
    entry = content.knowledge_entries()["contraindications"]["variants"]
    assert said[0] == entry["condition_after_session"]["pregnancy"].strip()
    assert "midwife" in said[0]
    # before any session: the usual line
    before = "I'm 6 weeks pregnant, can I have mesotherapy?"
    trk = tracker(before, "ask_contraindications", entities=[placed(before, "pregnant", "condition", "pregnancy"),
                                                            entity("topic", "contraindications")], signals=PLAIN)
    assert run(ActionAnswerTopic(), trk)[0][0]["text"] == entry["condition"]["pregnancy"].strip()


@pytest.mark.parametrize("text, entities", [
    ("what if I get an infection after the treatment? what would the signs be?", [entity("condition", "infection")]),
    ("is it true meso can cause allergic reactions?", [entity("condition", "allergy")]),
    ("is it true meso can cause allergic reactions? I've never had any allergies but curious",
     [{**entity("condition", "allergy"), "start": 30, "end": 38}, entity("condition", "allergy", "negated")]),
    ("what happens if someone is allergic to something in the mix? just asking in general",
     [entity("condition", "allergy")]),
])
def test_a_condition_asked_about_as_a_risk_or_in_general_gets_no_you_mentioned_note(text, entities):
    trk = tracker(text, "ask_side_effects", entities=entities + [entity("topic", "side_effects")])
    messages, _ = run(ActionAnswerTopic(), trk)
    note = content.messages()["condition_note"]["text"].split("{")[0]
    assert note not in texts(messages), text


def test_an_allergy_told_is_named_even_when_another_sentence_is_hypothetical():
    # "I have an allergy to lidocaine ... If I go for mesotherapy, do they use numbing cream?"
    text = ("I have an allergy to lidocaine, found out at the dentist. If I go for mesotherapy, do they use any "
            "numbing cream I should worry about?")
    allergy = {**entity("condition", "allergy"), "start": 10, "end": 17}
    messages, _ = run(ActionAnswerTopic(), tracker(text, "ask_side_effects", entities=[allergy, entity("topic", "pain")]))
    assert content.condition_labels()["allergy"] in texts(messages)


@pytest.mark.parametrize("topic, condition", [
    ("thyroid", "endocrine_disorder"), ("pcos", "endocrine_disorder"), ("cancer_treatment", "tumour")])
def test_an_answer_that_already_warns_of_the_condition_gets_no_second_note(topic, condition):
    # "I have hypothyroidism ... Am I allowed to have mesotherapy?": the thyroid answer's
    # own "practitioners warn against it ... tell the doctor" line, not that line twice
    trk = tracker("I have it, am I allowed to have mesotherapy?", "check_eligibility",
                  entities=[entity("condition", condition), entity("topic", topic)])
    messages, _ = run(ActionAnswerTopic(), trk)
    said = texts(messages)
    assert content.knowledge_entries()[topic]["answer"].strip() in said
    note = content.messages()["condition_note"]["text"].split("{")[0]
    assert note not in said


def test_a_temperature_during_cancer_treatment_gets_the_cancer_team_at_once_not_a_routine_appointment(sqlite_url):
    trk = tracker("my partner is on chemotherapy and has a temperature of 38.4 tonight, will her hair grow back?",
                  "describe_hair_loss", entities=[entity("red_flag", "systemic")], signals=PLAIN)
    messages, _ = run(ActionRedFlag(), trk)
    first = messages[0]["text"]
    assert first.startswith(" ".join(content.messages()["cancer_fever"]["text"].split("{")[0].split()))
    assert "24-hour" in first and "make an appointment" not in texts(messages)
    assert messages[0].get("custom") == {"kind": "urgent_care"}
    assert content.routing()["red_flag_reasons"]["systemic"] not in texts(messages)
    with db.session_scope() as session:
        rows = session.execute(select(SafetyEvent.kind, SafetyEvent.detail)).all()
    assert rows == [("red_flag", "cancer_fever")]


def test_what_now_after_see_a_doctor_gets_the_next_step():
    messages, events = run(ActionRedFlag(), tracker("ok what should i do", "request_medical_advice", signals=PLAIN))
    assert [m["text"] for m in messages] == [text_of("red_flag_next_step")]
    assert events == []


def test_what_now_after_urgent_care_gets_its_next_step():
    history = [{"event": "user", "text": "pus and a fever after my session", "parse_data": {"intent": {"name": "report_complication"}}},
               {"event": "action", "name": "action_report_complication"}, {"event": "action", "name": "action_listen"}]
    messages, _ = run(ActionRedFlag(), tracker("what now", "out_of_scope", signals=PLAIN, history=history))
    assert [m["text"] for m in messages] == [text_of("complication_next_step")]
    # a question flow ended by an emergency or urgent-care sign: the same next step
    messages, _ = run(ActionRedFlag(), tracker("what now", "out_of_scope", signals=PLAIN, slots={"flow_stopped": "emergency"}))
    assert [m["text"] for m in messages] == [text_of("complication_next_step")]


def test_what_now_after_the_emergency_answer_gets_call_now():
    history = [{"event": "user", "text": "my throat is closing", "parse_data": {"intent": {"name": "emergency"}}},
               {"event": "action", "name": "utter_emergency"}, {"event": "action", "name": "action_emergency"},
               {"event": "action", "name": "action_listen"}]
    messages, _ = run(ActionRedFlag(), tracker("ok what now", "goodbye", signals=PLAIN, history=history))
    assert [m["text"] for m in messages] == [text_of("emergency_next_step")]
