"""Answers from ``data/content/knowledge.yml`` and the source behind any answer."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import content
from actions.comparison import COMPARISON_ANSWER, comparison_references
from actions.common import latest_entities, latest_intent, latest_text, say
from actions.routing import condition_note


def answer_knowledge(
    dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str] = None
) -> List[Dict[Text, Any]]:
    """Sends the entry for ``intent`` (default: the latest intent); returns slot events."""
    found = content.knowledge_entry_for_intent(intent or latest_intent(tracker))
    if not found:
        say(dispatcher, "not_understood")
        return []
    entry_id, entry = found
    dispatcher.utter_message(
        text=content.entry_text(entry, latest_entities(tracker), latest_text(tracker)),
        buttons=content.buttons_for(entry.get("follow_ups", [])),
    )
    # A contraindication mentioned with another question is acknowledged too (an answer
    # with condition variants has spoken of the listed ones; others are still named).
    condition_note(dispatcher, tracker, listed=not (entry.get("variants") or {}).get("condition"))
    return [
        SlotSet("last_answer", f"knowledge:{entry_id}"),
        SlotSet("last_claim", entry.get("claim") or tracker.get_slot("last_claim")),
    ]


def citation_text(answer_ref: str) -> Optional[str]:
    """The source of ``knowledge:<id>`` or ``claim:<id>``, worded from sources.yml."""
    kind, _, item_id = (answer_ref or "").partition(":")
    table = content.knowledge_entries() if kind == "knowledge" else content.claims() if kind == "claim" else {}
    item = table.get(item_id)
    if kind == COMPARISON_ANSWER:  # a comparison: the evidence behind each of its lines
        item = {"references": comparison_references(answer_ref)} if item_id else None
    if not item:
        return None
    src = content.sources()
    labels = src["labels"]
    passages = item.get("passages") or []
    if passages or not labels.get("intro_evidence_only"):
        lines = [labels["intro"].format(title=src["document"]["title"])]
    else:  # a question the article does not cover
        lines = [labels["intro_evidence_only"].format(title=src["document"]["title"])]
    for pid in passages:
        p = src["passages"][pid]
        lines.append("- " + labels["passage"].format(section=p["section"], quote=p["quote"]))
        if p.get("claim_note"):  # a marketing claim the article states as fact
            lines.append(labels["claim_note"].format(note=p["claim_note"].strip()))
    refs = item.get("references") or []
    if refs:
        lines.append(labels["references"])
        for rid in refs:
            r = src["references"][rid]
            lines.append(f"- {r['citation']}" + (f" {r['url']}" if r.get("url") else ""))
    if passages:
        lines.append(labels["caution"])
    return "\n".join(lines)


class ActionAnswerKnowledge(Action):
    def name(self) -> Text:
        return "action_answer_knowledge"

    async def run(self, dispatcher, tracker, domain):
        return answer_knowledge(dispatcher, tracker)


def cite_source(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[Text, Any]]:
    text = citation_text(tracker.get_slot("last_answer") or "")
    if text:
        dispatcher.utter_message(text=text)
    else:
        say(dispatcher, "no_source_yet")
    return []


class ActionCiteSource(Action):
    def name(self) -> Text:
        return "action_cite_source"

    async def run(self, dispatcher, tracker, domain):
        return cite_source(dispatcher, tracker)
