"""Synthetic conversations for demos and benchmarks.

Writes rows shaped like Rasa 3.6's SQLTrackerStore output (`events`) and the
matching clinic records, with bulk inserts. Contact details are fictitious
(example.com addresses, Ofcom drama phone numbers) and, as in production, only
stored in `consultation_request`; the events carry the redacted placeholders.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from console import db
from console import events as ev

MODEL_ID = "seed0000000000000000000000000000"
FILLER_INTENTS = (
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "thank",
    "ask_what_is",
    "ask_does_it_work",
    "ask_side_effects",
    "ask_sessions",
    "ask_cost",
    "ask_claim",
    "out_of_scope",
)

KNOWLEDGE = {
    "ask_what_is": (
        (
            "What is mesotherapy for hair?",
            "what do they actually inject in hair mesotherapy",
            "can you explain hair meso",
        ),
        "Hair mesotherapy means many small injections into the scalp. Clinics use vitamin "
        "cocktails or drugs such as dutasteride or minoxidil.",
    ),
    "ask_does_it_work": (
        (
            "Does mesotherapy really work for hair loss?",
            "is there evidence it works",
            "will meso help my thinning hair",
        ),
        "Small trials of injected drugs show some effect in androgenetic alopecia; no "
        "controlled trial supports vitamin cocktails.",
    ),
    "ask_side_effects": (
        ("What are the side effects?", "is it painful", "can it damage my scalp"),
        "Pain and headache are common and usually minor. Infections and scarring hair loss "
        "have been reported.",
    ),
    "ask_sessions": (
        ("How many sessions would I need?", "how often do you have to go"),
        "There is no standard regimen; clinics often propose 4 to 10 sessions.",
    ),
    "ask_cost": (
        ("How much does it cost?", "price per session?"),
        "Prices vary by clinic; the team can give you a quote during a consultation.",
    ),
    "ask_alternatives": (
        ("What else works for thinning hair?", "minoxidil or mesotherapy, which is better"),
        "Minoxidil and finasteride have the strongest evidence for pattern hair loss.",
    ),
    "ask_dhi": (
        ("Is DHI non-invasive?", "what is the difference between DHI and FUE"),
        "DHI is minimally invasive surgery under local anaesthetic, not a non-invasive treatment.",
    ),
}

CLAIMS = {
    "stops_hair_loss": ("Does it stop hair loss for good?", "they told me meso stops hair loss forever"),
    "regrows_hair": ("Will my hair grow back thicker?", "the clinic says it regrows hair"),
    "cures_dandruff": ("Can mesotherapy cure dandruff?",),
    "no_side_effects": ("Is it true there are no side effects?",),
    "feeds_follicles": ("Do the vitamins feed the follicles?", "does it nourish the roots"),
    "fixes_split_ends": ("Will it fix my split ends?",),
}

SCREENING_ITEMS = (
    "sc_pregnancy",
    "sc_breastfeeding",
    "sc_anticoagulants",
    "sc_allergies",
    "sc_scalp_infection",
    "sc_autoimmune",
)
TRIAGE_ITEMS = {
    "tr_pattern": ("receding temples", "thinning on top", "round bald patches", "all over"),
    "tr_onset": ("gradually over years", "suddenly in the last weeks"),
    "tr_family": ("yes", "no"),
    "tr_scalp": ("no", "itching and redness"),
}
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
        for other in self.rng.sample([i for i in FILLER_INTENTS if i != intent], 5):
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


YES_NO = [
    {"title": "Yes", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
    {"title": "Not sure", "payload": "/unsure"},
]


def _knowledge(c: Conversation) -> None:
    intent = c.rng.choice(sorted(KNOWLEDGE))
    questions, answer = KNOWLEDGE[intent]
    c.user(c.rng.choice(questions), intent)
    c.reply(answer, f"utter_{intent}", action="action_answer_knowledge")
    c.listen()


def _claim(c: Conversation) -> None:
    claim = c.rng.choice(sorted(CLAIMS))
    c.user(
        c.rng.choice(CLAIMS[claim]),
        "ask_claim",
        entities=[
            {"entity": "claim", "value": claim, "start": 0, "end": 4, "extractor": "SpacyEntityExtractor"}
        ],
    )
    c.action("action_answer_claim")
    c.bot("That is a marketing claim. Here is what the evidence says.", "utter_claim_intro")
    c.slot("last_claim", claim)
    c.listen()


def _screening(c: Conversation) -> None:
    c.user(
        c.rng.choice(("Can I have mesotherapy?", "am I a candidate", "check if it is safe for me")),
        "start_screening",
    )
    c.action("screening_form")
    c.loop("screening_form")
    answers: Dict[str, str] = {}
    stop_at = len(SCREENING_ITEMS) if c.rng.random() > 0.12 else c.rng.randrange(1, len(SCREENING_ITEMS))
    for item in SCREENING_ITEMS[:stop_at]:
        c.slot("requested_slot", item)
        c.bot(
            f"Question about {item[3:].replace('_', ' ')}: does this apply to you?",
            f"utter_ask_{item}",
            buttons=YES_NO,
        )
        c.listen()
        answer = c.rng.choices(("no", "yes", "unsure"), weights=(85, 8, 7))[0]
        intent = {"no": "deny", "yes": "affirm", "unsure": "unsure"}[answer]
        c.user({"no": "no", "yes": "yes", "unsure": "not sure"}[answer], intent)
        c.action("screening_form")
        c.slot(item, answer)
        answers[item] = answer
    completed = stop_at == len(SCREENING_ITEMS)
    flagged = [k for k, v in answers.items() if v == "yes"]
    outcome = (
        "contraindication_reported"
        if flagged
        else "doctor_check" if "unsure" in answers.values() else "none_reported"
    )
    c.loop(None)
    c.reply(
        "Thank you. Please tell the doctor about what you reported.",
        f"utter_screening_{outcome}",
        action="action_screening_result",
    )
    c.record("screening_result", answers=answers, outcome=outcome, flagged_items=flagged, completed=completed)
    c.listen()


def _triage(c: Conversation) -> None:
    c.user(c.rng.choice(("Why am I losing hair?", "my hair is thinning, what is it")), "start_triage")
    c.action("triage_form")
    c.loop("triage_form")
    answers = {}
    for item, options in TRIAGE_ITEMS.items():
        c.slot("requested_slot", item)
        c.bot(f"Tell me about {item[3:]}.", f"utter_ask_{item}")
        c.listen()
        answer = c.rng.choices(options, weights=[4] + [1] * (len(options) - 1))[0]
        c.user(answer, "inform")
        c.action("triage_form")
        c.slot(item, answer)
        answers[item] = answer
    if (
        answers["tr_pattern"] == "round bald patches"
        or answers["tr_scalp"] != "no"
        or answers["tr_onset"].startswith("suddenly")
    ):
        outcome = "red_flag"
    elif answers["tr_pattern"] in ("receding temples", "thinning on top"):
        outcome = "likely_aga"
    else:
        outcome = c.rng.choice(("see_doctor", "unclear"))
    c.loop(None)
    c.reply(
        "Based on your answers, here is what I suggest.",
        f"utter_triage_{outcome}",
        action="action_triage_result",
    )
    c.record("triage_outcome", answers=answers, outcome=outcome)
    if outcome == "red_flag":
        c.record("safety_event", kind="red_flag", detail="triage")
    c.slot("triage_outcome", outcome)
    c.listen()


def _consultation(c: Conversation) -> None:
    c.user(
        c.rng.choice(("I'd like to book a consultation", "can someone call me", "book an appointment")),
        "request_consultation",
    )
    c.action("consultation_form")
    c.loop("consultation_form")
    first, last = c.rng.choice(FIRST_NAMES), c.rng.choice(LAST_NAMES)
    by_email = c.rng.random() < 0.7
    email = f"{first}.{last}{c.rng.randrange(100)}@example.com".lower() if by_email else None
    phone = None if by_email else f"+44 7700 900{c.rng.randrange(1000):03d}"
    kind = c.rng.choices(("mesotherapy", "transplant", "general"), weights=(5, 2, 3))[0]
    window = c.rng.choice(("mornings", "weekday afternoons", "after 6pm", "saturday"))
    steps = (
        (
            "cr_consent",
            "Before I take your details: may the clinic store them to contact you?",
            "yes",
            "affirm",
            True,
        ),
        ("cr_kind", "What kind of consultation would you like?", kind, "inform", kind),
        ("cr_name", "What name should the clinic use?", f"{first} {last}", "inform", f"{first} {last}"),
        (
            "cr_contact",
            "How can the clinic reach you, email or phone?",
            "[email redacted]" if by_email else "[phone redacted]",
            "inform",
            "[email redacted]" if by_email else "[phone redacted]",
        ),
        ("cr_time", "When is a good time to contact you?", window, "inform", window),
    )
    for item, question, answer, intent, value in steps:
        c.slot("requested_slot", item)
        c.bot(question, f"utter_ask_{item}")
        c.listen()
        c.user(answer, intent)
        c.action("consultation_form")
        c.slot(item, value)
    c.loop(None)
    c.reply(
        "Thank you, your request is confirmed. The clinic will contact you.",
        "utter_consultation_confirmed",
        action="action_save_consultation",
    )
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
        reason=c.rng.choice((None, "likely_aga", "screening")),
    )
    c.listen()


def _emergency(c: Conversation) -> None:
    complication = c.rng.random() < 0.6
    if complication:
        c.user("the injection spots are red and hot and there is pus", "report_complication")
        c.reply(
            "Please seek urgent medical care today.",
            "utter_complication",
            action="action_report_complication",
        )
        c.record("safety_event", kind="complication", detail="reported after session")
    else:
        c.user("my face is swelling and I can't breathe after the injections", "report_emergency")
        c.reply("Call the emergency number now.", "utter_emergency", action="action_emergency")
        c.record("safety_event", kind="emergency", detail="breathing difficulty")
    c.listen()


def _fallback(c: Conversation) -> None:
    if c.rng.random() < 0.6:
        c.user(c.rng.choice(FALLBACK_TEXTS), "nlu_fallback", confidence=0.3)
        c.reply(
            "Sorry, I didn't understand that. I can explain mesotherapy, check if it suits you "
            "or book a consultation.",
            None,
            action="action_clarify",
        )
    else:
        intent = c.rng.choice(sorted(KNOWLEDGE))
        c.user(
            c.rng.choice(
                (
                    "and the thing with the needles",
                    "what about vitamins in general",
                    "is the other one better",
                )
            ),
            intent,
            confidence=round(c.rng.uniform(0.31, 0.49), 3),
        )
        c.reply(KNOWLEDGE[intent][1], f"utter_{intent}", action="action_answer_knowledge")
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
        channel=rng.choices(("socketio", "rest"), weights=(3, 1))[0],
        rng=rng,
    )
    c.start()
    if rng.random() < 0.7:
        c.user(rng.choice(("hi", "hello", "good morning")), "greet")
        c.reply(
            "Hello! I am MesoGuide, an automated assistant. I give information, not a diagnosis.",
            "utter_greet",
        )
        c.listen()
    funcs, weights = zip(*SCENES)
    chosen = rng.choices(funcs, weights=weights, k=rng.randint(1, 4))
    for scene in dict.fromkeys(chosen):
        scene(c)
    if rng.random() < 0.5:
        c.user(rng.choice(("thanks, bye", "bye", "thank you")), "goodbye")
        c.reply("Goodbye, take care.", "utter_goodbye")
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
