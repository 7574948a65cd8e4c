"""Safety and scope: emergencies, complications, requests for a diagnosis, the
human route, prices and deleting the visitor's data.

Where a statement, a plain yes or "what can you do?" leads is in
``actions/conversation.py``; the answers chosen before the classifier's guess (red
flags, topics, "did you mean") in ``actions/routing.py``."""
from __future__ import annotations

from typing import Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    ADVICE_DECLINED_EVENT,
    COMPLICATION_EVENT,
    EMERGENCY_EVENT,
    HANDOFF_EVENT,
    latest_intent,
    record,
    say,
    store,
)
from components import signals as sig

# Safety event kind -> the domain's fixed answer (utter_<name>) and messages.yml <name>_local.
SAFETY_RESPONSES = {EMERGENCY_EVENT: "emergency", COMPLICATION_EVENT: "complication"}
# The chat widget shows these as alerts (its marker vocabulary: web/README.md).
WIDGET_ALERT = {EMERGENCY_EVENT: "emergency", COMPLICATION_EVENT: "urgent_care"}


def wrote_of_self_harm(tracker: Tracker) -> bool:
    """The latest message tells of thoughts of suicide or self-harm: the emergency
    answer is followed by a crisis line."""
    message = tracker.latest_message or {}
    return sig.self_harm(message.get("entities") or [], message.get("text") or "")


async def escalate(
    dispatcher: CollectingDispatcher, tracker: Tracker, kind: str, with_fixed_answer: bool = True
) -> None:
    """Sends the emergency or urgent-care answer at once, then records that it happened.

    Outside the question flows the rules send the fixed answer first (it needs no
    action server); then only the clinic's local numbers are added here.
    """
    if with_fixed_answer:
        dispatcher.utter_message(response=f"utter_{SAFETY_RESPONSES[kind]}")
    say(dispatcher, f"{SAFETY_RESPONSES[kind]}_local", custom={"kind": WIDGET_ALERT[kind]})
    if kind == EMERGENCY_EVENT and wrote_of_self_harm(tracker):
        message = tracker.latest_message or {}
        someone_else = sig.self_harm_of_someone_else(message.get("entities") or [], message.get("text") or "")
        say(dispatcher, "crisis_support_someone_else" if someone_else else "crisis_support",
            custom={"kind": WIDGET_ALERT[kind]})
    await record(store().log_safety_event, tracker.sender_id, kind, latest_intent(tracker) or "")


class ActionEmergency(Action):
    def name(self) -> Text:
        return "action_emergency"

    async def run(self, dispatcher, tracker, domain):
        await escalate(dispatcher, tracker, EMERGENCY_EVENT, with_fixed_answer=False)
        return []


class ActionReportComplication(Action):
    def name(self) -> Text:
        return "action_report_complication"

    async def run(self, dispatcher, tracker, domain):
        await escalate(dispatcher, tracker, COMPLICATION_EVENT, with_fixed_answer=False)
        return []


class ActionDeclineMedicalAdvice(Action):
    def name(self) -> Text:
        return "action_decline_medical_advice"

    async def run(self, dispatcher, tracker, domain):
        say(dispatcher, "decline_medical_advice")
        await record(store().log_safety_event, tracker.sender_id, ADVICE_DECLINED_EVENT, "")
        return []


class ActionHumanHandoff(Action):
    def name(self) -> Text:
        return "action_human_handoff"

    async def run(self, dispatcher, tracker, domain):
        say(dispatcher, "handoff")
        await record(store().log_safety_event, tracker.sender_id, HANDOFF_EVENT, "")
        return []


class ActionPriceInfo(Action):
    def name(self) -> Text:
        return "action_price_info"

    async def run(self, dispatcher, tracker, domain):
        say(dispatcher, "price")
        return []


class ActionForgetMe(Action):
    """Deletes the visitor's records and conversation ("forget me").

    The clinic records go here. On success the action restarts the conversation; the
    tracker store sees ``action_forget_me`` followed by that restart in the same turn
    and deletes the conversation's events instead of saving them
    (records/tracker_store.py, docs/contracts.md "Rasa's tracker store"). On failure
    nothing restarts, so the conversation is kept.
    """

    def name(self) -> Text:
        return "action_forget_me"

    async def run(self, dispatcher, tracker, domain):
        result = await record(store().forget_sender, tracker.sender_id)
        if result is None:
            say(dispatcher, "forget_me_failed")
            return []
        say(dispatcher, "forget_me_done", custom={"kind": "data_deleted"})
        return [Restarted()]
