"""Where the conversation goes outside the question flows, once the classifier's
guess is acted on: a statement of fact ("I'm breastfeeding"), a plain yes / no, and
"what can you do?" from someone who names their own hair problem.

The answers chosen before the classifier's guess are in ``actions/routing.py``;
emergencies and the other safety answers in ``actions/safety.py``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    LIKELY_AGA,
    UNCLEAR,
    is_button_payload,
    latest_entities,
    latest_intent,
    latest_text,
    positive_values,
    say,
)
from actions import content
from actions.knowledge import answer_knowledge
from actions.routing import previous_bot_action
from components import signals as sig


class ActionCapabilities(Action):
    """Before the list of what the assistant can do (``utter_capabilities``, next in the
    rule): a visitor who names their own hair problem while asking ("what kind of hair
    loss do I have? can you ask me some questions?") is served by the hair-loss
    questions, so those start at once instead (they can say "stop")."""

    def name(self) -> Text:
        return "action_capabilities"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        if positive_values(latest_entities(tracker), "hair_problem"):
            return [FollowupAction("action_triage_intro")]
        return []


def answered_worry(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """"i'm scared", taken for a statement or an answer: not "all right, anything else?"
    but who can help now (messages.yml ``worried_statement``). True when said."""
    if not (tracker.latest_message.get(sig.SIGNALS) or {}).get("worried"):
        return False  # (meso_signals.worried: terminology worry_words, not denied)
    say(dispatcher, "worried_statement")
    return True


class ActionRespondToStatement(Action):
    """A statement outside any question flow ("I'm breastfeeding", "my hair is thinning")."""

    def name(self) -> Text:
        return "action_respond_to_statement"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        entities = latest_entities(tracker)
        if answers_offered_questions(tracker):
            return [FollowupAction(FLOW_STARTS[TRIAGE_START])]
        if positive_values(entities, "condition"):
            events = answer_knowledge(dispatcher, tracker, intent="ask_contraindications")
            if not sig.told_after_session(latest_text(tracker)):  # (after a session: what to do now, said)
                say(dispatcher, "offer_screening")
            return events
        if positive_values(entities, "hair_problem"):
            say(dispatcher, "offer_triage")
            return []
        if sig.told_after_session(latest_text(tracker)) and not answered_worry(dispatcher, tracker):
            # "i had mesotherapy 3 days ago": what the days after a session may bring up
            say(dispatcher, "after_session_prompt", buttons=content.buttons_for(["aftercare", "side_effects"]) + [
                {"title": content.intent_titles()["report_complication"], "payload": "/report_complication"}])
            return []
        if not answered_worry(dispatcher, tracker):
            say(dispatcher, "anything_else")
        return []


# Buttons that start a question flow, and the action that starts it (an intro
# action hands over to its form itself).
FLOW_STARTS = {
    "/check_eligibility": "action_screening_intro",
    "/describe_hair_loss": "action_triage_intro",
    "/book_consultation": "consultation_form",
    "/forget_me": "action_forget_me",  # "yes" to "delete this conversation?" deletes it
}


TRIAGE_START = "/describe_hair_loss"


def answers_offered_questions(tracker: Tracker) -> Optional[str]:
    """"all over" to "would you like me to ask a few questions about your hair loss?": an
    answer to them, so they start (filled with it), not "anything else?". The flow's
    button payload, or None."""
    if offered_flow(tracker) != TRIAGE_START or is_button_payload(latest_text(tracker)):
        return None
    from actions.triage import typed_answers  # (actions.triage imports the flows' shared modules)

    return TRIAGE_START if typed_answers(latest_text(tracker)) else None


def offered_flow(tracker: Tracker) -> Optional[str]:
    """The flow the assistant's last message offered, if it offered exactly one."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            payloads = [b.get("payload") for b in (event.get("data") or {}).get("buttons") or []]
            flows = [p for p in payloads if p in FLOW_STARTS]
            return flows[0] if len(flows) == 1 else None
    return None


class ActionHandleAnswer(Action):
    """Yes / no / not sure outside a question flow.

    "Yes" to a message that offered one flow (a "Yes, check for me" or "Request a
    consultation" button) starts that flow; anything else gets "anything else?".
    """

    def name(self) -> Text:
        return "action_handle_answer"

    async def run(self, dispatcher, tracker, domain):
        offered = offered_flow(tracker)
        flow = offered if latest_intent(tracker) == "affirm" else answers_offered_questions(tracker)
        if flow is None:
            if not answered_worry(dispatcher, tracker):
                say(dispatcher, "anything_else")
            return []
        return [FollowupAction(FLOW_STARTS[flow])]


# The next step after each question flow's end, by the action that ended it (and, for the
# hair-loss questions, their outcome): messages.yml keys.
FLOW_NEXT_STEPS = {
    "action_screening_summary": "screening_doctor_decides",
    "action_consultation_submit": "next_step_consultation",
}
TRIAGE_NEXT_STEPS = {LIKELY_AGA: "next_step_likely_aga", UNCLEAR: "triage_unclear"}


class ActionFlowNextStep(Action):
    """"So what now?" or "so can I have it or not?" right after a question flow ended (the
    routing policy decides): that flow's next step, not the questions again, a consultation
    started on a "yes" in the question, or a decline."""

    def name(self) -> Text:
        return "action_flow_next_step"

    async def run(self, dispatcher, tracker, domain):
        previous = previous_bot_action(tracker)
        key = FLOW_NEXT_STEPS.get(previous or "")
        if previous == "action_triage_outcome":
            key = TRIAGE_NEXT_STEPS.get(tracker.get_slot("triage_outcome") or "", "triage_unclear")
        say(dispatcher, key or "screening_doctor_decides")
        return []
