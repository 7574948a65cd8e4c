"""Synthetic conversations for demos and benchmarks, generated from the assistant's files.

Writes rows shaped like Rasa 3.6's SQLTrackerStore output (`events`) and the
matching clinic records, with bulk inserts. Every intent, action, slot and form
name comes from domain.yml; visitor messages from the NLU examples (data/nlu/);
the assistant's words, questions and buttons from data/content/ and domain.yml;
so the demo data cannot drift from the assistant (tests/console/test_console_names.py).
Contact details are fictitious (example.com addresses, Ofcom drama phone numbers)
and, as in production, only stored in `consultation_request`; the events carry the
redacted placeholders.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa
import yaml

import contentfiles
from console import db
from console import events as ev
from console import labels
from records.redaction import CONTACT_ANSWER_PLACEHOLDER, EMAIL_PLACEHOLDER, PHONE_PLACEHOLDER

MODEL_ID = "seed0000000000000000000000000000"
CHANNEL = "rest"  # the only input channel the assistant has (channels/rest.py)
NLU_DIR = contentfiles.ROOT / "data" / "nlu"
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")
ANSWER_INTENTS = {"yes": "affirm", "no": "deny", "unsure": "dont_know"}
FALLBACK_TEXTS = (
    "what about my car insurance",
    "asdf qwer",
    "can you recommend a restaurant",
    "my cat is losing fur",
    "hmm",
    "do you do nails",
)
FIRST_NAMES = ("Maria", "James", "Aisha", "Tom", "Li", "Sofia", "Omar", "Emma", "Lukas", "Priya")
LAST_NAMES = ("Lopez", "Smith", "Khan", "Brown", "Chen", "Rossi", "Haddad", "Wilson", "Meyer", "Patel")


@lru_cache(maxsize=1)
def _examples() -> Dict[str, Tuple[str, ...]]:
    """Intent -> its NLU training examples, entity annotations removed."""
    found: Dict[str, List[str]] = {}
    for path in sorted(Path(NLU_DIR).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line[2:]).strip()
                    if text:
                        found.setdefault(block["intent"], []).append(text)
    return {k: tuple(v) for k, v in found.items()}


def example(rng: random.Random, intent: str, default: str = "") -> str:
    texts = _examples().get(intent)
    return rng.choice(texts) if texts else (default or intent.replace("_", " "))


def domain() -> dict:
    return labels.domain()


def _messages() -> Dict[str, dict]:
    return contentfiles.load("messages")["messages"]


def response_text(name: str) -> str:
    """A domain response's text (utter_*) with the clinic's details filled in."""
    variants = (domain().get("responses") or {}).get(name) or [{}]
    return _fill(str(variants[0].get("text") or ""))


def message(name: str) -> Tuple[str, Optional[List[dict]]]:
    """A messages.yml entry's text (clinic details filled in) and buttons."""
    entry = _messages().get(name) or {}
    buttons = [{"title": str(b["title"]), "payload": str(b["payload"])} for b in entry.get("buttons") or []]
    return _fill(" ".join(str(entry.get("text") or "").split())), buttons or None


def _fill(text: str) -> str:
    clinic = contentfiles.load("clinic")
    values = {}
    for key, value in clinic.items():
        if isinstance(value, (str, int)):
            values[key] = value
            values[f"clinic_{key}"] = value
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)


def knowledge_topics() -> Dict[str, Tuple[str, dict]]:
    """Intent -> (entry id, entry) for the knowledge entries reached by an intent."""
    entries = contentfiles.load("knowledge").get("entries") or {}
    return {e["intent"]: (eid, e) for eid, e in entries.items() if e.get("intent")}


def claim_ids() -> List[str]:
    return sorted(contentfiles.load("claims").get("claims") or {})


@dataclass
class Conversation:
    """Events and records of one synthetic conversation."""

    sender_id: str
    t: float
    channel: str
    rng: random.Random
    rows: List[dict] = field(default_factory=list)
    records: Dict[str, List[dict]] = field(default_factory=dict)

    def _add(
        self, type_name: str, data: dict, intent: Optional[str] = None, action: Optional[str] = None
    ) -> None:
        self.t += self.rng.uniform(0.05, 0.6) if type_name != "user" else self.rng.uniform(4, 40)
        data = {"event": type_name, "timestamp": self.t, **data}
        self.rows.append(
            {
                "sender_id": self.sender_id,
                "type_name": type_name,
                "timestamp": self.t,
                "intent_name": intent,
                "action_name": action,
                "data": json.dumps(data),
            }
        )

    def action(self, name: str, policy: str = "RulePolicy", confidence: float = 1.0) -> None:
        self._add(
            "action",
            {
                "metadata": {"model_id": MODEL_ID},
                "name": name,
                "policy": policy,
                "confidence": confidence,
                "action_text": None,
                "hide_rule_turn": False,
            },
            action=name,
        )

    def listen(self) -> None:
        self.action("action_listen")

    def start(self) -> None:
        self.action("action_session_start", policy=None, confidence=None)
        self._add("session_started", {})
        self.listen()

    def user(
        self, text: str, intent: str, confidence: Optional[float] = None, entities: Sequence[dict] = ()
    ) -> None:
        confidence = round(self.rng.uniform(0.82, 0.999), 4) if confidence is None else confidence
        ranking = [{"name": intent, "confidence": confidence}]
        rest = 1.0 - confidence
        others = [i for i in domain().get("intents") or [] if isinstance(i, str) and i != intent]
        for other in self.rng.sample(others, min(5, len(others))):
            share = round(rest * self.rng.uniform(0.2, 0.6), 4)
            rest -= share
            ranking.append({"name": other, "confidence": share})
        message_id = uuid.UUID(int=self.rng.getrandbits(128)).hex
        parse = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": list(entities),
            "text": text,
            "message_id": message_id,
            "metadata": {},
            "text_tokens": _tokens(text),
            "intent_ranking": ranking,
        }
        self._add(
            "user",
            {
                "metadata": {"model_id": MODEL_ID},
                "text": text,
                "parse_data": parse,
                "input_channel": self.channel,
                "message_id": message_id,
            },
            intent=intent,
        )

    def bot(self, text: str, utter: str, buttons: Optional[List[dict]] = None) -> None:
        self._add(
            "bot",
            {
                "metadata": {"utter_action": utter, "model_id": MODEL_ID},
                "text": text,
                "data": {
                    "elements": None,
                    "quick_replies": None,
                    "buttons": buttons,
                    "attachment": None,
                    "image": None,
                    "custom": None,
                },
            },
        )

    def slot(self, name: str, value) -> None:
        self._add("slot", {"name": name, "value": value}, action=name)

    def loop(self, name: Optional[str]) -> None:
        self._add("active_loop", {"name": name}, action=name)

    def record(self, table: str, **values) -> None:
        created = dt.datetime.fromtimestamp(self.t, dt.timezone.utc)
        self.records.setdefault(table, []).append(
            {"sender_id": self.sender_id, "created_at": created, **values}
        )

    def reply(
        self, text: str, utter: str, action: Optional[str] = None, buttons: Optional[List[dict]] = None
    ) -> None:
        self.action(action or utter)
        self.bot(text, utter, buttons)


def _tokens(text: str) -> List[List[int]]:
    spans, start = [], None
    for i, ch in enumerate(text + " "):
        if ch.isspace():
            if start is not None:
                spans.append([start, i])
                start = None
        elif start is None:
            start = i
    return spans


def _ask(c: Conversation, slot: str) -> List[dict]:
    """The form asks for `slot` as Rasa logs it: the question, then requested_slot (the
    form's validation action asks it, actions/forms.py `ask_next`; Rasa puts a custom
    action's messages before its other events, all without an event of their own)."""
    text, buttons = message(f"ask_{slot}")
    c.bot(text, None, buttons)
    c.slot("requested_slot", slot)
    c.listen()
    return buttons or []


def _click(c: Conversation, buttons: List[dict], title: str) -> str:
    """The visitor clicks the button titled `title`: Rasa stores its payload as the text."""
    payload = next(b["payload"] for b in buttons if b["title"] == title)
    intent = payload[1:].split("{", 1)[0] if payload.startswith("/") else "inform"
    c.user(payload, intent, confidence=1.0)
    return payload


def _yes_no(c: Conversation, slot: str, answer: str) -> None:
    buttons = _ask(c, slot)
    titles = {b["payload"]: b["title"] for b in buttons}
    typed = c.rng.random() < 0.3
    intent = ANSWER_INTENTS[answer]
    if typed or f"/{intent}" not in titles:
        c.user(example(c.rng, intent, answer), intent)
    else:
        _click(c, buttons, titles[f"/{intent}"])
    c.action(_form_of(slot))
    c.slot(slot, answer)


def _form_of(slot: str) -> str:
    for name, form in (domain().get("forms") or {}).items():
        if slot in (form or {}).get("required_slots") or []:
            return name
    raise KeyError(slot)


def _knowledge(c: Conversation) -> None:
    topics = knowledge_topics()
    intent = c.rng.choice(sorted(topics))
    entry_id, entry = topics[intent]
    c.user(example(c.rng, intent), intent)
    c.action("action_answer_knowledge")
    follow = entry.get("follow_ups") or []
    buttons = [{"title": labels.knowledge_title(f), "payload": f"/{topics_by_id().get(f, 'ask_capabilities')}"}
               for f in follow if f in topics_by_id()]
    c.bot(" ".join(str(entry.get("answer") or "").split()), None, buttons or None)
    c.slot("last_answer", f"knowledge:{entry_id}")
    c.slot("last_claim", entry.get("claim"))
    c.listen()


def topics_by_id() -> Dict[str, str]:
    return {eid: intent for intent, (eid, _) in knowledge_topics().items()}


def _claim(c: Conversation) -> None:
    claims = contentfiles.load("claims")
    claim = c.rng.choice(claim_ids())
    c.user(
        example(c.rng, "ask_claim"),
        "ask_claim",
        entities=[{"entity": "claim_topic", "value": claim, "start": 0, "end": 4, "extractor": "DomainSpacyNLP"}],
    )
    c.action("action_explain_claim")
    parts = claims["claims"][claim]
    text = "\n\n".join(
        f"**{claims['labels'][part]}:** {' '.join(str(parts[part]).split())}" for part in ("claim", "evidence", "meaning")
    )
    c.bot(text, None)
    follow, buttons = message("claim_follow_up")
    c.bot(follow, None, buttons)
    c.slot("last_claim", claim)
    c.slot("last_answer", f"claim:{claim}")
    c.listen()


def _screening(c: Conversation) -> None:
    c.user(example(c.rng, "check_eligibility"), "check_eligibility")
    c.action("action_screening_intro")
    slots = labels.form_slots("screening_form")
    intro, _ = message("screening_intro")
    c.bot(intro.replace("{questions}", f"{len(slots)} questions"), None)
    c.action("screening_form")
    c.loop("screening_form")
    answers: Dict[str, str] = {}
    stop_at = len(slots) if c.rng.random() > 0.12 else c.rng.randrange(1, len(slots))
    for slot in slots[:stop_at]:
        answer = c.rng.choices(("no", "yes", "unsure"), weights=(85, 8, 7))[0]
        _yes_no(c, slot, answer)
        answers[slot] = answer
    completed = stop_at == len(slots)
    if not completed:
        c.user(example(c.rng, "stop", "stop"), "stop")
        c.slot("flow_stopped", "stopped")
    yes = [k for k, v in answers.items() if v == "yes"]
    unsure = [k for k, v in answers.items() if v == "unsure"]
    outcome = "contraindication_reported" if yes else "doctor_check" if unsure else "none_reported"
    c.loop(None)
    c.action("action_screening_summary")
    name = "screening_stopped" if not completed else "screening_flagged" if yes else "screening_unsure" if unsure else "screening_none"
    text, buttons = message(name)
    items = contentfiles.load("screening").get("items") or {}
    text = text.replace("{items}", ", ".join(items.get(s, {}).get("label", s) for s in (yes or unsure)))
    text = text.replace("{advice}", "; ".join(items.get(s, {}).get("advice", "") for s in yes).capitalize())
    c.bot(text, None, buttons)
    c.record("screening_result", answers=answers, outcome=outcome, flagged_items=yes + unsure, completed=completed)
    c.slot("screening_outcome", outcome)
    c.listen()


TRIAGE_ANSWERS = {
    "tr_pattern": (("temples_crown", 4), ("top_thinning", 3), ("patches", 1), ("diffuse", 2)),
    "tr_onset": (("gradual", 5), ("sudden", 1)),
}


def _triage(c: Conversation) -> None:
    c.user(example(c.rng, "describe_hair_loss"), "describe_hair_loss")
    c.action("action_triage_intro")
    c.bot(message("triage_intro")[0], None)
    c.action("triage_form")
    c.loop("triage_form")
    answers: Dict[str, str] = {}
    for slot in labels.form_slots("triage_form"):
        if slot in TRIAGE_ANSWERS:
            values, weights = zip(*TRIAGE_ANSWERS[slot])
            value = c.rng.choices(values, weights=weights)[0]
            buttons = _ask(c, slot)
            title = labels.answer(value)
            if any(b["title"] == title for b in buttons):
                payload = next(b["payload"] for b in buttons if b["title"] == title)
                c.user(payload, "inform", confidence=1.0)
            else:
                c.user(title.lower(), "inform")
            c.action("triage_form")
            c.slot(slot, value)
        else:
            value = c.rng.choices(("no", "yes", "unsure"), weights=(6, 2, 1))[0]
            _yes_no(c, slot, value)
        answers[slot] = value
        if answers.get("tr_pattern") == "patches" or answers.get("tr_onset") == "sudden":
            break
    signs = [
        s
        for s, hit in (
            ("sudden_onset", answers.get("tr_onset") == "sudden"),
            ("patches_or_clumps", answers.get("tr_pattern") == "patches" or answers.get("tr_patches") == "yes"),
            ("scalp_symptoms", answers.get("tr_scalp") == "yes"),
        )
        if hit
    ]
    if signs:
        outcome = "red_flag"
    elif "yes" in (answers.get("tr_trigger"), answers.get("tr_deficiency")):
        outcome = "see_doctor"
    elif answers.get("tr_pattern") in ("temples_crown", "top_thinning") and answers.get("tr_onset") == "gradual":
        outcome = "likely_aga"
    else:
        outcome = "unclear"
    c.loop(None)
    c.action("action_triage_outcome")
    text, buttons = message(f"triage_{outcome}")
    text = text.replace("{signs}", ", ".join(s.replace("_", " ") for s in signs))
    text = text.replace("{causes}", "a recent trigger or a deficiency").replace("{family}", "")
    c.bot(text, None, buttons)
    c.record("triage_outcome", answers=answers, outcome=outcome)
    if outcome == "red_flag":
        c.record("safety_event", kind="red_flag", detail=",".join(signs))
    c.slot("triage_outcome", outcome)
    c.listen()


def _consultation(c: Conversation) -> None:
    c.user(example(c.rng, "book_consultation"), "book_consultation")
    c.action("consultation_form")
    c.loop("consultation_form")
    first, last = c.rng.choice(FIRST_NAMES), c.rng.choice(LAST_NAMES)
    by_email = c.rng.random() < 0.7
    email = f"{first}.{last}{c.rng.randrange(100)}@example.com".lower() if by_email else None
    phone = None if by_email else f"+44 7700 900{c.rng.randrange(1000):03d}"
    kind = c.rng.choices(("mesotherapy", "transplant", "general"), weights=(5, 2, 3))[0]
    window = c.rng.choice(("mornings", "afternoons", "evenings", "any time"))
    values = {
        "cs_kind": kind,
        "cs_consent": "yes",
        "cs_name": f"{first} {last}",
        "cs_time": window,
        "cs_contact": EMAIL_PLACEHOLDER if by_email else PHONE_PLACEHOLDER,
    }
    for slot in labels.form_slots("consultation_form"):
        buttons = _ask(c, slot)
        value = values.get(slot, "")
        clicked = next((b for b in buttons if b["payload"] in (value, "/affirm" if value == "yes" else None)), None)
        if slot == "cs_contact":
            c.user(CONTACT_ANSWER_PLACEHOLDER, "inform")
        elif clicked:
            c.user(clicked["payload"], "affirm" if clicked["payload"] == "/affirm" else "inform", confidence=1.0)
        else:
            c.user(value, "inform")
        c.action("consultation_form")
        c.slot(slot, value)
    c.loop(None)
    c.action("action_consultation_submit")
    text, _ = message("consult_confirm")
    kinds = {"transplant": "hair-transplant", "mesotherapy": "mesotherapy", "general": "hair"}
    text = text.replace("{kind}", kinds[kind]).replace("{contact}", values["cs_contact"]).replace("{time}", window)
    c.bot(text, None)
    status = c.rng.choices(("new", "contacted", "booked", "closed"), weights=(5, 2, 2, 1))[0]
    now = dt.datetime.fromtimestamp(c.t, dt.timezone.utc)
    c.record(
        "consultation_request",
        updated_at=now,
        kind=kind,
        name=f"{first} {last}",
        email=email,
        phone=phone,
        time_window=window,
        consent_at=now,
        status=status,
        reason=c.rng.choice((None, "likely_aga", "none_reported")),
    )
    c.listen()


def _emergency(c: Conversation) -> None:
    if c.rng.random() < 0.6:
        c.user(example(c.rng, "report_complication"), "report_complication")
        c.reply(response_text("utter_complication"), "utter_complication", action="action_report_complication")
        c.bot(message("complication_local")[0], None)
        c.record("safety_event", kind="complication", detail="report_complication")
    else:
        c.user(example(c.rng, "emergency"), "emergency")
        c.reply(response_text("utter_emergency"), "utter_emergency", action="action_emergency")
        c.bot(message("emergency_local")[0], None)
        c.record("safety_event", kind="emergency", detail="emergency")
    c.listen()


def _fallback(c: Conversation) -> None:
    if c.rng.random() < 0.6:
        c.user(c.rng.choice(FALLBACK_TEXTS), ev.FALLBACK_INTENT, confidence=0.3)
        c.action("action_clarify")
        c.bot(message("not_understood")[0], None)
    else:
        intent = c.rng.choice(sorted(knowledge_topics()))
        c.user(
            c.rng.choice(("and the thing with the needles", "what about vitamins in general", "is the other one better")),
            intent,
            confidence=round(c.rng.uniform(0.31, 0.49), 3),
        )
        c.action("action_clarify")
        text, _ = message("clarify")
        c.bot(text, None, [{"title": labels.intent(intent), "payload": f"/{intent}"}])
    c.listen()


SCENES: Tuple[Tuple[object, int], ...] = (
    (_knowledge, 40),
    (_claim, 14),
    (_screening, 12),
    (_triage, 10),
    (_consultation, 12),
    (_fallback, 10),
    (_emergency, 2),
)


def make_conversation(rng: random.Random, start: float) -> Conversation:
    c = Conversation(
        sender_id=uuid.UUID(int=rng.getrandbits(128)).hex,
        t=start,
        channel=CHANNEL,
        rng=rng,
    )
    c.start()
    if rng.random() < 0.7:
        c.user(example(rng, "greet", "hi"), "greet")
        c.action("utter_greet")
        c.bot(message("disclosure")[0], None)
        greet = (domain().get("responses") or {}).get("utter_greet") or [{}]
        c.bot(str(greet[0].get("text") or ""), "utter_greet", greet[0].get("buttons"))
        c.listen()
    funcs, weights = zip(*SCENES)
    chosen = rng.choices(funcs, weights=weights, k=rng.randint(1, 4))
    for scene in dict.fromkeys(chosen):
        scene(c)
    if rng.random() < 0.5:
        c.user(example(rng, "goodbye", "bye"), "goodbye")
        c.reply(response_text("utter_goodbye"), "utter_goodbye")
        c.listen()
    return c


def write(url: str, conversations: Sequence[Conversation]) -> Dict[str, int]:
    """Bulk-insert the events and records of `conversations`; returns rows per table."""
    tables = db.tables()
    rows = [r for c in conversations for r in c.rows]
    per_table: Dict[str, List[dict]] = {}
    for c in conversations:
        for name, recs in c.records.items():
            per_table.setdefault(name, []).extend(recs)
    with db.session(url) as s:
        ev.create_for_tests(s.connection())
        if rows:
            s.execute(sa.insert(ev.events), rows)
        for name, recs in per_table.items():
            s.execute(sa.insert(getattr(tables, name)), recs)
    counts = {name: len(recs) for name, recs in per_table.items()}
    counts["events"] = len(rows)
    return counts


def seed(
    url: str, count: int, days: int = 45, seed_value: int = 1, chunk: int = 2000, now: Optional[float] = None
) -> Dict[str, int]:
    """Insert `count` synthetic conversations; returns the number of rows per table.

    The database must be migrated (`db.prepare`); the `events` table is created with
    Rasa's layout when it does not exist yet, and the console's indexes are added.
    """
    rng = random.Random(seed_value)
    now = time.time() if now is None else now
    totals: Dict[str, int] = {}
    for first in range(0, count, chunk):
        batch = [
            make_conversation(rng, now - rng.uniform(0, days * 86400) - 3600)
            for _ in range(min(chunk, count - first))
        ]
        for name, n in write(url, batch).items():
            totals[name] = totals.get(name, 0) + n
    db.events_ready(url)
    totals["conversations"] = count
    return totals
