"""The inbox: conversations newest first, filtered and paged, with outcome badges."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, fields
from typing import Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from console import db
from records.vocabulary import SCREENING_OUTCOMES, TRIAGE_OUTCOMES

ESCALATION_KINDS = ("emergency", "complication")
OUTCOME_LABELS: Dict[str, str] = {
    "consultation": "Consultation requested",
    "emergency": "Emergency escalated",
    "fallback": "Fallback hit",
    **{f"screening:{o}": f"Screening: {o.replace('_', ' ')}" for o in SCREENING_OUTCOMES},
    **{f"triage:{o}": f"Triage: {o.replace('_', ' ')}" for o in TRIAGE_OUTCOMES},
}
MAX_QUERY_LENGTH = 200


def _date(value: Optional[str]) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _page(value: Optional[str]) -> int:
    try:
        return max(1, min(int(value or 1), 100000))
    except ValueError:
        return 1


@dataclass
class InboxFilter:
    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None
    outcome: str = ""
    intent: str = ""
    fallback: bool = False
    reviewed: str = ""
    tag: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "InboxFilter":
        outcome = params.get("outcome", "")
        reviewed = params.get("reviewed", "")
        return cls(
            date_from=_date(params.get("date_from")),
            date_to=_date(params.get("date_to")),
            outcome=outcome if outcome in OUTCOME_LABELS else "",
            intent=(params.get("intent") or "").strip()[:255],
            fallback=params.get("fallback") in ("1", "on", "true"),
            reviewed=reviewed if reviewed in ("yes", "no") else "",
            tag=(params.get("tag") or "").strip()[:64],
            q=(params.get("q") or "").strip()[:MAX_QUERY_LENGTH],
            page=_page(params.get("page")),
        )

    def params(self, **overrides) -> Dict[str, str]:
        values = {}
        for f in fields(self):
            value = overrides.get(f.name, getattr(self, f.name))
            if f.name == "page" and value == 1:
                continue
            if value in (None, "", False):
                continue
            values[f.name] = "1" if value is True else str(value)
        return values

    def query_string(self, **overrides) -> str:
        return urlencode(self.params(**overrides))

    @property
    def active(self) -> bool:
        return bool(self.params(page=1))


@dataclass
class Row:
    sender_id: str
    started_at: float
    channel: Optional[str]
    turns: int
    fallback_turns: int
    escalated: bool
    reviewed: bool
    badges: List[Tuple[str, str]] = field(default_factory=list)
    tags: List[str] = field(default_factory=list)


@dataclass
class Page:
    rows: List[Row]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _epoch(day: dt.date, tz: ZoneInfo) -> float:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz).timestamp()


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def conditions(flt: InboxFilter, tz: ZoneInfo, events_ready: bool = True) -> List[sa.sql.ColumnElement]:
    t = db.tables()
    s = t.conversation_summary
    sender = s.c.sender_id
    where = [s.c.turns > 0]
    if flt.date_from:
        where.append(s.c.started_at >= _epoch(flt.date_from, tz))
    if flt.date_to:
        where.append(s.c.started_at < _epoch(flt.date_to + dt.timedelta(days=1), tz))
    outcome = flt.outcome
    if outcome == "consultation":
        where.append(sender.in_(sa.select(t.consultation_request.c.sender_id)))
    elif outcome == "emergency":
        se = t.safety_event
        where.append(
            sa.or_(
                s.c.escalated.is_(True),
                sender.in_(sa.select(se.c.sender_id).where(se.c.kind.in_(ESCALATION_KINDS))),
            )
        )
    elif outcome == "fallback":
        where.append(s.c.fallback_turns > 0)
    if outcome.startswith("screening:"):
        sr = t.screening_result
        where.append(sender.in_(sa.select(sr.c.sender_id).where(sr.c.outcome == outcome.split(":", 1)[1])))
    elif outcome.startswith("triage:"):
        tr = t.triage_outcome
        where.append(sender.in_(sa.select(tr.c.sender_id).where(tr.c.outcome == outcome.split(":", 1)[1])))
    if flt.fallback and outcome != "fallback":
        where.append(s.c.fallback_turns > 0)
    if flt.intent:
        e = t.events
        where.append(
            sender.in_(sa.select(e.c.sender_id).where(e.c.intent_name == flt.intent))
            if events_ready
            else sa.false()
        )
    if flt.reviewed:
        cr = t.conversation_review
        reviewed = sa.select(cr.c.sender_id).where(cr.c.reviewed.is_(True))
        where.append(sender.in_(reviewed) if flt.reviewed == "yes" else sender.not_in(reviewed))
    if flt.tag:
        ct, tag = t.conversation_tag, t.tag
        where.append(
            sender.in_(
                sa.select(ct.c.sender_id).join(tag, tag.c.id == ct.c.tag_id).where(tag.c.name == flt.tag)
            )
        )
    if flt.q:
        pattern = like_pattern(flt.q.lower())
        where.append(sa.or_(s.c.search_text.like(pattern, escape="\\"), sender == flt.q))
    return where


def badges_for(s: Session, senders: Sequence[str]) -> Dict[str, dict]:
    """Outcome facts per sender from the records tables (latest screening / triage)."""
    t = db.tables()
    info: Dict[str, dict] = defaultdict(lambda: {"safety": set(), "tags": []})
    if not senders:
        return info
    for name in ("screening_result", "triage_outcome"):
        table = getattr(t, name)
        for row in s.execute(
            sa.select(table.c.sender_id, table.c.outcome)
            .where(table.c.sender_id.in_(senders))
            .order_by(table.c.created_at, table.c.id)
        ):
            info[row.sender_id][name] = row.outcome
    cr = t.consultation_request
    for row in s.execute(sa.select(cr.c.sender_id, cr.c.status).where(cr.c.sender_id.in_(senders))):
        info[row.sender_id]["consultation"] = row.status
    se = t.safety_event
    for row in s.execute(sa.select(se.c.sender_id, se.c.kind).where(se.c.sender_id.in_(senders))):
        info[row.sender_id]["safety"].add(row.kind)
    ct, tag = t.conversation_tag, t.tag
    for row in s.execute(
        sa.select(ct.c.sender_id, tag.c.name)
        .join(tag, tag.c.id == ct.c.tag_id)
        .where(ct.c.sender_id.in_(senders))
        .order_by(tag.c.name)
    ):
        info[row.sender_id]["tags"].append(row.name)
    return info


def badge_list(facts: dict, escalated: bool, fallback_turns: int) -> List[Tuple[str, str]]:
    """(css class, label) pairs, most urgent first."""
    badges = []
    if escalated or facts["safety"] & set(ESCALATION_KINDS):
        badges.append(("danger", "Emergency escalated"))
    if "triage_outcome" in facts:
        outcome = facts["triage_outcome"]
        badges.append(("danger" if outcome == "red_flag" else "info", f"Triage: {outcome.replace('_', ' ')}"))
    if "screening_result" in facts:
        outcome = facts["screening_result"]
        badges.append(
            ("warn" if outcome != "none_reported" else "ok", f"Screening: {outcome.replace('_', ' ')}")
        )
    if "consultation" in facts:
        badges.append(("ok", f"Consultation requested ({facts['consultation']})"))
    if fallback_turns:
        badges.append(("muted", f"Fallback hit ×{fallback_turns}"))
    return badges


def page(url: str, flt: InboxFilter, tz: ZoneInfo, page_size: int) -> Page:
    t = db.tables()
    s, review = t.conversation_summary, t.conversation_review
    where = conditions(flt, tz, db.events_ready(url))
    query = (
        sa.select(
            s.c.sender_id,
            s.c.started_at,
            s.c.channel,
            s.c.turns,
            s.c.fallback_turns,
            s.c.escalated,
            review.c.reviewed,
        )
        .select_from(s.outerjoin(review, review.c.sender_id == s.c.sender_id))
        .where(*where)
        .order_by(s.c.started_at.desc(), s.c.sender_id)
        .limit(page_size)
        .offset((flt.page - 1) * page_size)
    )
    with db.session(url) as session:
        total = session.scalar(sa.select(sa.func.count()).select_from(s).where(*where))
        found = session.execute(query).all()
        facts = badges_for(session, [r.sender_id for r in found])
    rows = [
        Row(
            r.sender_id,
            r.started_at,
            r.channel,
            r.turns,
            r.fallback_turns,
            bool(r.escalated),
            bool(r.reviewed),
            badge_list(facts[r.sender_id], bool(r.escalated), r.fallback_turns),
            facts[r.sender_id]["tags"],
        )
        for r in found
    ]
    return Page(rows, total, flt.page, page_size)
