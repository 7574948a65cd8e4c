"""A question that weighs treatments against each other ("is mesotherapy better than
PRP?", "meso or minoxidil?"): whether a trial compared them directly, one line on each
side and the choice left to a doctor. The sides and their lines are in
``data/content/knowledge.yml`` (``comparisons``), the wording in ``messages.yml``; the
routing policy (``components/routing_policy.py``) decides with
``signals.compared`` that a message is such a question.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action
from rasa_sdk.events import SlotSet

from actions import content
from actions.common import join_words, latest_entities, latest_intent, latest_text, positive_values, say, text_of
from components import signals as sig
from contentfiles import comparison_sides

COMPARISON_ANSWER = "comparison"  # last_answer "comparison:<side>+<side>": "what's your source?" cites its lines


def comparisons() -> Dict[str, Any]:
    return content.load("knowledge").get("comparisons") or {}


def compared_sides(entities: List[Dict[str, Any]], text: str) -> List[str]:
    """The sides the message weighs (``signals.compared`` on knowledge.yml's sides)."""
    return sig.compared(entities, text, comparison_sides())


def trial_between(sides: List[str]) -> Optional[Dict[str, Any]]:
    """The trial that compared two of ``sides`` directly, if knowledge.yml lists one."""
    return next((t for t in comparisons().get("trials") or [] if set(t.get("sides") or []) <= set(sides)), None)


def comparison_reply(sides: List[str]) -> Tuple[str, List[Dict[str, str]]]:
    """(text, buttons) of the answer that weighs ``sides`` (keys of knowledge.yml's sides)."""
    table = comparisons().get("sides") or {}
    trial = trial_between(sides)
    # (a side the sources do not cover: they cannot say whether a trial compared it)
    uncovered = [s for s in sides if not table[s].get("covered", True)]
    lead = trial["text"] if trial else text_of("comparison_not_covered") if uncovered else text_of(
        "comparison_no_trial", names=join_words([table[s].get("short") or table[s]["name"] for s in sides]))
    lines = "\n".join(
        text_of("comparison_side", name=table[s]["name"], in_short=table[s]["in_short"]) if table[s].get("covered", True)
        else text_of("comparison_side_not_covered", name=table[s]["name"]) for s in sides)
    follow_ups = [table[s]["button"] for s in sides if table[s].get("button")] + ["consultation"]
    return text_of(COMPARISON_ANSWER, trial=lead, sides=lines), content.buttons_for(follow_ups)


def comparison_references(answer_ref: str) -> List[str]:
    """The references of a comparison answer (``comparison:<side>+<side>``), in order."""
    sides = answer_ref.partition(":")[2].split("+")
    table = comparisons().get("sides") or {}
    trial = trial_between(sides)
    refs = list((trial or {}).get("references") or [])
    for side in sides:
        refs += [r for r in (table.get(side) or {}).get("references") or [] if r not in refs]
    return refs


class ActionCompareTreatments(Action):
    def name(self) -> Text:
        return "action_compare_treatments"

    async def run(self, dispatcher, tracker, domain) -> List[Dict[Text, Any]]:
        entities, text = latest_entities(tracker), latest_text(tracker)
        sides = compared_sides(entities, text)
        if not sides:  # the policy saw a comparison the content no longer has: ask
            say(dispatcher, "not_understood")
            return []
        reply, buttons = comparison_reply(sides)
        dispatcher.utter_message(text=reply, buttons=buttons)
        if latest_intent(tracker) in ("describe_hair_loss", "inform") or positive_values(entities, "hair_problem"):
            say(dispatcher, "offer_triage")  # a story of one's own hair loss: the questions offered after
        return [SlotSet("last_answer", f"{COMPARISON_ANSWER}:{'+'.join(sides)}")]
