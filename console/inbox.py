"""The inbox: conversations newest first, filtered and paged, with outcome badges.

Rows show what tells conversations apart: the visitor's first message (as stored,
so already redacted), the name given with a consultation request, outcome badges in
plain words, flags, and whether staff have opened or reviewed it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from console import db, labels
from console import events as ev
from console import references as refs_
from records.vocabulary import SCREENING_OUTCOMES, TRIAGE_OUTCOMES

ESCALATION_KINDS = ("emergency", "complication")
VIEW_ACTION = "transcript.view"  # audit action of opening a transcript (console/audit.py)
MAX_QUERY_LENGTH = 200
REF_PREFIX_RE = re.compile(r"^[0-9a-f]{8,16}$")
PREVIEW_LENGTH = 120
FIXED_OUTCOMES = ("emergency", "red_flag", "contraindication", "consultation", "questionnaire", "fallback")


def outcome_labels() -> Dict[str, str]:
    """Outcome filter values and their plain labels (screening and triage from content)."""
    return {
        "emergency": "Emergency or complication",
        "red_flag": "Red flag",
        "contraindication": "Contraindication reported",
        "consultation": "Consultation requested",
        "questionnaire": "Answered a questionnaire",
        "fallback": "Not understood or not answered",
        **{f"screening:{o}": f"Screening: {labels.screening_outcome(o)}" for o in SCREENING_OUTCOMES},
        **{f"triage:{o}": f"Hair loss: {labels.triage_outcome(o)}" for o in TRIAGE_OUTCOMES},
    }


KNOWN_OUTCOMES = FIXED_OUTCOMES + tuple(f"screening:{o}" for o in SCREENING_OUTCOMES) + tuple(
    f"triage:{o}" for o in TRIAGE_OUTCOMES
)


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


def _getlist(params: Mapping[str, str], name: str) -> List[str]:
    if hasattr(params, "getlist"):
        return list(params.getlist(name))
    value = params.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name) in ("1", "on", "true")


@dataclass
class InboxFilter:
    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None
    outcome: Tuple[str, ...] = ()
    intent: str = ""
    fallback: bool = False
    reviewed: str = ""
    tag: str = ""
    q: str = ""
    show_test: bool = False
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "InboxFilter":
        reviewed = params.get("reviewed", "")
        outcomes = tuple(dict.fromkeys(o for o in _getlist(params, "outcome") if o in KNOWN_OUTCOMES))
        return cls(
            date_from=_date(params.get("date_from")),
            date_to=_date(params.get("date_to")),
            outcome=outcomes,
            intent=(params.get("intent") or "").strip()[:255],
            fallback=_flag(params, "fallback"),
            reviewed=reviewed if reviewed in ("yes", "no", "unread") else "",
            tag=(params.get("tag") or "").strip()[:64],
            q=(params.get("q") or "").strip()[:MAX_QUERY_LENGTH],
            show_test=_flag(params, "show_test"),
            page=_page(params.get("page")),
        )

    def pairs(self, **overrides) -> List[Tuple[str, str]]:
        values: List[Tuple[str, str]] = []
        for name in ("date_from", "date_to", "outcome", "intent", "fallback", "reviewed", "tag", "q", "show_test", "page"):
            value = overrides.get(name, getattr(self, name))
            if name == "page" and value == 1:
                continue
            if value in (None, "", False, ()):
                continue
            if isinstance(value, tuple):
                values.extend((name, v) for v in value)
            else:
                values.append((name, "1" if value is True else str(value)))
        return values

    def params(self, **overrides) -> Dict[str, str]:
        return dict(self.pairs(**overrides))

    def query_string(self, **overrides) -> str:
        return urlencode(self.pairs(**overrides))

    @property
    def active(self) -> bool:
        return bool(self.pairs(page=1))


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
    preview: str = ""
    name: str = ""
    flags: int = 0
    opened: bool = False
    ref: str = ""

    @property
    def channel_label(self) -> str:
        return labels.channel(self.channel)

    @property
    def state(self) -> Tuple[str, str]:
        """(css class, label): Reviewed, Opened (not reviewed) or Unread."""
        if self.reviewed:
            return ("ok", "Reviewed")
        if self.opened:
            return ("info", "Opened")
        return ("warn", "Unread")


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


def outcome_condition(outcome: str, t, s) -> sa.sql.ColumnElement:
    """Conversations (summary rows `s`) with one outcome."""
    sender = s.c.sender_id
    se, sr, tr = t.safety_event, t.screening_result, t.triage_outcome
    if outcome == "consultation":
        return sender.in_(sa.select(t.consultation_request.c.sender_id))
    if outcome == "emergency":
        return sa.or_(
            s.c.escalated.is_(True),
            sender.in_(sa.select(se.c.sender_id).where(se.c.kind.in_(ESCALATION_KINDS))),
        )
    if outcome == "red_flag":
        return sa.or_(
            sender.in_(sa.select(se.c.sender_id).where(se.c.kind == "red_flag")),
            sender.in_(sa.select(tr.c.sender_id).where(tr.c.outcome == "red_flag")),
        )
    if outcome == "contraindication":
        return sender.in_(sa.select(sr.c.sender_id).where(sr.c.outcome == "contraindication_reported"))
    if outcome == "questionnaire":
        return sa.or_(sender.in_(sa.select(sr.c.sender_id)), sender.in_(sa.select(tr.c.sender_id)))
    if outcome == "fallback":
        return s.c.fallback_turns > 0
    if outcome.startswith("screening:"):
        return sender.in_(sa.select(sr.c.sender_id).where(sr.c.outcome == outcome.split(":", 1)[1]))
    if outcome.startswith("triage:"):
        return sender.in_(sa.select(tr.c.sender_id).where(tr.c.outcome == outcome.split(":", 1)[1]))
    return sa.false()


def viewed_senders(t) -> sa.sql.Select:
    """Senders whose transcript staff have opened (from the audit log, which names
    conversations by reference)."""
    a, cref = t.audit_log, t.conversation_reference
    prefix = refs_.TARGET_PREFIX
    viewed = sa.select(sa.func.substr(a.c.target, len(prefix) + 1)).where(
        a.c.action == VIEW_ACTION, a.c.target.like(prefix + "%")
    )
    return sa.select(cref.c.sender_id).where(cref.c.ref.in_(viewed))


def test_senders(t) -> sa.sql.Select:
    ct, tag = t.conversation_tag, t.tag
    return sa.select(ct.c.sender_id).join(tag, tag.c.id == ct.c.tag_id).where(tag.c.name == labels.test_tag())


def conditions(flt: InboxFilter, tz: ZoneInfo, events_ready: bool = True) -> List[sa.sql.ColumnElement]:
    t = db.tables()
    s = t.conversation_summary
    sender = s.c.sender_id
    where = [s.c.turns > 0]
    if flt.date_from:
        where.append(s.c.started_at >= _epoch(flt.date_from, tz))
    if flt.date_to:
        where.append(s.c.started_at < _epoch(flt.date_to + dt.timedelta(days=1), tz))
    if flt.outcome:
        where.append(sa.or_(*(outcome_condition(o, t, s) for o in flt.outcome)))
    if flt.fallback and "fallback" not in flt.outcome:
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
        if flt.reviewed == "yes":
            where.append(sender.in_(reviewed))
        else:
            where.append(sender.not_in(reviewed))
            if flt.reviewed == "unread":
                where.append(sender.not_in(viewed_senders(t)))
    if flt.tag:
        ct, tag = t.conversation_tag, t.tag
        where.append(
            sender.in_(
                sa.select(ct.c.sender_id).join(tag, tag.c.id == ct.c.tag_id).where(tag.c.name == flt.tag)
            )
        )
    if not flt.show_test and flt.tag != labels.test_tag():
        where.append(sender.not_in(test_senders(t)))
    if flt.q:
        pattern = like_pattern(flt.q.lower())
        text = s.c.search_text.like(pattern, escape="\\")
        if REF_PREFIX_RE.match(flt.q):  # a reference or its 8-character label
            cref = t.conversation_reference
            by_ref = sa.select(cref.c.sender_id).where(cref.c.ref.like(flt.q + "%"))
            text = sa.or_(text, sender.in_(by_ref))
        where.append(text)
    return where


def badges_for(s: Session, senders: Sequence[str]) -> Dict[str, dict]:
    """Outcome facts per sender from the records tables (latest screening / triage)."""
    t = db.tables()
    info: Dict[str, dict] = defaultdict(lambda: {"safety": set(), "tags": [], "flags": 0})
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
    for row in s.execute(
        sa.select(cr.c.sender_id, cr.c.status, cr.c.name).where(cr.c.sender_id.in_(senders)).order_by(cr.c.id)
    ):
        info[row.sender_id]["consultation"] = row.status
        info[row.sender_id]["name"] = row.name
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
    mf = t.message_flag
    for row in s.execute(
        sa.select(mf.c.sender_id, sa.func.count()).where(mf.c.sender_id.in_(senders)).group_by(mf.c.sender_id)
    ):
        info[row[0]]["flags"] = int(row[1])
    return info


def badge_list(facts: dict, escalated: bool, fallback_turns: int) -> List[Tuple[str, str]]:
    """(css class, label) pairs in plain words, most urgent first."""
    badges = []
    if escalated or facts["safety"] & set(ESCALATION_KINDS):
        kinds = [k for k in ESCALATION_KINDS if k in facts["safety"]] or ["emergency"]
        badges.append(("danger", " and ".join(labels.safety_kind(k) for k in kinds)))
    if "triage_outcome" in facts:
        outcome = facts["triage_outcome"]
        badges.append(
            ("danger" if outcome == "red_flag" else "info", f"Hair loss: {labels.triage_outcome(outcome)}")
        )
    elif "red_flag" in facts["safety"]:
        badges.append(("danger", labels.safety_kind("red_flag")))
    if "screening_result" in facts:
        outcome = facts["screening_result"]
        css = "danger" if outcome == "contraindication_reported" else "warn" if outcome != "none_reported" else "ok"
        badges.append((css, f"Screening: {labels.screening_outcome(outcome)}"))
    if "consultation" in facts:
        badges.append(("ok", f"Consultation requested ({labels.status(facts['consultation']).lower()})"))
    if fallback_turns:
        badges.append(("muted", f"Not understood ×{fallback_turns}"))
    return badges


def previews(s: Session, senders: Sequence[str]) -> Dict[str, str]:
    """The first visitor message of each conversation, as stored (redacted); a button
    click is shown as the button's title."""
    if not senders:
        return {}
    e = db.tables().events
    # min(CASE ...) keeps the planner on the sender index (a `type_name` condition
    # makes SQLite scan every visitor message through the type index: 200 ms at 10,000).
    first_user = sa.func.min(sa.case((e.c.type_name == "user", e.c.id)))
    ids = [
        i for i in s.scalars(sa.select(first_user).where(e.c.sender_id.in_(senders)).group_by(e.c.sender_id)) if i
    ]
    out: Dict[str, str] = {}
    if not ids:
        return out
    for row in s.execute(sa.select(e.c.sender_id, e.c.data).where(e.c.id.in_(ids))):
        text = str(ev.parse(row.data).get("text") or "").strip()
        shown = labels.payload(text) if text.startswith("/") else None
        text = " ".join((shown or text).split())
        out[row.sender_id] = text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"
    return out


def page(url: str, flt: InboxFilter, tz: ZoneInfo, page_size: int, references: refs_.References) -> Page:
    t = db.tables()
    s, review = t.conversation_summary, t.conversation_review
    ready = db.events_ready(url)
    where = conditions(flt, tz, ready)
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
        senders = [r.sender_id for r in found]
        facts = badges_for(session, senders)
        texts = previews(session, senders) if ready else {}
    refs = references.of(senders)
    targets = [refs_.audit_target(refs[x]) for x in senders]
    a = t.audit_log
    with db.session(url) as session:
        opened = set(
            session.scalars(sa.select(a.c.target).where(a.c.action == VIEW_ACTION, a.c.target.in_(targets)))
        ) if senders else set()
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
            texts.get(r.sender_id, ""),
            facts[r.sender_id].get("name", ""),
            facts[r.sender_id]["flags"],
            refs_.audit_target(refs[r.sender_id]) in opened,
            refs[r.sender_id],
        )
        for r in found
    ]
    return Page(rows, total, flt.page, page_size)
