"""What the actions read from the clinic-editable content in ``data/content/``.

Every action that says something from the content files reads it through here;
the files themselves are read by ``contentfiles.load`` (re-read when they change).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from components import signals as sig
from contentfiles import clinic_placeholders, load


class ContentError(ValueError):
    """A content file is missing something an action needs."""


def clinic() -> Dict[str, str]:
    return {k: str(v) for k, v in load("clinic").items()}


def clinic_slots() -> Dict[str, str]:
    """Clinic details under the slot names the domain's responses use."""
    return clinic_placeholders(clinic())


def knowledge_entries() -> Dict[str, Dict[str, Any]]:
    return load("knowledge")["entries"]


def knowledge_entry_for_intent(intent: Optional[str]) -> Optional[Tuple[str, Dict[str, Any]]]:
    for entry_id, entry in knowledge_entries().items():
        if entry.get("intent") == intent:
            return entry_id, entry
    return None


def knowledge_intents() -> List[str]:
    return [e["intent"] for e in knowledge_entries().values() if e.get("intent")]


def entries_for_mentions(mentions: List[Tuple[str, str]]) -> List[Tuple[str, Dict[str, Any]]]:
    """Knowledge entries whose ``when:`` names one of ``mentions`` ((entity, value)
    pairs, in the visitor's order), each once."""
    found: List[Tuple[str, Dict[str, Any]]] = []
    entries = knowledge_entries()
    for entity, value in mentions:
        trigger = f"{entity}:{value}"
        for entry_id, entry in entries.items():
            if trigger in (entry.get("when") or []) and entry_id not in [f[0] for f in found]:
                found.append((entry_id, entry))
    return found


def entry_payload(entry_id: str, entry: Dict[str, Any]) -> str:
    """What a button that leads to a knowledge entry sends."""
    if entry.get("intent"):
        return f"/{entry['intent']}"
    topics = [w.split(":", 1)[1] for w in entry.get("when") or [] if w.startswith("topic:")]
    if not topics:
        raise ContentError(f"knowledge entry {entry_id!r} has neither an intent nor a topic trigger")
    return '/inform{"topic":"%s"}' % topics[0]


def entry_title(entry_id: str, entry: Optional[Dict[str, Any]] = None) -> str:
    entry = entry if entry is not None else knowledge_entries().get(entry_id, {})
    return entry.get("title") or load("knowledge").get("button_titles", {}).get(entry_id, entry_id)


def intent_titles() -> Dict[str, str]:
    """Button titles for intents, when the assistant asks "do you mean ...?": the
    knowledge entries' titles, then routing.yml ``intent_titles``."""
    titles = {e["intent"]: entry_title(eid, e) for eid, e in knowledge_entries().items() if e.get("intent")}
    titles.update(routing().get("intent_titles") or {})
    return titles


def routing() -> Dict[str, Any]:
    """data/content/routing.yml: red-flag reasons, "did you mean" settings."""
    return load("routing")


def condition_labels(past: bool = False) -> Dict[str, str]:
    """How each contraindication (terminology ``condition`` value) is named to visitors
    (``past``: told as over, where screening.yml gives a ``past_label``)."""
    return {item["condition"]: (past and item.get("past_label")) or item["label"]
            for item in screening_items().values() if item.get("condition")}


def claims() -> Dict[str, Dict[str, Any]]:
    return load("claims")["claims"]


def claim_labels() -> Dict[str, str]:
    return load("claims")["labels"]


def sources() -> Dict[str, Any]:
    return load("sources")


def screening_items() -> Dict[str, Dict[str, Any]]:
    return load("screening")["items"]


def triage_words() -> Dict[str, Any]:
    return load("triage")


def answer_words() -> Dict[str, List[str]]:
    """Typed yes / no / unsure answers (terminology.yml ``answers``)."""
    return load("terminology")["answers"]


def negation_cues() -> List[str]:
    """The words that negate a mention (terminology.yml ``negation``, before and after)."""
    cues = load("terminology")["negation"]
    return list(dict.fromkeys([*cues.get("before", []), *cues.get("after", [])]))


def procedure_terms() -> Dict[str, List[str]]:
    """The words for each procedure (terminology.yml ``entities: procedure:``)."""
    return load("terminology")["entities"]["procedure"]


def buttons_for(follow_ups: List[str]) -> List[Dict[str, str]]:
    """Quick-reply buttons for knowledge entry ids, flow ids and ``claim:<id>`` items."""
    data = load("knowledge")
    titles = data.get("button_titles", {})
    flows = data.get("actions", {})
    entries = data["entries"]
    buttons = []
    for item in follow_ups or []:
        if item.startswith("claim:"):
            claim_id = item.split(":", 1)[1]
            buttons.append({"title": data["claim_button_title"], "payload": f'/ask_claim{{"claim_topic":"{claim_id}"}}'})
        elif item in flows:
            buttons.append({"title": flows[item]["title"], "payload": flows[item]["payload"]})
        elif item in entries:
            buttons.append({"title": titles.get(item) or entry_title(item, entries[item]),
                            "payload": entry_payload(item, entries[item])})
        else:
            raise ContentError(f"unknown follow-up {item!r} in knowledge.yml")
    return buttons


def messages() -> Dict[str, Dict[str, Any]]:
    return load("messages")["messages"]


def typed_answers(slot: str) -> Dict[str, List[str]]:
    """Typed words that answer question ``ask_<slot>`` (its ``answers:`` in messages.yml),
    by the value they give."""
    return messages()[f"ask_{slot}"].get("answers") or {}


def fill_ins() -> Dict[str, Any]:
    """Words the flows fill into messages (messages.yml ``fill_ins``)."""
    return load("messages")["fill_ins"]


def dont_keep_answers() -> List[str]:
    """Words that ask not to keep questionnaire answers (messages.yml ``dont_keep_answers``)."""
    return load("messages")["dont_keep_answers"]


def stop_words() -> List[str]:
    """Messages that, typed alone, end a question flow (messages.yml ``stop_words``)."""
    return load("messages")["stop_words"]


def lead_text(item: Dict[str, Any]) -> str:
    """A lead's line: its ``text``, or the messages.yml ``message`` it names (a line that
    several entries lead with is written once)."""
    if item.get("text"):
        return str(item["text"]).strip()
    return str(messages()[item["message"]]["text"]).strip()


def entry_text(entry: Dict[str, Any], entities: List[Dict[str, Any]], message: str = "") -> str:
    """What an entry says to a message: its ``variants`` for what the message names (a
    condition, an ingredient...; not negated, not told of someone else), else its answer,
    after the first of its ``leads`` whose words the message has ("can I go to the gym
    after?": the line on exercise, then the answer)."""
    variants = entry.get("variants") or {}
    texts: List[str] = []
    # "I'm 6 weeks pregnant and had meso last week": a condition's variant for a session
    # already had (``<entity>_after_session``) says what to do now, before the usual one
    after_session = sig.told_after_session(message)
    for e in entities or []:
        if e.get("role") in ("negated", "someone_else"):
            continue
        if e.get("entity") == "condition" and sig.told_as_past(e, message):
            continue  # "had shingles 5 years ago, all healed": not "while you have it" (condition_note_past)
        text = after_session and (variants.get(f"{e.get('entity')}_after_session") or {}).get(e.get("value"))
        text = text or (variants.get(e.get("entity")) or {}).get(e.get("value"))
        if text and text not in texts:
            texts.append(text)
    if texts:
        return with_clinic("\n\n".join(t.strip() for t in texts))
    from actions.common import contains_phrase  # (actions.common imports this module)

    lead = next((lead_text(item) for item in entry.get("leads") or []
                 if contains_phrase(message, item.get("words") or [])), None)
    return with_clinic(f"{lead}\n{entry['answer'].strip()}" if lead else entry["answer"].strip())


def with_clinic(text: str) -> str:
    """``text`` with the clinic's details put in for their placeholders ("{crisis_line}");
    other braces are left as they are."""
    for name, value in clinic_slots().items():
        text = text.replace("{" + name + "}", value)
    return text

