"""Helpers shared by the action modules: reading the latest message, parsing plain
answers, and writing clinic records without blocking the event loop."""
from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from rasa_sdk import Tracker

from actions import content
from contentfiles.phrases import contains_phrase, normalise  # noqa: F401 - the actions import them from here
from components import signals as sig
from records.vocabulary import (  # noqa: F401 - the actions import these names from here
    ADVICE_DECLINED_EVENT,
    COMPLICATION_EVENT,
    CONTRAINDICATION_REPORTED,
    DOCTOR_CHECK,
    EARLIER_MESSAGES_SLOT,
    EMERGENCY_EVENT,
    GENERAL,
    HANDOFF_EVENT,
    KEEP_ANSWERS_SLOT,
    LIKELY_AGA,
    MESOTHERAPY,
    NO,
    NONE_REPORTED,
    RED_FLAG,
    RED_FLAG_EVENT,
    SEE_DOCTOR,
    TRANSPLANT,
    UNCLEAR,
    UNSURE,
    YES,
)

logger = logging.getLogger(__name__)

# The clinic records' vocabularies are named once, in records/vocabulary.py (docs/contracts.md,
# "Clinic records"); the actions use those names, never the strings.

NEGATED, UNCERTAIN = "negated", "uncertain"
SOMEONE_ELSE = "someone_else"  # components/terminology.py: a condition told of another person

# Why a flow ended early (slot ``flow_stopped``; the flows' summary actions read it).
STOPPED, STOPPED_EMERGENCY, STOPPED_RED_FLAG = "stopped", "emergency", "red_flag"
# "delete everything I told you" in a flow: the deletion is asked to be confirmed, and
# the flow's answers are neither saved nor kept (the summary actions say nothing)
STOPPED_FORGET = "forget"

ANSWER_INTENTS = {"affirm": YES, "deny": NO, "dont_know": UNSURE}

# How confident the intent classifier must be before a question flow acts on its
# guess. The confidences are the classifiers' averaged ranking, rescaled to the
# scale these thresholds were first set on (components/ensemble.py); on the
# development split the ensemble acts about as often as DIET alone did at each of
# them and is right more often (docs/quality.md).
ACT_CONFIDENCE = 0.5
"""Take a classified yes / no / don't know, or a "stop"."""
INTERRUPT_CONFIDENCE = 0.6
"""Answer a question asked in the middle of a flow (below it: "I didn't catch that")."""
SAFETY_CONFIDENCE = 0.5
"""Escalate an emergency or a complication mid-flow."""
FREE_TEXT_SAFETY_CONFIDENCE = 0.8
"""The same at a free-text question (name, time, contact), where a guess is less likely
right; a named emergency sign is an emergency at 1.0 anyway (EmergencyOverride)."""


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_confidence(tracker: Tracker) -> float:
    return float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def is_button_payload(text: str) -> bool:
    return text.startswith("/")


def latest_entities(tracker: Tracker, entity: Optional[str] = None) -> List[Dict[str, Any]]:
    ents = tracker.latest_message.get("entities") or []
    return [e for e in ents if entity is None or e.get("entity") == entity]


# Canonical values of affirmed mentions (not negated, not uncertain), in order, unique:
# the same decision as the dialogue policy's (components/signals.py).
positive_values = sig.affirmed


def mention_answer(entities: Iterable[Dict[str, Any]], entity: str, value: str) -> Optional[str]:
    """yes / no / unsure from a mention of ``value`` (e.g. condition=pregnancy), or None."""
    for e in entities:
        if e.get("entity") == entity and e.get("value") == value:
            if e.get("role") == SOMEONE_ELSE:
                continue  # "my mother had cancer": not the visitor's answer
            return {None: YES, NEGATED: NO, UNCERTAIN: UNSURE}.get(e.get("role"), YES)
    return None


def user_messages_since_session_start(tracker: Tracker) -> List[Tuple[str, List[Dict[str, Any]]]]:
    """(text, entities) of every visitor message in the current session, oldest first.

    A long conversation comes as a window of recent events after a summary
    (records/tracker_window.py), whose ``EARLIER_MESSAGES_SLOT`` event holds the earlier
    messages, in their place."""
    found: List[Tuple[str, List[Dict[str, Any]]]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "session_started":
            found = []
        elif kind == "user":
            found.append((event.get("text") or "", (event.get("parse_data") or {}).get("entities") or []))
        elif kind == "slot" and event.get("name") == EARLIER_MESSAGES_SLOT:
            found += [(m.get("text") or "", m.get("entities") or []) for m in event.get("value") or []]
    return found


def user_entities_since_session_start(tracker: Tracker) -> List[Dict[str, Any]]:
    """Entities of every visitor message in the current session, oldest first."""
    return [entity for _text, entities in user_messages_since_session_start(tracker) for entity in entities]


def plain_answer(text: str) -> Optional[str]:
    """yes / no / unsure when the message is a plain answer ("nope", "not sure", "yes I do")."""
    norm = normalise(text)
    words = content.answer_words()
    kinds = ((UNSURE, "unsure"), (NO, "no"), (YES, "yes"))
    for kind, key in kinds:
        if norm in {normalise(w) for w in words[key]}:
            return kind
    if contains_phrase(norm, [w for w in words["unsure"] if len(w) > 2]):
        return UNSURE
    best: Optional[str] = None
    best_len = 0
    for kind, key in kinds[1:]:
        for w in words[key]:
            w = normalise(w)
            if len(w) > best_len and re.match(rf"^{re.escape(w)}\b", norm):
                best, best_len = kind, len(w)
    return best


def yes_no_unsure(tracker: Tracker) -> Optional[str]:
    """Interprets the latest message as yes / no / unsure, or None."""
    intent = latest_intent(tracker)
    text = latest_text(tracker)
    if is_button_payload(text) and intent in ANSWER_INTENTS:
        return ANSWER_INTENTS[intent]
    plain = plain_answer(text)
    if plain:
        return plain
    if intent in ANSWER_INTENTS and latest_confidence(tracker) >= ACT_CONFIDENCE:
        return ANSWER_INTENTS[intent]
    return None


_TAG = re.compile(r"<[^>]*>")


def clean_free_text(text: str, limit: int) -> str:
    """Free text fit to store and repeat: no markup, no control characters, bounded length."""
    text = _TAG.sub(" ", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = re.sub(r"[<>{}\[\]`]", "", text)
    return re.sub(r"\s+", " ", text).strip()[:limit]


async def record(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Optional[Any]:
    """Runs a ``records.store`` call in a worker thread; never raises.

    The store spools to disk when the database is down and returns None then;
    any other failure is logged (without personal data) and also gives None.
    """
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except Exception as exc:  # the visitor must still get an answer
        logger.error("records call %s failed: %s", getattr(fn, "__name__", fn), type(exc).__name__)
        return None


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def text_of(key: str, **values: Any) -> str:
    """Message ``key`` of data/content/messages.yml, placeholders filled from the
    clinic's details and ``values``."""
    fill = _Blank({**content.clinic_slots(), **{k: v for k, v in values.items() if v is not None}})
    return content.messages()[key]["text"].format_map(fill).strip()


def say(
    dispatcher,
    key: str,
    buttons: Optional[List[Dict[str, str]]] = None,
    custom: Optional[Dict[str, Any]] = None,
    **values: Any,
) -> None:
    """Sends message ``key`` of data/content/messages.yml, or domain response ``utter_<key>``.

    Placeholders are filled from the clinic's details and ``values``; ``buttons``
    replace the message's own. ``custom`` goes with the message as a marker for the
    chat widget (``{"kind": "emergency" | "urgent_care" | "data_deleted"}``: shown
    as an alert, or the chat erased from the device; web/README.md).
    """
    message = content.messages().get(key)
    if message is None:
        dispatcher.utter_message(response=f"utter_{key}", json_message=custom)
        return
    dispatcher.utter_message(
        text=text_of(key, **values),
        buttons=message.get("buttons", []) if buttons is None else buttons,
        json_message=custom,
    )


def join_words(parts: List[str]) -> str:
    """"a", "a and b", "a, b and c" (the joining word is ``and`` in messages.yml ``fill_ins``)."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + fill_in("and") + parts[-1]


def fill_in(key: str) -> Any:
    """Words a flow fills into a message (data/content/messages.yml ``fill_ins``)."""
    return content.fill_ins()[key]


def answers_kept(tracker) -> bool:
    """False once the visitor chose not to keep questionnaire answers
    (records/private_answers.py); the questions run the same either way."""
    return tracker.get_slot(KEEP_ANSWERS_SLOT) is not False


def store():
    """The clinic-records module, imported on first use (the action server starts
    without a database connection)."""
    from records import store as records_store

    return records_store
