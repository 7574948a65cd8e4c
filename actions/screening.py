"""Contraindication screening: one question per item of data/content/screening.yml."""
from __future__ import annotations

import re

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from actions.common import (
    CONTRAINDICATION_REPORTED,
    contains_phrase,
    latest_text,
    plain_answer,
    DOCTOR_CHECK,
    NONE_REPORTED,
    STOPPED_EMERGENCY,
    STOPPED_FORGET,
    UNSURE,
    YES,
    answers_kept,
    fill_in,
    join_words,
    latest_entities,
    mention_answer,
    positive_values,
    record,
    say,
    user_entities_since_session_start,
    yes_no_unsure,
    store,
)
from actions.forms import GuidedFormValidation, offer_not_keeping, reset_events

FORM = "screening_form"


def _answers_from_mentions(entities: List[Dict[str, Any]]) -> Dict[str, str]:
    values: Dict[str, str] = {}
    for slot, item in content.screening_items().items():
        answer = None
        for e in entities:  # the latest mention wins
            a = mention_answer([e], "condition", item["condition"])
            answer = a or answer
        if answer:
            values[slot] = answer
    return values


class ValidateScreeningForm(GuidedFormValidation):
    form_name = FORM

    def name(self) -> Text:
        return "validate_screening_form"

    def prefill(self, tracker, domain):
        return _answers_from_mentions(user_entities_since_session_start(tracker))

    def unclear_value(self, requested):
        return UNSURE

    def extract(self, tracker, requested, domain):
        entities = latest_entities(tracker)
        values = _answers_from_mentions(entities)
        item = content.screening_items().get(requested or "")
        mentioned = positive_values(entities, "condition") + [
            e.get("value") for e in entities if e.get("entity") == "condition" and e.get("role")
        ]
        # another question's condition named ("no, but I'm breastfeeding"); a condition
        # outside the questions ("no, but I have a pacemaker") leaves the answer as given
        screened = {i["condition"] for i in content.screening_items().values()}
        mentioned = [c for c in mentioned if c in screened]
        other_topic = mentioned and item and item["condition"] not in mentioned
        text = latest_text(tracker)
        typed = next((value for value, words in content.typed_answers(requested).items()
                      if contains_phrase(text, words)), None) if requested else None
        if requested and requested not in values and typed:
            values[requested] = typed  # "im a guy lol" to the pregnancy question
        elif requested and requested not in values and not other_topic:
            answer = yes_no_unsure(tracker)
            if answer == YES and item and _I_HAVE.match(text) and _tells_something_else(entities, item["condition"]):
                # "i have a fever and a stiff neck" to the tumour question: not a yes to
                # it (a sign of now is answered by the safety checks; the question comes again)
                answer = None
            if answer:
                values[requested] = answer
        elif requested and requested not in values and plain_answer(re.split(r"[,;.]", text)[0]) == UNSURE:
            # "not sure, my period is late": not sure of the question asked, and the other
            # question's condition noted as well
            values[requested] = UNSURE
        for slot in content.screening_items():
            # "im a guy" answers the questions on breastfeeding and periods that are still to come
            if slot != requested and slot not in values and tracker.get_slot(slot) is None:
                told = next((value for value, words in content.typed_answers(slot).items()
                             if contains_phrase(text, words)), None)
                if told:
                    values[slot] = told
        return values


# What a "yes" typed to one screening question may name without being about something
# else: the question's own condition, or nothing at all ("yes I am", "i have").
_OTHER_THINGS = {"red_flag", "emergency_sign", "complication_sign", "topic", "hair_problem"}
# A "yes" read from "i have ..." / "i am ..." rather than a word of yes ("yes, and my hair
# is falling out" stays a yes).
_I_HAVE = re.compile(r"^\W*(i have|i've|ive|i am|i'm|im|i do|i did|i got|i've got)\b", re.IGNORECASE)


def _tells_something_else(entities: List[Dict[str, Any]], condition: str) -> bool:
    """The message names something other than ``condition`` (a sign, a topic, another
    health condition) and not ``condition`` itself."""
    named = {e.get("value") for e in entities if e.get("entity") == "condition"}
    if condition in named:
        return False
    return bool(named) or any(e.get("entity") in _OTHER_THINGS for e in entities)


def screening_outcome(answers: Dict[str, Optional[str]]) -> Tuple[str, List[str], List[str]]:
    """(outcome, items answered yes, items answered unsure), in question order."""
    items = content.screening_items()
    yes = [s for s in items if answers.get(s) == YES]
    unsure = [s for s in items if answers.get(s) == UNSURE]
    outcome = CONTRAINDICATION_REPORTED if yes else DOCTOR_CHECK if unsure else NONE_REPORTED
    return outcome, yes, unsure


class ActionScreeningSummary(Action):
    """Tells the visitor what came up, stores the answers, and offers a consultation."""

    def name(self) -> Text:
        return "action_screening_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]):
        items = content.screening_items()
        answers = {s: tracker.get_slot(s) for s in items}
        stopped = tracker.get_slot("flow_stopped")
        if stopped == STOPPED_FORGET:
            # not saved; kept in the conversation so that "No, keep it" can resume them
            # ("Yes, delete" restarts the conversation: actions/safety.py ActionForgetMe)
            return reset_events(domain, FORM, keep=True)
        outcome, yes, unsure = screening_outcome(answers)
        given = {k: v for k, v in answers.items() if v}
        if (given or not stopped) and answers_kept(tracker):
            await record(
                store().save_screening, tracker.sender_id, given, outcome, yes + unsure, not stopped
            )
        if stopped == STOPPED_EMERGENCY:
            return reset_events(domain, FORM, keep=True)
        if stopped:
            say(dispatcher, "screening_stopped" if answers_kept(tracker) else "screening_stopped_not_kept")
            return reset_events(domain, FORM, keep=True)
        if yes:
            advice = "; ".join(items[s]["advice"] for s in yes)
            say(
                dispatcher,
                "screening_flagged",
                items=join_words([items[s]["label"] for s in yes]),
                advice=advice[0].upper() + advice[1:],
            )
        if unsure:
            say(dispatcher, "screening_unsure", items=join_words([items[s]["label"] for s in unsure]))
        if not yes and not unsure:
            say(dispatcher, "screening_none")
        return reset_events(domain, FORM) + [SlotSet("screening_outcome", outcome)]


def remaining_questions(tracker: Tracker) -> int:
    """How many screening questions are still to ask: not answered before (a stopped
    screening keeps its answers) and not already said in this session."""
    known = _answers_from_mentions(user_entities_since_session_start(tracker))
    return sum(1 for s in content.screening_items() if tracker.get_slot(s) is None and s not in known)


def _count(n: int) -> str:
    words = fill_in("question_count")
    return words["one"] if n == 1 else words["many"].format(n=n)


class ActionScreeningIntro(Action):
    """Opens the screening, saying how many questions there are, or how many are left
    when the visitor resumes a stopped one; then hands over to the form."""

    def name(self) -> Text:
        return "action_screening_intro"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]):
        left = remaining_questions(tracker)
        # "carry on where we stopped" only when a stopped screening kept answers; what the
        # visitor said in this session ("I get cold sores, does that matter?") only
        # shortens the count
        resumed = any(tracker.get_slot(s) is not None for s in content.screening_items())
        if left and resumed:
            say(dispatcher, "screening_intro_resume", questions=_count(left))
        elif left:
            say(dispatcher, "screening_intro", questions=_count(left))
        if left:
            offer_not_keeping(dispatcher, tracker)
        return [FollowupAction(FORM)]
