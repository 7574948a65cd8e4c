"""Counts for the last 7 or 30 days.

Topics and claims are counted from the `last_answer` slot the assistant sets with
every answer: `knowledge:<entry>` after a knowledge answer, `claim:<id>` after a
claims-versus-evidence answer (actions/knowledge.py, actions/claims.py). `last_claim`
is not counted: knowledge answers set it too (to the claim "is that proven?" would
explain next), so it does not mean a claim was asked about.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from console import db
from console import events as ev
from console import labels
from console.inbox import ESCALATION_KINDS, test_senders
from records.vocabulary import CONSULTATION_STATUSES, SCREENING_OUTCOMES, TRIAGE_OUTCOMES

PERIODS = (7, 30)
TOP = 10
ANSWER_SLOT = "last_answer"
REQUESTED_SLOT = "requested_slot"  # Rasa's slot naming the question a form asks next
FORMS = ("screening_form", "triage_form", "consultation_form")
CLAIM_INTENT = "ask_claim"
CLAIM_PREFIX = "claim:"
KNOWLEDGE_PREFIX = "knowledge:"
# Colours by meaning (console.css classes; the charts use the same colours).
MEANING = {
    "none_reported": "ok",
    "contraindication_reported": "danger",
    "doctor_check": "warn",
    "likely_aga": "info",
    "red_flag": "danger",
    "see_doctor": "warn",
    "unclear": "muted",
    "new": "warn",
    "contacted": "info",
    "booked": "ok",
    "closed": "muted",
}


@dataclass
class Bar:
    """One row of a chart: its code, plain label, count, colour class and inbox link."""

    code: str
    label: str
    n: int
    meaning: str = "info"
    href: str = ""


@dataclass
class Overview:
    days: int
    conversations: int
    per_day: List[Tuple[str, int]]
    screenings: List[Tuple[str, int]]
    triage: List[Tuple[str, int]]
    consultations: List[Tuple[str, int]]
    escalations: int
    turns: int
    fallback_turns: int
    topics: List[Tuple[str, int]]
    claims: List[Tuple[str, int]]
    since_day: str = ""
    questionnaires: int = 0
    consultation_conversations: int = 0
    reached: Dict[str, int] = field(default_factory=dict)

    def questions(self, form: str) -> List[Tuple[str, int, Optional[float]]]:
        """(question, conversations that reached it, share of those asked the first one)."""
        slots = labels.form_slots(form)
        first = self.reached.get(slots[0], 0) if slots else 0
        return [
            (labels.question(slot), self.reached.get(slot, 0), (self.reached.get(slot, 0) / first) if first else None)
            for slot in slots
        ]

    def bars(self, kind: str) -> List[Bar]:
        """Rows of a chart with plain labels, colours by meaning and inbox links."""
        day = self.since_day
        if kind == "screenings":
            return [
                Bar(c, labels.screening_outcome(c), n, MEANING.get(c, "info"), _inbox(f"screening:{c}", day))
                for c, n in self.screenings
            ]
        if kind == "triage":
            return [
                Bar(c, labels.triage_outcome(c), n, MEANING.get(c, "info"), _inbox(f"triage:{c}", day))
                for c, n in self.triage
            ]
        if kind == "consultations":
            return [Bar(c, labels.status(c), n, MEANING.get(c, "info"), f"/followups?status={c}") for c, n in self.consultations]
        if kind == "topics":
            return [Bar(c, labels.knowledge_title(c), n) for c, n in self.topics]
        if kind == "claims":
            return [Bar(c, labels.claim(c), n) for c, n in self.claims]
        if kind == "per_day":
            return [Bar(d, d, n, "info", f"/inbox?date_from={d}&date_to={d}") for d, n in self.per_day]
        raise KeyError(kind)

    @property
    def funnel(self) -> List[Tuple[str, int, Optional[float], str]]:
        """(step, count, share of the first step, inbox link)."""
        steps = [
            ("Conversations", self.conversations, _inbox("", self.since_day)),
            ("Answered a questionnaire", self.questionnaires, _inbox("questionnaire", self.since_day)),
            ("Requested a consultation", self.consultation_conversations, _inbox("consultation", self.since_day)),
        ]
        first = self.conversations
        return [(name, n, (n / first if first else None), href) for name, n, href in steps]

    @property
    def fallback_rate(self) -> Optional[float]:
        return self.fallback_turns / self.turns if self.turns else None

    @property
    def consultation_total(self) -> int:
        return sum(n for _, n in self.consultations)


def _inbox(outcome: str, since_day: str) -> str:
    params = [("outcome", outcome)] if outcome else []
    params.append(("date_from", since_day))
    return "/inbox?" + "&".join(f"{k}={v}" for k, v in params if v)


def _ordered(counts: Dict[str, int], vocabulary) -> List[Tuple[str, int]]:
    return [(name, counts.get(name, 0)) for name in vocabulary] + sorted(
        (k, v) for k, v in counts.items() if k not in vocabulary
    )


def compute(url: str, days: int, tz: ZoneInfo, now: Optional[float] = None) -> Overview:
    now = time.time() if now is None else now
    since = now - days * 86400
    since_dt = dt.datetime.fromtimestamp(since, dt.timezone.utc)
    t = db.tables()
    s, e = t.conversation_summary, t.events
    with db.session(url) as session:
        tests = test_senders(t)  # test conversations are left out, as in the inbox
        starts = session.scalars(
            sa.select(s.c.started_at).where(s.c.started_at >= since, s.c.turns > 0, s.c.sender_id.not_in(tests))
        ).all()
        turns, fallback_turns = session.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(s.c.turns), 0),
                sa.func.coalesce(sa.func.sum(s.c.fallback_turns), 0),
            ).where(s.c.started_at >= since, s.c.sender_id.not_in(tests))
        ).one()

        def by_outcome(table, column):
            return dict(
                session.execute(
                    sa.select(column, sa.func.count())
                    .where(table.c.created_at >= since_dt, table.c.sender_id.not_in(tests))
                    .group_by(column)
                ).all()
            )

        screenings = by_outcome(t.screening_result, t.screening_result.c.outcome)
        triage = by_outcome(t.triage_outcome, t.triage_outcome.c.outcome)
        consultations = by_outcome(t.consultation_request, t.consultation_request.c.status)
        se = t.safety_event
        escalated_records = set(
            session.scalars(
                sa.select(se.c.sender_id).where(
                    se.c.created_at >= since_dt, se.c.kind.in_(ESCALATION_KINDS), se.c.sender_id.not_in(tests)
                )
            )
        )
        escalated_summaries = set(
            session.scalars(
                sa.select(s.c.sender_id).where(
                    s.c.started_at >= since, s.c.escalated.is_(True), s.c.sender_id.not_in(tests)
                )
            )
        )
        answer_rows = []
        if db.events_ready(url):
            answer_rows = session.scalars(
                # no type_name condition: it steers SQLite to a slower index; only slot
                # events carry the slot's name in action_name (checked again below)
                sa.select(e.c.data).where(
                    e.c.action_name == ANSWER_SLOT,
                    e.c.timestamp >= since,
                    e.c.sender_id.not_in(tests),
                )
            ).all()
        asked_rows = []
        if db.events_ready(url):
            asked_rows = session.execute(
                sa.select(e.c.sender_id, e.c.data).where(
                    e.c.action_name == REQUESTED_SLOT, e.c.timestamp >= since, e.c.sender_id.not_in(tests)
                )
            ).all()
        in_period = [s.c.started_at >= since, s.c.turns > 0, s.c.sender_id.not_in(tests)]
        sr, tr, cr = t.screening_result, t.triage_outcome, t.consultation_request
        questionnaires = session.scalar(
            sa.select(sa.func.count()).where(
                *in_period,
                sa.or_(s.c.sender_id.in_(sa.select(sr.c.sender_id)), s.c.sender_id.in_(sa.select(tr.c.sender_id))),
            )
        )
        consultation_conversations = session.scalar(
            sa.select(sa.func.count()).where(*in_period, s.c.sender_id.in_(sa.select(cr.c.sender_id)))
        )
    asked = set()
    for sender, data in asked_rows:
        value = ev.parse(data).get("value")
        if isinstance(value, str):
            asked.add((sender, value))
    reached = Counter(slot for _, slot in asked)
    claims, topics = Counter(), Counter()
    for data in answer_rows:
        event = ev.parse(data)
        value = event.get("value")
        if event.get("event") != "slot" or not isinstance(value, str):
            continue
        if value.startswith(CLAIM_PREFIX) and len(value) > len(CLAIM_PREFIX):
            claims[value[len(CLAIM_PREFIX) :]] += 1
        elif value.startswith(KNOWLEDGE_PREFIX) and len(value) > len(KNOWLEDGE_PREFIX):
            topics[value[len(KNOWLEDGE_PREFIX) :]] += 1
    per_day = Counter(dt.datetime.fromtimestamp(start, tz).date() for start in starts)
    today = dt.datetime.fromtimestamp(now, tz).date()
    series = [
        ((today - dt.timedelta(days=i)).isoformat(), per_day.get(today - dt.timedelta(days=i), 0))
        for i in range(days - 1, -1, -1)
    ]
    return Overview(
        days=days,
        conversations=len(starts),
        per_day=series,
        screenings=_ordered(screenings, SCREENING_OUTCOMES),
        triage=_ordered(triage, TRIAGE_OUTCOMES),
        consultations=_ordered(consultations, CONSULTATION_STATUSES),
        escalations=len(escalated_records | escalated_summaries),
        turns=int(turns),
        fallback_turns=int(fallback_turns),
        topics=sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
        claims=sorted(claims.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
        since_day=dt.datetime.fromtimestamp(since, tz).date().isoformat(),
        questionnaires=int(questionnaires or 0),
        consultation_conversations=int(consultation_conversations or 0),
        reached=dict(reached),
    )
