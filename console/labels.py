"""Plain words for the assistant's codes, read from the files the assistant uses.

Questions come from the `ask_<slot>` messages (data/content/messages.yml), button
titles from every button the assistant can send (messages.yml, knowledge.yml,
domain.yml), topic names from knowledge.yml and routing.yml, and the few names no
other file has from data/content/console_labels.yml. Nothing here is hard-coded:
a code without a label is shown with spaces for underscores.
"""

from __future__ import annotations

import json
import re
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

import contentfiles

DOMAIN_PATH = contentfiles.ROOT / "domain.yml"
LABELS_FILE = "console_labels"
_ENTITY_PAYLOAD = re.compile(r"^/(?P<intent>[\w-]+)(?P<entities>\{.*\})?$", re.S)


def humanise(code: Optional[str]) -> str:
    text = str(code or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


FRESH_SECONDS = 1.0  # a staff edit of a content file shows within a second
_loaded: Dict[Tuple[str, str], Tuple[float, Dict[str, Any]]] = {}


def _file(name: str) -> Dict[str, Any]:
    """A content file (contentfiles.load), looked at again at most once a second:
    a transcript asks for labels hundreds of times per page."""
    key = (str(contentfiles.content_dir()), name)
    now = time.monotonic()
    cached = _loaded.get(key)
    if cached is not None and now - cached[0] < FRESH_SECONDS:
        return cached[1]
    try:
        data = contentfiles.load(name) or {}
    except FileNotFoundError:
        data = {}
    _loaded[key] = (now, data)
    return data


def _labels() -> Dict[str, Any]:
    return _file(LABELS_FILE)


@lru_cache(maxsize=4)
def _domain(path: str, mtime: float) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


_domain_checked: Dict[str, Tuple[float, float]] = {}


def domain(path: Path = DOMAIN_PATH) -> Dict[str, Any]:
    """The assistant's domain.yml (cached until the file changes; looked at once a second)."""
    now = time.monotonic()
    checked = _domain_checked.get(str(path))
    if checked is None or now - checked[0] >= FRESH_SECONDS:
        checked = (now, path.stat().st_mtime)
        _domain_checked[str(path)] = checked
    return _domain(str(path), checked[1])


def _section(name: str) -> Dict[str, str]:
    value = _labels().get(name) or {}
    return value if isinstance(value, dict) else {}


def _from(section: str, code: Optional[str]) -> str:
    if code is None or code == "":
        return ""
    return str(_section(section).get(code) or humanise(code))


def screening_outcome(code: Optional[str]) -> str:
    return _from("screening_outcomes", code)


def triage_outcome(code: Optional[str]) -> str:
    return _from("triage_outcomes", code)


def safety_kind(code: Optional[str]) -> str:
    return _from("safety_kinds", code)


def status(code: Optional[str]) -> str:
    return _from("consultation_statuses", code)


def channel(code: Optional[str]) -> str:
    return _from("channels", code) if code else "–"


def claim(code: Optional[str]) -> str:
    return _from("claims", code)


def not_understood_reason(code: Optional[str]) -> str:
    """Why a message is listed as not understood (summary.not_understood_reason's codes:
    nlu_fallback, low_confidence, or the action that took the turn without answering)."""
    return _from("not_understood_reasons", code)


def reason(code: Optional[str]) -> str:
    """Why a consultation was requested (the outcome of a questionnaire before it)."""
    if not code:
        return ""
    for section in ("triage_outcomes", "screening_outcomes"):
        if code in _section(section):
            return _section(section)[code]
    return humanise(code)


def consultation_kind(code: Optional[str]) -> str:
    if code in _section("consultation_kinds"):
        return str(_section("consultation_kinds")[code])
    for button in (_messages().get("ask_cs_kind") or {}).get("buttons") or []:
        if button.get("payload") == code:
            return str(button.get("title"))
    return humanise(code)


def followup_due_working_days() -> int:
    try:
        return max(0, int(_labels().get("followup_due_working_days", 2)))
    except (TypeError, ValueError):
        return 2


def test_tag() -> str:
    return str(_labels().get("test_tag") or "test")


def _messages() -> Dict[str, Dict[str, Any]]:
    return _file("messages").get("messages") or {}


def question(slot: str) -> str:
    """The question the assistant asks for `slot` (e.g. sc_pregnancy)."""
    override = _section("questions").get(slot)
    if override:
        return str(override)
    message = _messages().get(f"ask_{slot}") or {}
    text = message.get("text")
    if not text:
        response = (domain().get("responses") or {}).get(f"utter_ask_{slot}") or [{}]
        text = response[0].get("text") if isinstance(response, list) and response else None
    if not text:
        return humanise(slot)
    text = " ".join(str(text).split())
    first = re.split(r"(?<=\?)\s", text, maxsplit=1)[0]  # the question, not the list after it
    return first.replace("{clinic_name}", "the clinic")


def _all_buttons() -> Iterable[dict]:
    for message in _messages().values():
        yield from (message or {}).get("buttons") or []
    for responses in (domain().get("responses") or {}).values():
        for response in responses or []:
            yield from (response or {}).get("buttons") or []
    knowledge = _file("knowledge")
    for flow in (knowledge.get("actions") or {}).values():
        yield flow


_memo: Dict[str, Tuple[tuple, Any]] = {}


def _memoised(name: str, sources: tuple, build):
    """`build()` again only when one of the loaded files changed (contentfiles and
    domain() return the same objects until their file changes)."""
    key = tuple(id(x) for x in sources)
    cached = _memo.get(name)
    if cached is None or cached[0] != key:
        cached = (key, build())
        _memo[name] = cached
    return cached[1]


def button_titles() -> Dict[str, str]:
    """Payload -> the title the visitor saw on that button (first definition wins)."""
    return _memoised("buttons", (_file("messages"), domain(), _file("knowledge")), _button_titles)


def _button_titles() -> Dict[str, str]:
    titles: Dict[str, str] = {}
    for button in _all_buttons():
        payload, title = button.get("payload"), button.get("title")
        if isinstance(payload, str) and title is not None:
            titles.setdefault(payload, str(title))
    return titles


def topic_titles() -> Dict[str, str]:
    """Intent -> topic name (knowledge titles, then routing.yml intent titles, then console_labels)."""
    return _memoised("topics", (_file("knowledge"), _file("routing"), _labels()), _topic_titles)


def _topic_titles() -> Dict[str, str]:
    knowledge = _file("knowledge")
    buttons = knowledge.get("button_titles") or {}
    titles: Dict[str, str] = {}
    for entry_id, entry in (knowledge.get("entries") or {}).items():
        if entry.get("intent"):
            titles.setdefault(entry["intent"], entry.get("title") or buttons.get(entry_id) or humanise(entry_id))
    for intent, title in ((_file("routing").get("intent_titles")) or {}).items():
        titles.setdefault(intent, str(title))
    for intent, title in _section("intents").items():
        titles.setdefault(intent, str(title))
    return titles


def knowledge_title(entry_id: str) -> str:
    knowledge = _file("knowledge")
    entry = (knowledge.get("entries") or {}).get(entry_id) or {}
    return entry.get("title") or (knowledge.get("button_titles") or {}).get(entry_id) or humanise(entry_id)


def intent(name: Optional[str]) -> str:
    if not name:
        return "–"
    return topic_titles().get(name) or humanise(name)


def payload(text: str, offered: Optional[List[dict]] = None) -> Optional[str]:
    """What the visitor saw for a button payload they sent (None when `text` was typed).

    `offered` are the buttons of the assistant's previous message, which win over
    the general table (the same payload can have different titles).
    """
    for button in offered or []:
        if button.get("payload") == text:
            return str(button.get("title"))
    match = _ENTITY_PAYLOAD.match(text or "")
    if match and not match.group("entities") and match.group("intent") in topic_titles():
        return topic_titles()[match.group("intent")]
    known = button_titles().get(text)
    if known is not None:
        return known
    if not match:
        return None
    entities = match.group("entities")
    if entities:
        try:
            values = json.loads(entities)
        except ValueError:
            values = {}
        if isinstance(values, dict):
            if "claim_topic" in values:
                return f"Is it proven? ({claim(str(values['claim_topic']))})"
            if "topic" in values:
                for entry_id, entry in (_file("knowledge").get("entries") or {}).items():
                    if f"topic:{values['topic']}" in (entry.get("when") or []):
                        return knowledge_title(entry_id)
    return intent(match.group("intent"))


def answer(value: Any) -> str:
    """A stored questionnaire answer in words."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(value)
    return str(_section("answers").get(text) or text)


def answers(values: Dict[str, Any], order: Iterable[str] = ()) -> List[Tuple[str, str, str]]:
    """(slot, question, answer) in the questionnaire's order, then any others."""
    values = values if isinstance(values, dict) else {}
    ordered = [s for s in order if s in values] + sorted(s for s in values if s not in set(order))
    return [(slot, question(slot), answer(values[slot])) for slot in ordered]


def form_slots(form: str) -> List[str]:
    return list(((domain().get("forms") or {}).get(form) or {}).get("required_slots") or [])


def slot_label(name: str) -> str:
    """A slot's name for the technical view: its question when it has one."""
    for form in (domain().get("forms") or {}).values():
        if name in ((form or {}).get("required_slots") or []):
            return question(name)
    return humanise(name)


def safety_detail(detail: Optional[str]) -> str:
    """What a safety record's detail names: red-flag reasons in words (routing.yml)."""
    reasons = _file("routing").get("red_flag_reasons") or {}
    parts = [p.strip() for p in str(detail or "").split(",") if p.strip()]
    return "; ".join(str(reasons.get(p) or humanise(p)) for p in parts)
