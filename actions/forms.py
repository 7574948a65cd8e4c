"""The shared base of the three question flows (screening, triage, consultation).

Each flow is a Rasa form whose slots are filled only by its validation action.
The base class gives all of them the same behaviour with real people:

- on activation, answers the visitor already gave are filled in (``prefill``);
- emergency or complication messages get the urgent answer at once and end the flow;
- "stop"/"cancel" ends the flow and keeps what was answered;
- answers are read from buttons, typed words and recognised terms (``extract``);
- a question or another topic in between is answered, then the same question is
  asked again (the form re-asks because the requested slot stays empty);
- signs of a complication after an injection typed in any step get the urgent-care
  answer and end the flow, as a classified emergency does; a red flag gets the "see a
  doctor" answer at once (``on_red_flag``: the triage ends, the others go on);
- an answer that fits none of the options is asked again once with the options
  spelled out; the second time it is taken as "not sure" (``unclear_value``) and the
  questions go on, so nobody is stuck repeating themselves;
- "don't keep my answers" (the button under each questionnaire's introduction, or
  typed at any step) sets ``keep_answers`` to False, deletes the clinic records of
  earlier answers and asks the same question again; from then on nothing of the
  questionnaires is kept (records/private_answers.py).

When a flow ends early the slot ``flow_stopped`` says why; the flow's summary
action reads it.

The validation action also asks the next question (``ask_next``): the domain has no
``action_ask_<slot>``, so each form turn is one call to the action server. The protocol
(validation action, questions, a worked example) is in docs/contracts.md, "Question flows".
"""
from __future__ import annotations

import abc
import re
from typing import Any, Dict, List, Optional, Set, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from actions.claims import explain_claims
from actions.common import (
    ACT_CONFIDENCE,
    ADVICE_DECLINED_EVENT,
    COMPLICATION_EVENT,
    KEEP_ANSWERS_SLOT,
    answers_kept,
    contains_phrase,
    EMERGENCY_EVENT,
    RED_FLAG_EVENT,
    STOPPED,
    STOPPED_EMERGENCY,
    STOPPED_FORGET,
    UNSURE,
    latest_entities,
    FREE_TEXT_SAFETY_CONFIDENCE,
    INTERRUPT_CONFIDENCE,
    SAFETY_CONFIDENCE,
    latest_confidence,
    latest_intent,
    latest_text,
    plain_answer,
    record,
    say,
    store,
)
from actions.knowledge import answer_knowledge, cite_source
from actions.routing import MAX_TOPICS_ANSWERED, latest_signals, send_entries, send_red_flag, topic_entries
from actions.safety import escalate
from components import signals as sig

FLOW_STARTERS = {"check_eligibility", "describe_hair_loss", "book_consultation"}
# The form each flow-starting intent runs.
FLOW_FORMS = {"check_eligibility": "screening_form", "describe_hair_loss": "triage_form",
              "book_consultation": "consultation_form"}
SIMPLE_REPLIES = {
    "human_handoff": "handoff",
    "ask_price": "price",
    "bot_challenge": "bot_challenge",
    "out_of_scope": "out_of_scope_short",
}


def keep_form_turn(tracker: Tracker) -> Dict[Text, Any]:
    """The event that keeps the form in charge of a turn that filled no slot.

    When a form's validation returns no slot event for a message, Rasa rejects the
    form's turn (``ActionExecutionRejection``: "Failed to extract slot") and lets
    other policies pick an action, so a question answered in between, "I didn't
    catch that" or a red flag would be followed by a guess instead of the same
    question again. Setting the bookkeeping slot ``form_turns_kept`` counts as a validated
    slot and keeps the form asking. Its value (how many such turns in this flow) is
    not used for any decision; the slot exists for this and is cleared when the flow
    ends (``reset_events``).
    """
    return SlotSet("form_turns_kept", float(tracker.get_slot("form_turns_kept") or 0) + 1)


# Words of a visitor correcting an earlier answer.
_CORRECTION = re.compile(r"\b(actually|wait|sorry|i meant|i mean|correction|changed my mind|on second thought|"
                         r"scratch that|my mistake|i was wrong)\b", re.IGNORECASE)


# A message that tells something about the visitor ("i have hashimotos, does that
# count?"): an answer, even with a question in it.
_TELLS = re.compile(r"^\W*(yes|yeah|yep|no|nope|i|i'm|im|i've|ive|my|we|he|she|had|have|got|only|just|not)\b",
                    re.IGNORECASE)


# Asking what a question's words cover ("what counts as a hormone problem?", "is a cyst
# a tumour?").
_WHAT_COUNTS = re.compile(r"\b(what|whats|what's|does|do|would|is)\b[^.?!]{0,20}\b(counts?|counted|count as|mean by|"
                          r"included|qualify|qualifies)\b", re.IGNORECASE)
_TOLD_OF_ONESELF = re.compile(r"\b(i had|i have|i've had|ive had|i'm on|im on|i take|i got|my)\b", re.IGNORECASE)
# A question about the questions themselves: why they are asked, who reads the answers.
_WHY_ASKED = re.compile(r"\b(why (do|d|would|does) (you|u|the clinic|they) (need|want|ask|have) (to know|this|that|all this|"
                        r"my|me|it)|why (are|r) (you|u) asking|why (do|does) (that|it|this) matter|why does it matter|"
                        r"why (these|this|that) question|who (sees|reads|gets|will see|can see) (my|the|these|this)|"
                        r"what (will|do) you do with (my|the|this|these)|where (does|do|will) (my|this|these) "
                        r"(answers?|details|data|info) go)\b", re.IGNORECASE)


def only_asks(text: str) -> bool:
    """The message asks something and tells nothing: a question back to the one asked."""
    return "?" in (text or "") and sig.asked(text) and not plain_answer(text) and not _TELLS.match(text or "")


class GuidedFormValidation(Action, abc.ABC):
    """Validation action for one form (``validate_<form_name>``)."""

    free_text_slots: Set[str] = set()
    # whether "what counts as ...?" gets "answer Not sure" (the health questions; not the
    # consultation request, whose questions are no matter of what counts)
    answers_have_hint: bool = True

    @property
    @abc.abstractmethod
    def form_name(self) -> str:
        """The form this action validates."""

    def name(self) -> Text:
        return f"validate_{self.form_name}"

    @staticmethod
    def form_slots(domain: Dict[Text, Any], form_name: str) -> List[str]:  # noqa: D102
        return list(domain["forms"][form_name]["required_slots"])

    # --- to be provided by each flow -----------------------------------------
    def prefill(self, tracker: Tracker, domain: Dict[Text, Any]) -> Dict[str, Any]:
        """Slot values known before the first question."""
        return {}

    def extract(self, tracker: Tracker, requested: Optional[str], domain: Dict[Text, Any]) -> Dict[str, Any]:
        """Slot values given by the latest message."""
        return {}

    async def reject(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: Optional[str]
    ) -> Optional[List[Dict[Text, Any]]]:
        """A chance to refuse a malformed answer (events), or None to go on."""
        return None

    def complete(self, values: Dict[str, Any], tracker: Tracker, domain: Dict[Text, Any]) -> Dict[str, Any]:
        """Extra slot values implied by the answers so far (e.g. skip after a red flag)."""
        return {}

    async def on_start(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Called when the flow starts, before its first question."""

    def unclear_value(self, requested: Optional[str]) -> Optional[str]:
        """The value a question takes after two answers that fit none of its options
        (None: keep asking, e.g. a name, which has its own retry limit)."""
        return None

    def unclear_message(self, requested: Optional[str]) -> str:
        """What the visitor is told when ``unclear_value`` is taken (messages.yml key)."""
        return "answer_taken_as_unsure"

    async def on_red_flag(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, reasons: List[str]
    ) -> Optional[List[Dict[Text, Any]]]:
        """A red flag typed during the flow: the "see a doctor" answer, then the flow
        goes on (None) or ends (events)."""
        send_red_flag(dispatcher, reasons)
        await record(store().log_safety_event, tracker.sender_id, RED_FLAG_EVENT, ",".join(reasons))
        return None

    # --- the shared behaviour -------------------------------------------------
    def _empty(self, tracker: Tracker, domain: Dict[Text, Any], values: Dict[str, Any]) -> Dict[str, Any]:
        """The values for questions not answered yet; and, when the visitor corrects
        themselves ("actually wait, i might be pregnant", "no wait it was sudden"), for
        those answered before too (the flow's questions only)."""
        correcting = bool(_CORRECTION.search(latest_text(tracker) or "")) and tracker.get_slot("requested_slot") is not None
        own = set(self.form_slots(domain, self.form_name)) if correcting else set()
        return {k: v for k, v in values.items()
                if v is not None and (tracker.get_slot(k) is None or (k in own and tracker.get_slot(k) != v))}

    def _finish(self, values: Dict[str, Any], tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        current = {s: tracker.get_slot(s) for s in self.form_slots(domain, self.form_name)}
        current.update(values)
        extra = {k: v for k, v in self.complete(current, tracker, domain).items() if current.get(k) is None}
        reset = [SlotSet("unclear_answers", None)] if tracker.get_slot("unclear_answers") else []
        return [SlotSet(k, v) for k, v in {**values, **extra}.items()] + reset

    @staticmethod
    def stop(reason: str) -> List[Dict[Text, Any]]:
        return [SlotSet("flow_stopped", reason), SlotSet("requested_slot", None), ActiveLoop(None)]

    @staticmethod
    def declines_keeping(tracker: Tracker) -> bool:
        """Whether the latest message asks not to keep the answers (messages.yml
        ``dont_keep_answers``; the introduction's button sends the first of them)."""
        return bool(contains_phrase(latest_text(tracker), content.dont_keep_answers()))

    def wants_to_stop(self, tracker: Tracker) -> bool:
        intent, conf = latest_intent(tracker), latest_confidence(tracker)
        text = latest_text(tracker)
        return (intent == "stop" and conf >= ACT_CONFIDENCE) or text.strip().lower() in content.stop_words()

    async def interrupt(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[Dict[Text, Any]]]:
        """Answers a question asked in the middle of the flow; returns its slot events,
        or None when the message was neither an answer nor a question understood."""
        intent, conf = latest_intent(tracker), latest_confidence(tracker)
        # a question that names a topic ("wait, does it hurt?", "how long does a session
        # take?") gets that topic's answer, as it would outside the flow, not the
        # classifier's nearest intent (the side effects, the procedure)
        text = latest_text(tracker)
        if _WHY_ASKED.search(text):
            # "why do you need to know that?", "who sees my details?": what the answers are
            # for (messages.yml why_asked_<form>), then the same question again
            say(dispatcher, f"why_asked_{self.form_name}")
            return []
        named = sig.topics(latest_entities(tracker), text) if "?" in text and intent not in FLOW_STARTERS else []
        entries = topic_entries(latest_entities(tracker), text, named) if named else []
        if 0 < len(entries) <= MAX_TOPICS_ANSWERED:
            return send_entries(dispatcher, entries, lead=0, message=text)
        if conf < INTERRUPT_CONFIDENCE or intent is None:
            return None
        if intent in content.knowledge_intents():
            return answer_knowledge(dispatcher, tracker)
        if intent == "ask_claim":
            return explain_claims(dispatcher, tracker)
        if intent == "ask_source":
            return cite_source(dispatcher, tracker)
        if intent == "request_medical_advice":
            say(dispatcher, "decline_medical_advice")
            await record(store().log_safety_event, tracker.sender_id, ADVICE_DECLINED_EVENT, "")
            return []
        if intent in SIMPLE_REPLIES:
            say(dispatcher, SIMPLE_REPLIES[intent])
            return []
        if intent in FLOW_STARTERS:
            # "so no meso for me?" during the screening: these questions are its answer
            same = FLOW_FORMS.get(intent) == self.form_name
            say(dispatcher, "flow_answers_that" if same else "finish_current_first")
            return []
        if intent in {"greet", "thank"}:
            return []
        return None

    async def not_understood(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """An answer that fits none of the options: once, ask again with the options
        spelled out; the second time, take the question's ``unclear_value`` and go on."""
        fallback = self.unclear_value(requested)
        options = [b["title"] for b in (content.messages().get(f"ask_{requested}") or {}).get("buttons") or []]
        if fallback is None or not options:
            say(dispatcher, "answer_not_understood")
            return []
        if int(tracker.get_slot("unclear_answers") or 0) < 1:
            say(dispatcher, "answer_options_again", options=" / ".join(f'"{o}"' for o in options))
            return [SlotSet("unclear_answers", 1.0)]
        say(dispatcher, self.unclear_message(requested))
        return self._finish({requested: fallback}, tracker, domain)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]):
        events = await self.validate_turn(dispatcher, tracker, domain)
        return events + self.ask_next(dispatcher, tracker, domain, events)

    def ask_next(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any], events: List[Dict[Text, Any]]
    ) -> List[Dict[Text, Any]]:
        """Asks the flow's next question in the same call (messages.yml ``ask_<slot>``)
        and names it as the requested slot.

        Rasa's form asks the next empty required slot through ``action_ask_<slot>`` or
        ``utter_ask_<slot>``; the domain has neither, so Rasa asks nothing itself (it
        expects the validation to have asked) and takes the requested slot from this
        call's events. That is one action-server round trip per form turn instead of
        two. The next slot is found as Rasa finds it: the first required slot still
        empty once this turn's slot events are applied. Nothing is asked when the turn
        ended the flow (``stop``) or every slot is filled (the form completes).
        """
        for event in events:
            if event.get("event") == "active_loop" and event.get("name") is None:
                return []
            if event.get("event") == "slot" and event.get("name") == "requested_slot" and event.get("value") is None:
                return []
        slots = self.form_slots(domain, self.form_name)
        values = {s: tracker.get_slot(s) for s in slots}
        for event in events:
            if event.get("event") == "slot" and event.get("name") in values:
                values[event["name"]] = event.get("value")
        following = next((s for s in slots if values[s] is None), None)
        if following is None:
            return []
        requested = tracker.get_slot("requested_slot")
        if following == requested and any(
                e.get("event") == "slot" and e.get("name") in values and e.get("name") != requested
                and e.get("value") is not None for e in events):
            # "yes, I'm breastfeeding" to the pregnancy question: that answer is kept, and
            # the question asked again is not a silent repeat
            say(dispatcher, "answer_noted_other")
        say(dispatcher, f"ask_{following}")
        return [SlotSet("requested_slot", following)]

    async def validate_turn(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        """This turn's slot events: the answer read, a question answered in between, a
        safety answer, a stop (the shared behaviour of the module docstring)."""
        requested = tracker.get_slot("requested_slot")
        if requested is None:  # the form is being activated: nothing has been asked yet
            await self.on_start(dispatcher, tracker)
            return self._finish(self._empty(tracker, domain, self.prefill(tracker, domain)), tracker, domain)

        intent, conf = latest_intent(tracker), latest_confidence(tracker)
        free_text = requested in self.free_text_slots
        safety_needed = SAFETY_CONFIDENCE if not free_text else FREE_TEXT_SAFETY_CONFIDENCE
        # (not an emergency the classifier guessed for signs told as history: "I once had
        # a bad reaction to a B12 shot, my whole arm swelled up" answers the allergy question)
        told_as_past = intent == "emergency" and sig.alarm_told_as_past(latest_entities(tracker), latest_text(tracker))
        if sig.low_mood_only(latest_entities(tracker), latest_text(tracker)):
            # "honestly i just feel really low about all this", taken for an emergency or
            # for no answer: who can help (the GP, the crisis line), then the same question
            events = send_entries(dispatcher, topic_entries(latest_entities(tracker), latest_text(tracker), [sig.LOW_MOOD]),
                                  message=latest_text(tracker))
            return events + [keep_form_turn(tracker)]
        if intent in ("emergency", "report_complication") and conf >= safety_needed and not told_as_past:
            await escalate(dispatcher, tracker, EMERGENCY_EVENT if intent == "emergency" else COMPLICATION_EVENT)
            return self.stop(STOPPED_EMERGENCY)
        # The keyword backstop: named signs count whatever the classifier guessed.
        route, reasons = sig.safety_route(latest_entities(tracker), latest_signals(tracker), latest_text(tracker))
        if route == sig.COMPLICATION:
            await escalate(dispatcher, tracker, COMPLICATION_EVENT)
            return self.stop(STOPPED_EMERGENCY)
        flagged = False
        if route == sig.RED_FLAG:
            ended = await self.on_red_flag(dispatcher, tracker, reasons)
            if ended is not None:
                return ended
            flagged = True
        # ("don't keep my answers" first: the questions go on, the answers are not kept)
        if self.declines_keeping(tracker):
            return await stop_keeping_answers(dispatcher, tracker) + [keep_form_turn(tracker)]
        if intent == "forget_me" and conf >= ACT_CONFIDENCE and sig.asks_to_delete(latest_text(tracker)):
            # "actually delete everything i told you": asked to confirm, as outside a flow
            # (its button deletes), and the questions end; their answers are not saved
            say(dispatcher, "forget_me_confirm")
            return self.stop(STOPPED_FORGET)
        if self.wants_to_stop(tracker):
            return self.stop(STOPPED)

        asks_question = "?" in latest_text(tracker)
        text = latest_text(tracker)
        if not free_text and self.answers_have_hint and _WHAT_COUNTS.search(text) and not plain_answer(text):
            # "what counts as a hormone problem?": the doctor goes through it, and "not
            # sure" is an answer; told with something of one's own ("whats counted as a
            # tumour, i had a mole removed"), that is the answer, not a yes
            say(dispatcher, "what_counts_hint")
            if _TOLD_OF_ONESELF.search(text):
                return self._finish(self._empty(tracker, domain, {requested: UNSURE}), tracker, domain)
            return [keep_form_turn(tracker)]
        if not free_text and only_asks(latest_text(tracker)):
            # "does diabetes count?", "what counts as major stress?": a question back, not
            # an answer; it is answered below and the question comes again
            pass
        elif not free_text or not asks_question:
            rejected = await self.reject(dispatcher, tracker, requested)
            if rejected is not None:
                return rejected
            values = self._empty(tracker, domain, self.extract(tracker, requested, domain))
            if values:
                return self._finish(values, tracker, domain)
        events = await self.interrupt(dispatcher, tracker)
        if events is None:
            events = [] if flagged else await self.not_understood(dispatcher, tracker, requested, domain)
            if any(e.get("name") == requested and e.get("value") is not None for e in events):
                return events  # the question is answered ("not sure"): the form moves on
        return events + [keep_form_turn(tracker)]


async def stop_keeping_answers(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
    """The visitor's choice not to keep questionnaire answers: confirmed, the clinic
    records of earlier answers deleted, the slot set (the tracker store masks the log)."""
    if answers_kept(tracker):
        from records.private_answers import forget_answers

        await record(forget_answers, tracker.sender_id)
    say(dispatcher, "answers_not_kept")
    return [SlotSet(KEEP_ANSWERS_SLOT, False)]


def offer_not_keeping(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Under a questionnaire's introduction: its answers are kept for the clinic, unless
    the visitor taps "Don't keep my answers" (not offered again once chosen)."""
    if answers_kept(tracker):
        say(dispatcher, "answers_kept_notice")


def reset_events(domain: Dict[Text, Any], form_name: str, keep: bool = False) -> List[Dict[Text, Any]]:
    """Clears a finished flow's bookkeeping (and its answers unless ``keep``)."""
    events = [
        SlotSet("flow_stopped", None), SlotSet("form_turns_kept", None), SlotSet("contact_attempts", None),
        SlotSet("unclear_answers", None),
    ]
    if not keep:
        events += [SlotSet(s, None) for s in GuidedFormValidation.form_slots(domain, form_name)]
    return events



