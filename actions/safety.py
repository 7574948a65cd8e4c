"""Safety and scope: emergencies, complications, requests for a diagnosis, the
human route, prices, deleting the visitor's data, and statements of fact."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_entities, latest_intent, positive_values, record, say, store
from actions.knowledge import answer_knowledge

SAFETY_RESPONSES = {"emergency": "emergency", "complication": "complication"}  # domain utter_<kind>


async def escalate(
    dispatcher: CollectingDispatcher, tracker: Tracker, kind: str, with_fixed_answer: bool = True
) -> None:
    """Sends the emergency or urgent-care answer at once, then records that it happened.

    Outside the question flows the rules send the fixed answer first (it needs no
    action server); then only the clinic's local numbers are added here.
    """
    if with_fixed_answer:
        dispatcher.utter_message(response=f"utter_{SAFETY_RESPONSES[kind]}")
    say(dispatcher, f"{SAFETY_RESPONSES[kind]}_local")
    await record(store().log_safety_event, tracker.sender_id, kind, latest_intent(tracker) or "")


class ActionEmergency(Action):
    def name(self) -> Text:
        return "action_emergency"

    async def run(self, dispatcher, tracker, domain):
        await escalate(dispatcher, tracker, "emergency", with_fixed_answer=False)
        return []


class ActionReportComplication(Action):
    def name(self) -> Text:
        return "action_report_complication"

    async def run(self, dispatcher, tracker, domain):
        await escalate(dispatcher, tracker, "complication", with_fixed_answer=False)
        return []


class ActionDeclineMedicalAdvice(Action):
    def name(self) -> Text:
        return "action_decline_medical_advice"

    async def run(self, dispatcher, tracker, domain):
        say(dispatcher, "decline_medical_advice")
        await record(store().log_safety_event, tracker.sender_id, "medical_advice_declined", "")
        return []


class ActionHumanHandoff(Action):
    def name(self) -> Text:
        return "action_human_handoff"

    async def run(self, dispatcher, tracker, domain):
        say(dispatcher, "handoff")
        await record(store().log_safety_event, tracker.sender_id, "human_handoff", "")
        return []


class ActionPriceInfo(Action):
    def name(self) -> Text:
        return "action_price_info"

    async def run(self, dispatcher, tracker, domain):
        say(dispatcher, "price")
        return []


class ActionForgetMe(Action):
    """Deletes the visitor's records and conversation ("forget me").

    The clinic records go here; the conversation log itself is purged by the
    tracker store when it sees ``utter_forget_me_done`` (records/tracker_store.py).
    """

    def name(self) -> Text:
        return "action_forget_me"

    async def run(self, dispatcher, tracker, domain):
        result = await record(store().forget_sender, tracker.sender_id)
        if result is None:
            say(dispatcher, "forget_me_failed")
            return []
        say(dispatcher, "forget_me_done")
        return [Restarted()]


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


class ActionRespondToStatement(Action):
    """A statement outside any question flow ("I'm breastfeeding", "my hair is thinning")."""

    def name(self) -> Text:
        return "action_respond_to_statement"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        entities = latest_entities(tracker)
        if positive_values(entities, "condition"):
            events = answer_knowledge(dispatcher, tracker, intent="ask_contraindications")
            say(dispatcher, "offer_screening")
            return events
        if positive_values(entities, "hair_problem"):
            say(dispatcher, "offer_triage")
            return []
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
        flow = offered_flow(tracker) if latest_intent(tracker) == "affirm" else None
        if flow is None:
            say(dispatcher, "anything_else")
            return []
        return [FollowupAction(FLOW_STARTS[flow])]
