"""Dialogue policy: what must happen before the classifier's guess is acted on.

Rules map each intent to its answer. That is right when the intent is right, and a
confident answer to a different question is the worst failure a health assistant can
have. This policy runs above ``RulePolicy`` (higher priority, same confidence 1.0)
and takes the turn only in these cases, outside the question flows (inside them the
forms' validation does the same checks, ``actions/forms.py``):

1. signs of an infection after an injection, told as happening -> the urgent-care
   answer (``utter_complication``, ``action_report_complication``), whatever the intent;
2. a red flag (patchy or sudden loss, scarring, a painful or scaly scalp, eyebrows or
   body hair, a child, fever or weight loss) -> ``action_red_flag`` ("see a doctor",
   with the reason) before anything else;
3. a question with nothing about hair, the treatment or the clinic in it ("how do I
   open a bank account?"), or about a treatment elsewhere on the body ("swelling after
   PRP on my face") -> ``utter_out_of_scope`` instead of a guessed topic;
4. a question that names a topic from the terminology ("does it hurt", "PRP",
   "after giving birth") -> ``action_answer_topic``: the topic's entry answers it;
5. a weak guess at an intent with large consequences (emergency without a named sign,
   complication, deleting data: below 0.8), a guess at a question answered from
   the content, at a story of hair loss or at a request for advice that nothing in the
   message backs (no topic named) and that is below 0.9, or no guess at all
   (``nlu_fallback``)
   -> ``action_clarify``: "do you mean X or Y?" with the likeliest topics as buttons;
   "delete my data" typed (not clicked) always asks for confirmation; a weak guess
   at a question that names an advertised benefit gets that claim's evidence
   (``action_explain_claim``) instead of "did you mean".

6. a question about another treatment (a hair transplant, DHI, FUE, microneedling;
   mesotherapy not named) that would get an answer about mesotherapy (its side
   effects, steps, sessions, pain, downtime...), or about the time after a transplant
   that would get what DHI is -> ``action_other_treatment``: "I can't answer that
   reliably", who can, and what the content says about that treatment.

After its own action it predicts ``action_listen``. Everything else is left to the
rules and the other policies. The decisions use ``components/signals.py``, shared
with the actions. Nothing is trained; the policy stores only its settings.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction, confidence_scores_for
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from components import signals as sig
from contentfiles import comparison_sides, has_lead_for, treatment_entries, uncovered_hair_treatments
from components.safety_override import SIGN_ENTITY as EMERGENCY_SIGN_ENTITY

ACTION_RED_FLAG = "action_red_flag"
ACTION_TOPIC = "action_answer_topic"
ACTION_CLARIFY = "action_clarify"
ACTION_CONFIRM_FORGET = "action_confirm_forget_me"
ACTION_OTHER_TREATMENT = "action_other_treatment"
ACTION_WHICH_TREATMENT = "action_which_treatment"
ACTION_FLOW_NEXT_STEP = "action_flow_next_step"
ACTION_SCREENING_SUMMARY = "action_screening_summary"
# The actions that end a question flow ("so what now?" after them: action_flow_next_step)
FLOW_ENDS = {ACTION_SCREENING_SUMMARY, "action_triage_outcome", "action_consultation_submit"}
UTTER_COMPLICATION = "utter_complication"
ACTION_COMPLICATION = "action_report_complication"
ACTION_EMERGENCY = "action_emergency"  # after the emergency rule's fixed answer
ACTION_TRIAGE_OUTCOME = "action_triage_outcome"
UTTER_OUT_OF_SCOPE = "utter_out_of_scope"
UTTER_NOT_A_PERSON = "utter_not_a_person"  # an animal's coat or skin: ask a vet
ACTION_CLAIM = "action_explain_claim"
ACTION_COMPARE = "action_compare_treatments"
ACTION_PRICE = "action_price_info"
ACTION_STATEMENT = "action_respond_to_statement"
# Intents whose own answer already speaks of prices or goes before them.
PRICE_KEEPS = {"ask_price", "book_consultation", "human_handoff", "emergency", "report_complication", "forget_me"}
OWN_ACTIONS = {ACTION_RED_FLAG, ACTION_TOPIC, ACTION_CLARIFY, ACTION_CONFIRM_FORGET, ACTION_OTHER_TREATMENT,
               ACTION_WHICH_TREATMENT, ACTION_FLOW_NEXT_STEP,
               ACTION_COMPARE, ACTION_PRICE, ACTION_STATEMENT}
CLAIM_ENTITY = "claim_topic"
# Intents a short follow-up keeps ("ok thanks", "no", "stop").
FOLLOW_UP_KEEPS = {"greet", "thank", "goodbye", "affirm", "deny", "stop", "bot_challenge", "human_handoff",
                   "book_consultation", "forget_me", "emergency", "report_complication"}
# Actions that answer a question: a short message right after one may lean on it
# ("how far apart?", "and for women?", "what about aspirin?").
ANSWER_ACTIONS = {ACTION_TOPIC, ACTION_CLAIM, ACTION_COMPARE, ACTION_PRICE, ACTION_OTHER_TREATMENT,
                  "action_answer_knowledge", "action_cite_source", "action_decline_medical_advice"}

# The practical side of a session: asked as "is it for me?" ("I hate needles, is it for
# me?"), it is that topic's question, not the screening's.
PRACTICAL_TOPICS = {"pain", "downtime", "aftercare", "session_length", "sessions", "side_effects"}

FALLBACK = "nlu_fallback"
TOPIC_ENTITY = "topic"
# Intents whose answer a named topic replaces: questions and statements. Not the
# flows, the safety answers, the data deletion, the person route or short replies.
NOT_TOPIC_INTENTS = {
    "emergency", "report_complication", "forget_me", "book_consultation", "check_eligibility",
    "human_handoff", "affirm", "deny", "stop", "thank", "goodbye", "bot_challenge", "ask_source",
}
# Short replies: a typed question that names a topic is answered as the topic ("im on
# apixaban, is this a problem?" taken for "are you a bot?", "... statins, ok?" for a yes).
SMALL_TALK = {"goodbye", "thank", "affirm", "deny", "bot_challenge"}
# Intents that a message with nothing about the domain cannot have.
NOT_GUARDED_INTENTS = NOT_TOPIC_INTENTS - {"book_consultation", "check_eligibility", "ask_source"} | {
    "greet", "ask_capabilities", "inform", "out_of_scope", "dont_know",
}
# Intents a message outside the domain is declined for only when it is shaped as a
# question and the guess is weak ("how do I convert a pdf" taken for the person route;
# "what can I do to stop my hiccups?" taken for "stop", outside a questionnaire).
WEAKLY_GUARDED_INTENTS = {"human_handoff", "inform", "ask_capabilities", "bot_challenge", "out_of_scope", "stop"}
GENERAL_EFFICACY = "general_efficacy"  # claims.yml: the evidence on the whole treatment
# Words without which a message does not ask for a person, the clinic's contact
# details, address or hours (every human_handoff training example has one; tested).
# Words a request for a consultation is made with ("book", "appointment", "see the doctor").
BOOKING_CUES = re.compile(
    r"\b(book\w*|appointments?|consult\w*|schedul\w*|reserv\w*|slots?|availab\w*|come in|sign (me )?up|"
    r"register|enrol\w*|see (a|the|your) (doctor|specialist|dermatologist|surgeon)|meet|visit|call me|contact me|"
    r"get in touch|start (the )?treatment|have (it|the treatment|mesotherapy|meso) done|when can i (have|get|start))\b",
    re.IGNORECASE)
HANDOFF_CUES = re.compile(
    r"\b(person|people|human|humans|someone|somebody|anyone|anybody|staff|team|doctors?|nurses?|dermatologists?|"
    r"agent|operator|receptionist|reception|secretary|manager|clinic|office|surgery|address|located|location|"
    r"where|open|opening|hours|closed|weekends?|saturdays?|sundays?|phone|telephone|number|call|ring|email|e-mail|"
    r"contact|reach|talk|speak|chat|bot|robot|machine|real|directions|get to|find you|visit|whatsapp|message|"
    r"callback|call back|ring back|get back to me|surgeons?|consultants?|specialists?|representative|advisor|live)\b",
    re.IGNORECASE,
)
# Intents whose answer has large consequences: acted on only when the classifier is
# sure (or a named sign backs it up; EmergencyOverride gives those 1.0).
# (Booking is not among them: the consultation request starts by asking for consent,
# which is the confirmation; prices are the clinic's contact details.)
# Words about the deletion a visitor was asked to confirm ("is it deleted?", "are you sure?")
_ABOUT_DELETING = re.compile(r"\b(delet\w*|eras\w*|remov\w*|wip\w*|forget|forgotten|gone|sure|data|details)\b",
                             re.IGNORECASE)
LOW_MOOD = sig.LOW_MOOD
FORGET_PAYLOAD = "/forget_me"  # messages.yml forget_me_confirm's button
# A follow-up this short ("gym?", "and hats") leans on the answer before it.
SHORT_FOLLOW_UP_WORDS = 3
HIGH_STAKES_INTENTS = {"emergency", "report_complication", "forget_me"}
# Questions answered from the content (ask_*), stories of hair loss (the questions) and
# requests for advice: a bare guess at one of them (no topic named, nothing else in the
# message backing it) below ``answer_confidence`` (0.9) is more often wrong than right
# on real visitors' questions: on the development sets each measured before any tuning
# on it, such guesses below 0.9 were right 2 times and wrong 15 (docs/quality.md). The
# assistant asks which topic was meant. A guess at one of mesotherapy's own facts in a
# message that names mesotherapy is backed by it, and needs only ``weak_confidence``
# (0.6), as does every guess before a question naming an advertised claim is taken for
# that claim.
ANSWER_PREFIX = "ask_"
# Answers that are about mesotherapy itself: given to a question about another
# treatment ("what are the risks of a hair transplant?", "does FUE hurt?") they would
# answer a different question, so such a question gets ``action_other_treatment``
# ("I can't answer that reliably; here is who can") instead. Intents, and the topics
# of knowledge.yml whose entries describe mesotherapy sessions.
MESO_INTENTS = {
    "ask_what_is", "ask_procedure", "ask_ingredients", "ask_personalised", "ask_who_performs", "ask_sessions",
    "ask_indications", "ask_contraindications", "ask_side_effects", "ask_photos", "ask_limitations", "ask_claim",
    "check_eligibility",
}
# Topics that name a treatment: named, they are the question even when the classifier
# is sure the message is out of scope.
TREATMENT_TOPICS = sig.TREATMENT_NAMED_TOPICS
# Topics that are a cause of hair loss (knowledge.yml entries on them).
CAUSE_TOPICS = sig.NAMED_CAUSE_TOPICS | {sig.GENERAL_CAUSE, "normal_shedding"}
MESO_TOPICS = sig.MESO_ASPECT_TOPICS
NOT_ANSWERS = {"ask_capabilities"}
# The time after a session: their terminology phrases are specific enough to be the
# question even when the classifier is sure the message is out of scope.
# (Not results_timeline: "how long does it last" is said of many things.)
SESSION_AFTER_TOPICS = {"downtime", "aftercare", "session_length", "side_effects"}
# Intents outside ask_* that answer a guess with content all the same.
GUESSED_ANSWERS = {"describe_hair_loss", "request_medical_advice"}
# Answers that state mesotherapy's own facts (its sessions, procedure, side effects...).
TREATMENT_FACT_INTENTS = {
    "ask_what_is", "ask_procedure", "ask_ingredients", "ask_personalised", "ask_who_performs", "ask_sessions",
    "ask_side_effects", "ask_photos", "ask_contraindications", "ask_indications",
}


# What DHI's entry does not answer about a transplant (it says what DHI is, that it is
# surgery, and how it differs from mesotherapy): its risks, scars, recovery, grafts and
# donor hair, results, success. Asked with a transplant named, the classifier's "DHI"
# guess gets "I can't answer that reliably" and who can instead.
_TRANSPLANT_ASPECT = re.compile(
    r"\b(side[- ]?effects?|risks?|risky|dangers?|dangerous|scars?|scarring|"
    r"swim\w*|wash\w*|shower\w*|gym|exercis\w*|sleep\w*|harvest\w*|grafts?|donor|limit|success|"
    rf"fail\w*|permanent|natural|last|lasts|numb\w*|shock loss|{sig.CARE_SIGN_WORDS})\b",
    re.IGNORECASE,
)


def guessed_alarm(entities: List[Dict[str, Any]], text: str) -> bool:
    """An emergency or complication guess with nothing to back it: a question about
    what could happen ("could I have an allergic reaction?", "can I put products in my
    hair after the treatment?"), no emergency or infection sign, no red flag and no
    infection named. A message that tells something happening keeps the urgent answer."""
    return (
        sig.asked(text) and not sig.mentioned(entities, EMERGENCY_SIGN_ENTITY)
        and not sig.mentioned(entities, sig.COMPLICATION_ENTITY) and not sig.not_negated(entities, sig.RED_FLAG_ENTITY)
        and "infection" not in sig.not_negated(entities, "condition")
        and (sig.is_hypothetical(text) or bool(_PERMISSION.search(text or "")))
        and not _HAPPENING.search(_ASKING_LEAVE.sub(" ", text or ""))
    )


# Words for something wrong with the body: a complication guessed for a question with
# none of them ("flying 2 days after my meso session, any issue?") is asked about.
_SYMPTOM = re.compile(
    r"\b(pain\w*|hurt\w*|sore\w*|ach\w*|swell\w*|swollen|red\w*|rash\w*|itch\w*|bumps?|lumps?|bleed\w*|bled|"
    r"bruis\w*|fever\w*|temperature|hot|warm|pus|ooz\w*|numb\w*|tingl\w*|burn\w*|headaches?|dizz\w*|faint\w*|"
    r"sick|nause\w*|vomit\w*|spots?|blister\w*|crust\w*|scabs?|weep\w*|discharge|infect\w*|allerg\w*|reaction|"
    r"tender\w*|throb\w*|puffy|inflam\w*|marks?|dots?|tight|stiff|shedding|falling|patch\w*|unwell|ill)\b",
    re.IGNORECASE)


# "my chest is fine, my breathing is fine, can I go to the gym after?": the body told as well.
_TOLD_WELL = re.compile(r"\b(is|are|was|were|feels?|feel)\s+(fine|ok|okay|normal|good|alright|all right)\b", re.IGNORECASE)


def denied_alarm(entities: List[Dict[str, Any]], text: str) -> bool:
    """An emergency guess for a question that tells the body as well ("my chest is fine,
    I just want to know ...") and names no sign: which topic was meant is asked (its
    answer still gives the emergency number first)."""
    return bool(_TOLD_WELL.search(text or "")) and no_symptom_told(entities, text)


def no_symptom_told(entities: List[Dict[str, Any]], text: str) -> bool:
    """A question that names no sign and no word of anything wrong with the body (a
    condition told as over, "a scalp infection two years ago, fully cleared", is none)."""
    return (sig.asked(text) and not sig.mentioned(entities, EMERGENCY_SIGN_ENTITY)
            and not sig.mentioned(entities, sig.COMPLICATION_ENTITY) and not sig.mentioned(entities, sig.RED_FLAG_ENTITY)
            and not _SYMPTOM.search(_RESOLVED_CLAUSE.sub(" ", _NEGATED_PART.sub(" ", sig.without_past_conditions(entities, text)))))


# "a tiny bit of redness faded overnight, totally gone now": a sign told as over.
_RESOLVED_CLAUSE = re.compile(r"[^.?!,;]*\b(faded|gone now|totally gone|all gone|went away|settled( down)?|cleared up|"
                              r"disappeared)\b[^.?!,;]*", re.IGNORECASE)


# "I don't have any swelling or redness", "no fever, no pus": signs denied, not told.
_NEGATED_PART = re.compile(r"\b(no|not|without|don'?t have( any)?|dont have( any)?|haven'?t (got|had)( any)?|never had|"
                           r"free of)\b(?:(?!\b(but|and|though|although|except)\b)[^.?!,;]){0,40}", re.IGNORECASE)


# "can I ...?", "is it ok to ...?": asking leave for something, not telling a problem.
_PERMISSION = re.compile(r"^\s*(can|could|may|should|is it ok|is it okay|is it safe|am i allowed)\s+(i|l|you|we)?\b",
                         re.IGNORECASE)
_ASKING_LEAVE = re.compile(r"\b(can|could|would|will|may|might|should|do|does)\s+(i|l)\s+(have|get|got)\b", re.IGNORECASE)
# Words that tell of something happening now ("it's swelling", "I feel", "my scalp is").
_HAPPENING = re.compile(r"\b(i feel|i'm feeling|im feeling|i am feeling|i have|i've got|ive got|i got|i had|"
                        r"my (scalp|head|face|skin|throat|lips?) (is|has|looks|feels)|it's|it is|now|right now|today|"
                        r"tonight|since|started|getting worse|help me|please help)\b", re.IGNORECASE)


def _answers_content(intent: str) -> bool:
    """An intent answered from the content on the classifier's guess alone."""
    return (intent.startswith(ANSWER_PREFIX) and intent not in NOT_ANSWERS) or intent in GUESSED_ANSWERS


def _is_payload(text: str) -> bool:
    return (text or "").startswith("/")


def _topics_beside_signs(entities: List[Dict[str, Any]], topics: List[str]) -> List[str]:
    """``topics`` named apart from the emergency signs' words ("chest pain" names no pain
    topic of the treatment; "any risks" beside it does)."""
    signs = [(e["start"], e["end"]) for e in entities
             if e.get("entity") == EMERGENCY_SIGN_ENTITY and isinstance(e.get("start"), int)]
    apart = {e.get("value") for e in entities if e.get("entity") == TOPIC_ENTITY and isinstance(e.get("start"), int)
             and not any(start < e["end"] and e["start"] < end for start, end in signs)}
    return [t for t in topics if t in apart]


def after_safety_answer(tracker: DialogueStateTracker) -> bool:
    """The bot's last action was "see a doctor", urgent care or the emergency answer: the
    routing's answers, the emergency rule's, the hair-loss questions' "see a doctor"
    outcome, or a question flow this turn's safety check ended (slot ``flow_stopped``)."""
    previous = previous_action(tracker)
    return previous in (ACTION_RED_FLAG, ACTION_COMPLICATION, ACTION_EMERGENCY) or (
        previous == ACTION_TRIAGE_OUTCOME and tracker.get_slot("triage_outcome") in ("red_flag", "see_doctor")) or (
        bool(previous) and previous.endswith("_form") and tracker.get_slot("flow_stopped") in ("red_flag", "emergency"))


def asked_to_delete(tracker: DialogueStateTracker) -> bool:
    """The bot's last message before the visitor's latest one asked whether to delete the
    conversation (it has the button that deletes: ``/forget_me``), whichever action sent
    it (the confirmation, or a question flow asked to delete)."""
    said = next((e for e in _last_bot_turn(tracker) if isinstance(e, BotUttered)), None)
    buttons = ((said.data if said else None) or {}).get("buttons") or []
    return any(str(b.get("payload", "")).startswith(FORGET_PAYLOAD) for b in buttons)


def flow_ended(tracker: DialogueStateTracker) -> Optional[str]:
    """The action that ended a question flow, when it was the bot's last action
    (``FLOW_ENDS``); a screening stopped half-way is not ended (its answers are kept, and
    "can I have it?" resumes it)."""
    previous = previous_action(tracker)
    if previous not in FLOW_ENDS:
        return None
    if previous == ACTION_SCREENING_SUMMARY and any(
            tracker.get_slot(s) is not None for s in tracker.slots if s.startswith("sc_")):
        return None
    return previous


def answered_entry(tracker: DialogueStateTracker) -> Optional[str]:
    """The knowledge entry the bot's last action answered with (slot ``last_answer``),
    or None."""
    kind, _, entry_id = str(tracker.get_slot("last_answer") or "").partition(":")
    return entry_id if kind == "knowledge" and entry_id and previous_action(tracker) in ANSWER_ACTIONS else None


def _last_bot_turn(tracker: DialogueStateTracker) -> List[Any]:
    """The events between the visitor's two latest messages, latest first; none when the
    latest message is the first (actions/routing.py last_bot_turn reads rasa-sdk's)."""
    turn: List[Any] = []
    seen_message = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_message:
                return turn
            seen_message = True
        elif seen_message:
            turn.append(event)
    return turn


def previous_action(tracker: DialogueStateTracker) -> Optional[str]:
    """The bot's last action before the visitor's latest message (not listening)."""
    return next((e.action_name for e in _last_bot_turn(tracker)
                 if isinstance(e, ActionExecuted) and e.action_name != ACTION_LISTEN_NAME), None)


def choose_action(
    latest_action: Optional[str],
    active_loop: Optional[str],
    intent: Optional[str],
    confidence: float,
    entities: List[Dict[str, Any]],
    signals: Optional[Dict[str, Any]],
    text: str,
    high_stakes_confidence: float,
    answer_confidence: float = 0.0,
    weak_confidence: Optional[float] = None,
    after_answer: bool = False,
    after_red_flag: bool = False,
    after_delete_question: bool = False,
    after_treatment: bool = False,
    lead_follow_up: bool = False,
    after_flow: Optional[str] = None,
) -> Optional[str]:
    """The action this policy predicts, or None to leave the turn to the others.
    ``after_answer``: the bot's last action before this message answered a question;
    ``after_red_flag``: it was the "see a doctor" or the urgent-care answer;
    ``after_delete_question``: it asked whether to delete the conversation;
    ``after_treatment``: it answered on another treatment (PRP, minoxidil...);
    ``lead_follow_up``: it answered with a knowledge entry that has a line for the words
    of this message (``has_lead_for``); ``after_flow``: the question flow whose end it
    was (``FLOW_ENDS``), if any."""
    weak_confidence = answer_confidence if weak_confidence is None else weak_confidence
    # rosemary for a roast, castor oil for constipation: a home remedy's words name a hair
    # treatment only beside a word of hair, the scalp or a treatment
    if sig.HOME_REMEDIES in sig.mentioned(entities, sig.PROCEDURE_ENTITY) and not sig.names_hair_or_treatment(text):
        entities = [e for e in entities if not (e.get("entity") == sig.PROCEDURE_ENTITY and e.get("value") == sig.HOME_REMEDIES)]
    if active_loop:
        return None  # the form's validation handles safety and questions in a flow
    if latest_action in OWN_ACTIONS:
        return ACTION_LISTEN_NAME
    if latest_action == ACTION_CLAIM and intent != "ask_claim":
        return ACTION_LISTEN_NAME  # this policy sent it (the rules answer ask_claim themselves)
    if latest_action == UTTER_COMPLICATION:
        return ACTION_COMPLICATION
    if latest_action in (UTTER_OUT_OF_SCOPE, UTTER_NOT_A_PERSON):
        # the decline is the whole answer, whatever intent the classifier heard (without
        # this a decline this policy chose for a weak "talk to a person" guess was
        # followed by the core fallback's "did you mean ...?")
        return ACTION_LISTEN_NAME
    if latest_action != ACTION_LISTEN_NAME or intent is None:
        return None
    # "are you sure it's deleted?" to "do you want me to delete ...?": nothing is deleted
    # until the visitor says so; the question again, not a guess at a topic
    if after_delete_question and intent not in ("affirm", "deny", "forget_me", "stop") and _ABOUT_DELETING.search(text):
        return ACTION_CONFIRM_FORGET
    # "ok what should i do" right after "see a doctor": the next step again, not a decline
    # (a new sign in it is routed below, as any)
    if after_red_flag and sig.asks_next_step(text) and intent not in ("emergency", "report_complication"):
        return ACTION_RED_FLAG
    # "i'm scared" taken for a "no", "I don't know" or "stop" outside a questionnaire:
    # not "all right, anything else?" but who can help now (the statement's answer)
    # (a fear with a topic named is that topic's question: "im scared of needles" is
    # whether it hurts, answered below)
    worried = intent in ("deny", "dont_know", "stop") and bool((signals or {}).get("worried"))
    if worried and not sig.topics(entities, text):
        return ACTION_STATEMENT

    payload = _is_payload(text)
    asked = sig.asked(text)
    topics = sig.topics(entities, text)  # what the message asks about (signals.topics)
    # (nor is a sign told as history: "I fainted once at a blood test when I was 15",
    # "chest pain last year, turned out to be heartburn"; a topic asked with it is
    # answered, however sure the guess: "... all tests normal. does mesotherapy have any
    # risks for the heart?", "fainted once at the GP. does PRP hurt a lot?")
    told_as_past = intent == "emergency" and not payload and sig.alarm_told_as_past(entities, text)
    if told_as_past and _topics_beside_signs(entities, topics):
        return ACTION_TOPIC
    # "honestly i just feel really low about all this" taken, however sure, for an
    # emergency: low mood and no sign (thoughts of suicide are the override's crisis
    # answer, with its own entities): the answer naming the GP and the crisis line
    if intent in ("emergency", "report_complication") and not payload and sig.low_mood_only(entities, text):
        return ACTION_TOPIC
    if intent == "emergency" and (confidence >= high_stakes_confidence or payload):
        if not payload and (guessed_alarm(entities, text) or denied_alarm(entities, text) or told_as_past):
            # "could I have an allergic reaction?": a question about what could happen,
            # with no sign named, is no emergency; which topic was meant is asked
            return ACTION_CLARIFY
        return None  # the rules answer at once
    # a dog's or a cat's coat ("my dog is losing fur in patches"): not a person's hair
    # loss, so neither the hair-loss answers nor "see a doctor", but a vet
    # (Analyser.about_animal; an emergency sign was answered above)
    if not payload and (signals or {}).get("about_animal"):
        return UTTER_NOT_A_PERSON
    if not payload:
        route, reasons = sig.safety_route(entities, signals, text)
        # "small lumps after lip filler", "pus where I had my flu shot": the doctor who
        # did it, and the signs that cannot wait (action_other_treatment), not a scalp
        # infection nor the report of a reaction to the clinic's injections
        if sig.signs_after_treatment_elsewhere(entities, route, reasons, text):
            return ACTION_OTHER_TREATMENT
        if route == sig.COMPLICATION:
            return None if intent == "report_complication" else UTTER_COMPLICATION
        # "microneedling for acne scars": scars of the face, not a scarring hair loss
        if route == sig.RED_FLAG and sig.treated_elsewhere(text) and not sig.about_losing_hair(entities, text):
            return UTTER_OUT_OF_SCOPE
        if route == sig.RED_FLAG:
            return ACTION_RED_FLAG
        # "so can I have it or not? just tell me yes or no" right after the screening's
        # summary (taken for "can I have it?" or, unsure, for a "yes"): the doctor decides; not
        # the questions again, nor the consultation's "yes". "So what now?" after any flow's
        # end: its next step, not a decline
        if after_flow == ACTION_SCREENING_SUMMARY and not payload and asked and not topics and (
                intent in ("check_eligibility", "ask_contraindications")
                or (intent in ("affirm", "deny") and confidence < answer_confidence)):
            return ACTION_FLOW_NEXT_STEP
        if after_flow and not after_red_flag and not payload and sig.asks_next_step(text) and intent not in (
                "emergency", "report_complication"):
            return ACTION_FLOW_NEXT_STEP
        # "and the gym?", "what about alcohol?" right after the aftercare answer: its line on
        # that, not a guess at the two words alone
        # (after PRP's answer, "does it hurt?" gets PRP's line on pain: the topic is
        # mesotherapy's own only in words)
        if lead_follow_up and (not topics or (after_treatment and set(topics) <= MESO_TOPICS)) and (
                sig.follow_up_shape(text) or len(text.split()) <= SHORT_FOLLOW_UP_WORDS):
            return ACTION_TOPIC
        # PRP on the face, a knee injection: a treatment elsewhere on the body (not a
        # medicine's effect on the body: "oral minox making my ankles swell")
        if sig.treated_elsewhere(text) and not set(topics) & sig.MEDICINE_TOPICS and (
                intent not in NOT_GUARDED_INTENTS or (asked and intent in WEAKLY_GUARDED_INTENTS)):
            return UTTER_OUT_OF_SCOPE
        # "can I use minoxidil with mesotherapy?", "mesotherapy after my transplant?": the
        # sources say nothing on combining them; neither treatment's card answers that
        if asked and sig.combined_with(entities, text):
            return ACTION_OTHER_TREATMENT
        # "is mesotherapy better than PRP?", "meso or minoxidil?": both sides, and whether
        # a trial compared them (knowledge.yml comparisons), not one side's card
        if sig.compared(entities, text, comparison_sides()):
            return ACTION_COMPARE
        # "I'm a student and lost hair from exam stress. How much does meso cost per
        # session?": the price, not the story's topic (the clinic's answer on prices)
        # (not beside a sign of hair loss that needs a doctor, even one a named cause
        # explains: "... losing handfuls every morning since covid. how much does a session
        # cost?" gets the cause's answer, which says when to see a doctor)
        if intent not in PRICE_KEEPS and sig.asks_price(entities, text) and not sig.not_negated(
                entities, sig.RED_FLAG_ENTITY):
            return ACTION_PRICE
        # "he's been on finasteride for 5 years. How much does a course cost?": the
        # price asked, not the story's medicine (the rule's price answer)
        if intent == "ask_price" and sig.asks_price(entities, text) and not sig.not_negated(
                entities, sig.RED_FLAG_ENTITY):
            return None
        # a message that names a topic or a treatment of the terminology is about it,
        # whatever words surround the term (not "iron", "volume", "flu": too general)
        in_domain = (signals or {}).get("in_domain", True) or bool(
            topics or sig.affirmed(entities, sig.PROCEDURE_ENTITY))
        # "how far apart?", "what about aspirin", "so should I do it or not" right after an
        # answer: a follow-up that leans on it, whatever words it lacks; which question
        # was meant is asked rather than declined
        if after_answer and (signals or {}).get("follow_up") and not topics and not sig.treated_elsewhere(text) and (
                not in_domain and intent not in FOLLOW_UP_KEEPS or intent == "out_of_scope"):
            return ACTION_CLARIFY
        if not in_domain and intent not in NOT_GUARDED_INTENTS:
            return UTTER_OUT_OF_SCOPE
        weak = confidence < high_stakes_confidence
        if not in_domain and intent in WEAKLY_GUARDED_INTENTS and asked and weak and intent != "out_of_scope":
            return UTTER_OUT_OF_SCOPE
    # "does it hurt?", "what about for women?" right after the answer on PRP or minoxidil:
    # that treatment or mesotherapy? Asked, not answered with mesotherapy's facts
    if after_treatment and not payload and sig.names_no_treatment(entities, text) and (
            set(topics) & MESO_TOPICS or (intent in MESO_INTENTS and not topics)):
        return ACTION_WHICH_TREATMENT
    # a sure "out of scope" keeps a topic named in passing from answering ("how do I
    # beat stress at work?"), but not a treatment named by name ("can my husband use
    # Rogaine while I'm pregnant?")
    # or a cause of hair loss named beside hair loss ("is it normal to lose your hair
    # on a vegan diet?")
    named_topics = set(sig.affirmed(entities, TOPIC_ENTITY))
    uncovered = sig.other_treatment(entities) in uncovered_hair_treatments() and not sig.treated_elsewhere(text)
    sure_out_of_scope = (
        intent == "out_of_scope" and confidence >= high_stakes_confidence
        and not uncovered  # ("is a laser comb any good?": a hair treatment the sources do not cover)
        # ("PRP for tennis elbow": a treatment named for another part of the body)
        and not (named_topics & TREATMENT_TOPICS and (not sig.treated_elsewhere(text) or named_topics & sig.MEDICINE_TOPICS))
        and not (named_topics & CAUSE_TOPICS and sig.losing_hair(entities, text))
        # "can I drink alcohol after my session tonight?": the time after a session
        and not (named_topics and (signals or {}).get("injection_context") and not sig.other_treatment(entities))
        # "women?", "and for men?": who can have it, asked alone
        and not sig.men_or_women_alone(text)
        # "I have a cold, should I cancel tomorrow?": a condition and the treatment
        and not sig.asks_if_condition_matters(entities, text)
        # "can I return to normal activities right away?": a question about the time
        # after a session, in words that are that topic's own phrase
        # (the topics asked: "Accutane's serious side effects" are not the injections')
        and not (set(topics) & SESSION_AFTER_TOPICS and not sig.treated_elsewhere(text)
                 and not sig.other_treatment(entities))
    )
    # "does it protect from stress?" asks about an advertised claim, not about stress
    # "when does postpartum hair loss stop?" names a cause, not the treatment: the
    # cause's answer, not the claim that mesotherapy stops hair loss
    # ("does it protect my hair from stress?" asks about the treatment: the claim)
    about_a_cause = (
        bool(set(sig.affirmed(entities, TOPIC_ENTITY)) & CAUSE_TOPICS)
        and sig.MESOTHERAPY not in sig.mentioned(entities, sig.PROCEDURE_ENTITY)
        and not sig.points_at_treatment(text)
    )
    claim_asked = intent == "ask_claim" and bool(sig.affirmed(entities, "claim_topic")) and not about_a_cause and not (
        uncovered) and not (  # ("does red light therapy regrow hair?" is not mesotherapy's claim)
        # ("does finasteride really regrow hair?": finasteride's question, not mesotherapy's claim)
        set(topics) & sig.OTHER_TREATMENT_TOPICS and sig.MESOTHERAPY not in sig.mentioned(entities, sig.PROCEDURE_ENTITY)
    ) and not (
        # "does meso work for thinning from stress?", unsure: the cause's answer says what is
        # known of mesotherapy for it
        set(topics) & CAUSE_TOPICS and confidence < answer_confidence)
    # a complication guessed with no sign of one named (no pus, spreading redness,
    # fever...: those were routed above) while the message names an aftercare topic
    # ("a bit sore after the session"): the topic's answer, which says when to get
    # care, serves better than urgent care on the classifier's word, however sure
    weak_complication = intent == "report_complication" and (
        confidence < high_stakes_confidence or not sig.not_negated(entities, sig.COMPLICATION_ENTITY)
    )
    # a question about another treatment that would get mesotherapy's answer
    if not payload and not claim_asked and sig.other_treatment(entities) and not sig.remedy_told_in_story(entities, text):
        who = set(sig.mentioned(entities, TOPIC_ENTITY)) & sig.WHO_CAN_HAVE_TOPICS
        if who or (set(topics) <= MESO_TOPICS and (topics or intent in MESO_INTENTS)):
            return ACTION_OTHER_TREATMENT
        # "do laser caps work?", "is a laser comb any good": a hair treatment the sources
        # say nothing about, asked whether it works, gets "my sources say nothing about
        # it" and the treatments with evidence, not their list as if it answered
        # (or asked as a story or a statement: "castor oil on my scalp - any good?")
        if not topics and uncovered and (intent in ("ask_alternatives", "ask_claim", "out_of_scope", "nlu_fallback") or (
                intent in ("inform", "describe_hair_loss") and asked and sig.treatment_asked(entities, text))):
            return ACTION_OTHER_TREATMENT
        # the weeks after another treatment (recovery, scabs, redness, results) are that
        # treatment's question: not what DHI is, not the hair-loss questions
        if intent not in NOT_TOPIC_INTENTS and not topics and sig.after_other_procedure(entities, text):
            return ACTION_OTHER_TREATMENT
        # (DHI itself named: its entry, which says what DHI is and that it is surgery,
        # is about the question asked)
        # (a transplant asked about for someone: an age, a condition, "is it possible":
        # who can have one, not what DHI is)
        if intent == "ask_dhi" and not topics and (
                _TRANSPLANT_ASPECT.search(text or "") or sig.asks_candidacy(entities, text)) and (
                sig.DHI not in sig.affirmed(entities, sig.PROCEDURE_ENTITY)):
            return ACTION_OTHER_TREATMENT
        # the same question taken for mesotherapy's own "can I have it?", for a story of
        # hair loss when the sentence that asks is the candidacy question, or a guess too
        # weak to act on ("is hair transplantation possible at 25?" at 0.7 for prices):
        # who can have that treatment. A sure guess otherwise keeps its answer ("how much
        # does a second transplant cost?", "I'm 25 and losing hair fast, what are my options?")
        unsure_guess = _answers_content(intent) and confidence < answer_confidence
        story_asking = intent == "describe_hair_loss" and sig.asks_candidacy_in_question(entities, text)
        if asked and not topics and (unsure_guess or story_asking or intent == "check_eligibility") and (
                sig.asks_candidacy(entities, text)) and sig.DHI not in sig.affirmed(entities, sig.PROCEDURE_ENTITY):
            return ACTION_OTHER_TREATMENT
    # "will I need time off work?" taken for a goodbye: a question that names a topic
    # is the question, whatever small talk the classifier heard in it
    # (and "do I need to stop?" outside a questionnaire: the policy stays out of forms)
    small_talk_question = intent in SMALL_TALK | {"stop"} and asked
    # "i have high blood pressure, can i have the injections?" taken for the screening
    # questions, none of which asks about it: who should not have it, and "tell the doctor"
    unlisted = intent == "check_eligibility" and topics == [sig.CONTRAINDICATIONS] and sig.UNLISTED_CONDITION in (
        sig.affirmed(entities, "condition"))
    # "im 17 can i get it": the age is the question (who should not have it says what is
    # known of age, and that a teenager's hair loss needs a doctor first), before any
    # screening questions, none of which asks it
    aged = intent == "check_eligibility" and topics == [sig.CONTRAINDICATIONS] and sig.asks_with_an_age(entities, text)
    # "can I have mesotherapy for postpartum hair loss?": the cause is the question (its
    # answer says what helps and when to see a doctor), not the screening questions
    # (a cause of shedding named with no word of hair: "i get panic attacks, is it for
    # me?" asks who can have it, which the screening questions take up)
    for_a_cause = intent == "check_eligibility" and bool(set(topics) & CAUSE_TOPICS) and sig.about_losing_hair(entities, text)
    # "I hate needles, is it for me?": a topic the screening questions do not ask about
    # (whether it hurts, time off work) is the question, answered before any screening
    other_topic = intent == "check_eligibility" and bool(set(topics) & PRACTICAL_TOPICS) and sig.CONTRAINDICATIONS not in topics
    # "when can i go back to the gym" taken, unsure, for a booking request: the topic asked
    # ("when can I go back to work and the gym?" taken, sure, for a booking request: no
    # word of booking in it, so the topic asked)
    weak_booking = intent == "book_consultation" and asked and (
        confidence < high_stakes_confidence or not BOOKING_CUES.search(text or ""))
    # "I had my session an hour ago and can't wash my hair until tomorrow, right?" taken,
    # unsure, for an emergency: no sign and no word of anything wrong with the body (the
    # override has already answered every emergency sign), so the topic asked
    weak_emergency = intent == "emergency" and confidence < high_stakes_confidence and no_symptom_told(entities, text)
    topical = (intent not in NOT_TOPIC_INTENTS or weak_complication or small_talk_question or unlisted or for_a_cause or aged
               or other_topic or worried or weak_booking or weak_emergency)
    if intent == "ask_contraindications" and topics == [sig.CONTRAINDICATIONS] and (
            sig.CONTRAINDICATIONS not in sig.mentioned(entities, TOPIC_ENTITY)):
        # "I'm pregnant, can I have it?": the rule's answer speaks of the condition named
        # (knowledge.yml variants), which the topic's general list would not
        return None
    if topical and not sure_out_of_scope and not claim_asked and topics:
        return ACTION_TOPIC
    if payload:
        return None
    # "My hairline is going back at the temples. Would mesotherapy stop this?": the story's
    # question (the evidence on the treatment) before the hair-loss questions, which the
    # answer offers (claims.yml, messages.yml claim_follow_up)
    if intent == "describe_hair_loss" and sig.asks_if_treatment_helps(entities, text):
        return ACTION_CLAIM
    # "should I do mesotherapy for hair?" taken for the screening questions, with no
    # condition named: whether it is worth having is the evidence's question
    if intent == "check_eligibility" and GENERAL_EFFICACY in sig.affirmed(entities, CLAIM_ENTITY) and not (
            sig.affirmed(entities, "condition")):
        return ACTION_CLAIM
    # "can mesotherapy help him?" taken, unsure, for "what can you do?": mesotherapy is
    # named and asked about, so whether it works is the question
    if intent == "ask_capabilities" and confidence < answer_confidence and asked and (
            sig.MESOTHERAPY in sig.affirmed(entities, sig.PROCEDURE_ENTITY)):
        return ACTION_CLAIM
    # "how can I get out of a gym contract?" taken for "let me talk to a person": the
    # handoff, the clinic's address or hours are asked with words for them
    if intent == "human_handoff" and not HANDOFF_CUES.search(text or ""):
        return ACTION_CLARIFY if topics or sig.about_losing_hair(entities, text) else UTTER_OUT_OF_SCOPE
    # a question taken for a statement ("can I microneedle a wet scalp?" as "inform"):
    # without a condition or a hair problem in it, "all right, anything else?" would
    # answer nothing; which topic was meant is asked
    if intent == "inform" and asked and not (
            sig.affirmed(entities, "condition") or sig.affirmed(entities, "hair_problem")):
        return ACTION_CLARIFY
    # "my wife is pregnant, is it ok for me to have meso?" taken, unsure, for a question
    # outside the domain: mesotherapy is named and asked about, so which topic was meant
    # is asked rather than declined
    if (intent == "out_of_scope" and confidence < high_stakes_confidence and asked
            and sig.MESOTHERAPY in sig.affirmed(entities, sig.PROCEDURE_ENTITY) and not sig.treated_elsewhere(text)):
        return ACTION_CLARIFY
    # a question about an advertised benefit ("would it reduce the sebum?") that the
    # classifier could not place: the claim's evidence answers it, not a guess
    unsure = intent == FALLBACK or (
        intent == "report_complication" and confidence < high_stakes_confidence
    ) or (_answers_content(intent) and confidence < weak_confidence)
    # (not for another treatment: "how often should you use a dermaroller for hair
    # growth?" asks about microneedling, not about mesotherapy's claims)
    if unsure and asked and sig.affirmed(entities, CLAIM_ENTITY) and not sig.other_treatment(entities):
        return ACTION_CLAIM
    if intent == "forget_me":
        return ACTION_CONFIRM_FORGET
    if intent == FALLBACK or (intent in HIGH_STAKES_INTENTS and confidence < high_stakes_confidence):
        return ACTION_CLARIFY
    if intent == "report_complication" and (guessed_alarm(entities, text) or no_symptom_told(entities, text)):
        return ACTION_CLARIFY
    # a bare guess: below answer_confidence unless the message names mesotherapy and the
    # guess is one of its own facts ("what is mesotherapy for hair loss?" at 0.7), or the
    # topic recogniser, a second classifier on other features, reads the same intent
    # (``second_opinion``, components/topic_classifier.py)
    # in a message that speaks of hair or a treatment (not "how does small claims court work?")
    backed = (intent in MESO_INTENTS and sig.MESOTHERAPY in sig.affirmed(entities, sig.PROCEDURE_ENTITY)) or (
        (signals or {}).get(sig.SECOND_OPINION) == intent and sig.names_hair_or_treatment(text))
    if _answers_content(intent) and confidence < (weak_confidence if backed else answer_confidence):
        return ACTION_CLARIFY
    # a question about one's hair that names neither the treatment nor anything of it
    # ("how much hair falling out is normal?", "when will my hair start growing?"),
    # taken for a question on mesotherapy's own facts: ask which was meant
    if intent in TREATMENT_FACT_INTENTS and asked and sig.about_own_hair_only(entities, text):
        return ACTION_CLARIFY
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class SafetyRoutingPolicy(Policy):
    """See the module docstring."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # RulePolicy has priority 6; ties at confidence 1.0 go to the higher priority.
        return {"priority": 7, "high_stakes_confidence": 0.8, "answer_confidence": 0.9, "weak_confidence": 0.6}

    def __init__(self, config: Dict[Text, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__({**self.get_default_config(), **config}, *args, **kwargs)
        self.high_stakes_confidence = float(self.config["high_stakes_confidence"])
        self.answer_confidence = float(self.config["answer_confidence"])
        self.weak_confidence = float(self.config["weak_confidence"])

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "settings.txt").write_text(f"high_stakes_confidence={self.high_stakes_confidence}\n")
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        message = tracker.latest_message
        parse = (message.parse_data if message else None) or {}
        intent = (message.intent or {}).get("name") if message else None
        entry = answered_entry(tracker)
        action = choose_action(
            latest_action=tracker.latest_action_name,
            active_loop=tracker.active_loop_name,
            intent=intent,
            confidence=float((message.intent or {}).get("confidence") or 0.0) if message else 0.0,
            entities=list(message.entities or []) if message else [],
            signals=parse.get(sig.SIGNALS),
            text=(message.text or "") if message else "",
            high_stakes_confidence=self.high_stakes_confidence,
            answer_confidence=self.answer_confidence,
            weak_confidence=self.weak_confidence,
            after_answer=previous_action(tracker) in ANSWER_ACTIONS,
            after_red_flag=after_safety_answer(tracker),
            after_delete_question=asked_to_delete(tracker),
            after_treatment=entry in treatment_entries(),
            after_flow=flow_ended(tracker),
            lead_follow_up=entry is not None and has_lead_for(entry, (message.text or "") if message else ""),
        )
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(self._default_predictions(domain))
        return self._prediction(confidence_scores_for(action, 1.0, domain))
