"""Builds rasa-sdk trackers for action tests (``Tracker.from_dict``)."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: Dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def entity(entity: str, value: str, role: Optional[str] = None) -> Dict[str, Any]:
    e = {"entity": entity, "value": value, "start": 0, "end": 1, "extractor": "DomainSpacyNLP"}
    if role:
        e["role"] = role
    return e


def placed(text: str, phrase: str, kind: str, value: str, role: Optional[str] = None) -> Dict[str, Any]:
    """An entity whose span is where ``phrase`` stands in ``text`` (for checks that read
    the sentence around a mention: told as past, long ago)."""
    e = entity(kind, value, role)
    e["start"] = text.index(phrase)
    e["end"] = e["start"] + len(phrase)
    return e


def user_event(
    text: str, intent: Optional[str] = None, confidence: float = 0.95, entities=None, signals=None, ranking=None
) -> Dict[str, Any]:
    parse: Dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
    }
    if signals is not None:  # what DomainSpacyNLP adds (components/domain_nlp.py)
        parse["meso_signals"] = signals
    if ranking is not None:
        parse["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    return {"event": "user", "text": text, "parse_data": parse}


def tracker(
    text: str = "",
    intent: Optional[str] = None,
    confidence: float = 0.95,
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    active_loop: Optional[str] = None,
    requested_slot: Optional[str] = None,
    history: Optional[List[Dict[str, Any]]] = None,
    sender_id: str = "test-sender-0001",
    signals: Optional[Dict[str, Any]] = None,
    ranking: Optional[List[Any]] = None,
) -> Tracker:
    """A tracker whose latest message is ``text`` classified as ``intent``."""
    latest = user_event(text, intent, confidence, entities, signals, ranking)
    all_slots = {s: None for s in DOMAIN["slots"]}
    all_slots.update(slots or {})
    if requested_slot:
        all_slots["requested_slot"] = requested_slot
    events = [{"event": "session_started"}] + list(history or []) + [latest]
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": all_slots,
            "latest_message": latest["parse_data"] | {"text": text},
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def run(action, trk: Tracker):
    """Runs ``action`` and returns (messages, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, trk, DOMAIN))
    return dispatcher.messages, events


def texts(messages) -> str:
    return "\n".join(m.get("text") or f"<{m.get('response')}>" for m in messages)


def slot_events(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def answers(events) -> Dict[str, Any]:
    """The slot events of a form turn without ``requested_slot``: what was read. (The
    validation also names and asks the next question; tests/actions/test_contracts_actions.py
    checks that part.)"""
    return {k: v for k, v in slot_events(events).items() if k != "requested_slot"}
