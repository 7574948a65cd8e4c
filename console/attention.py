"""The "Needs attention" home: what staff should look at first, with counts.

- emergencies and complications, red flags and contraindications reported in
  conversations nobody has marked as reviewed;
- consultation requests still "new", split into those within the promised contact
  time and those overdue (console/followups.py: `due_at`).
Test conversations (tagged with console_labels.yml `test_tag`) are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import sqlalchemy as sa

from console import db, followups, inbox, labels
from console.accounts import as_utc, utcnow

LIMIT = 20


@dataclass
class Item:
    sender_id: str
    at: Optional[dt.datetime]
    what: str
    preview: str = ""
    name: str = ""
    due: Optional[dt.datetime] = None
    ref: str = ""  # the conversation's reference (console/references.py), set by the view


@dataclass
class Section:
    key: str
    title: str
    meaning: str
    count: int
    href: str
    items: List[Item] = field(default_factory=list)
    empty: str = "Nothing waiting."


SECTIONS = (
    ("emergency", "Emergencies and complications", "danger", "/inbox?outcome=emergency&reviewed=no"),
    ("red_flag", "Red flags (see a doctor)", "danger", "/inbox?outcome=red_flag&reviewed=no"),
    ("contraindication", "Contraindications reported", "warn", "/inbox?outcome=contraindication&reviewed=no"),
    ("overdue", "Overdue consultation requests", "danger", "/followups?status=new&overdue=1"),
    ("new", "New consultation requests", "info", "/followups?status=new"),
)


def _unreviewed_with(outcome: str, t, s) -> sa.sql.Select:
    cr = t.conversation_review
    reviewed = sa.select(cr.c.sender_id).where(cr.c.reviewed.is_(True))
    return (
        sa.select(s.c.sender_id, s.c.started_at)
        .where(
            inbox.outcome_condition(outcome, t, s),
            s.c.sender_id.not_in(reviewed),
            s.c.sender_id.not_in(inbox.test_senders(t)),
        )
        .order_by(s.c.started_at.desc())
    )


def _new_requests(session, t) -> list:
    cr = t.consultation_request
    return session.execute(
        sa.select(cr.c.id, cr.c.sender_id, cr.c.created_at, cr.c.name, cr.c.kind)
        .where(cr.c.status == "new", cr.c.sender_id.not_in(inbox.test_senders(t)))
        .order_by(cr.c.created_at)
    ).all()


def counts(url: str, now: Optional[dt.datetime] = None) -> Dict[str, int]:
    """Counts per section (for the navigation); cheap enough for every page."""
    now = now or utcnow()
    t = db.tables()
    s = t.conversation_summary
    out: Dict[str, int] = {}
    with db.session(url) as session:
        for key in ("emergency", "red_flag", "contraindication"):
            query = _unreviewed_with(key, t, s).order_by(None).subquery()
            out[key] = session.scalar(sa.select(sa.func.count()).select_from(query)) or 0
        requests = _new_requests(session, t)
    days = labels.followup_due_working_days()
    overdue = sum(1 for r in requests if followups.is_overdue(r.created_at, now, days=days))
    out["overdue"] = overdue
    out["new"] = len(requests) - overdue
    out["total"] = sum(out.values())
    return out


def sections(url: str, now: Optional[dt.datetime] = None) -> List[Section]:
    now = now or utcnow()
    t = db.tables()
    s = t.conversation_summary
    found: Dict[str, List[Item]] = {}
    totals: Dict[str, int] = {}
    with db.session(url) as session:
        for key, title, *_ in SECTIONS[:3]:
            query = _unreviewed_with(key, t, s)
            totals[key] = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
            rows = session.execute(query.limit(LIMIT)).all()
            facts = inbox.badges_for(session, [r.sender_id for r in rows])
            texts = inbox.previews(session, [r.sender_id for r in rows]) if db.events_ready(url) else {}
            found[key] = [
                Item(
                    r.sender_id,
                    dt.datetime.fromtimestamp(r.started_at, dt.timezone.utc),
                    ", ".join(label for _, label in inbox.badge_list(facts[r.sender_id], False, 0)) or title,
                    texts.get(r.sender_id, ""),
                    facts[r.sender_id].get("name", ""),
                )
                for r in rows
            ]
        requests = _new_requests(session, t)
    overdue, new = [], []
    days = labels.followup_due_working_days()
    for r in requests:
        item = Item(
            r.sender_id,
            as_utc(r.created_at),
            f"{labels.consultation_kind(r.kind)} request",
            name=r.name,
            due=followups.due_at(r.created_at, days),
        )
        (overdue if followups.is_overdue(r.created_at, now, days=days) else new).append(item)
    found["overdue"], totals["overdue"] = overdue[:LIMIT], len(overdue)
    found["new"], totals["new"] = list(reversed(new))[:LIMIT], len(new)
    return [
        Section(key, title, meaning, totals[key], href, found[key]) for key, title, meaning, href in SECTIONS
    ]
