"""Counts for the last 7 or 30 days."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from console import db
from console import events as ev
from console.inbox import ESCALATION_KINDS
from records.vocabulary import CONSULTATION_STATUSES, SCREENING_OUTCOMES, TRIAGE_OUTCOMES

PERIODS = (7, 30)
TOP = 10
CLAIM_SLOT = "last_claim"
CLAIM_INTENT = "ask_claim"


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

    @property
    def fallback_rate(self) -> Optional[float]:
        return self.fallback_turns / self.turns if self.turns else None

    @property
    def consultation_total(self) -> int:
        return sum(n for _, n in self.consultations)


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
        starts = session.scalars(
            sa.select(s.c.started_at).where(s.c.started_at >= since, s.c.turns > 0)
        ).all()
        turns, fallback_turns = session.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(s.c.turns), 0),
                sa.func.coalesce(sa.func.sum(s.c.fallback_turns), 0),
            ).where(s.c.started_at >= since)
        ).one()

        def by_outcome(table, column):
            return dict(
                session.execute(
                    sa.select(column, sa.func.count()).where(table.c.created_at >= since_dt).group_by(column)
                ).all()
            )

        screenings = by_outcome(t.screening_result, t.screening_result.c.outcome)
        triage = by_outcome(t.triage_outcome, t.triage_outcome.c.outcome)
        consultations = by_outcome(t.consultation_request, t.consultation_request.c.status)
        se = t.safety_event
        escalated_records = set(
            session.scalars(
                sa.select(se.c.sender_id).where(se.c.created_at >= since_dt, se.c.kind.in_(ESCALATION_KINDS))
            )
        )
        escalated_summaries = set(
            session.scalars(sa.select(s.c.sender_id).where(s.c.started_at >= since, s.c.escalated.is_(True)))
        )
        topics, claim_rows = [], []
        if db.events_ready(url):
            topics = session.execute(
                sa.select(e.c.intent_name, sa.func.count().label("n"))
                .where(
                    e.c.type_name == "user",
                    e.c.timestamp >= since,
                    e.c.intent_name.like("ask\\_%", escape="\\"),
                    e.c.intent_name != CLAIM_INTENT,
                )
                .group_by(e.c.intent_name)
                .order_by(sa.desc("n"), e.c.intent_name)
                .limit(TOP)
            ).all()
            claim_rows = session.scalars(
                sa.select(e.c.data).where(e.c.action_name == CLAIM_SLOT, e.c.timestamp >= since)
            ).all()
    claims = Counter()
    for data in claim_rows:
        event = ev.parse(data)
        value = event.get("value")
        if event.get("event") == "slot" and isinstance(value, str) and value:
            claims[value] += 1
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
        topics=[(r.intent_name, r.n) for r in topics],
        claims=sorted(claims.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP],
    )
