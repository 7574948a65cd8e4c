"""Consultation requests to follow up, and their CSV export.

A request is due within `followup_due_working_days` working days (Monday to
Friday) of being made, the time the assistant promises the visitor
(messages.yml `consult_confirm`, console_labels.yml); a request still "new" after
that is overdue. Each request can be assigned to a member of staff
(`followup_assignment`, records migration 0006); the list filters on "mine" and
"nobody". The history of status changes and assignments comes from the audit log
("followup.status", "followup.assign").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple
from urllib.parse import urlencode

import sqlalchemy as sa

from console import db, labels
from console.accounts import as_utc, utcnow
from console import references as refs_
from console.csvexport import to_csv
from records.vocabulary import CONSULTATION_STATUSES

PAGE_SIZE = 50
STATUS_ACTION = "followup.status"
ASSIGN_ACTION = "followup.assign"
ASSIGNEE_FILTERS = ("mine", "none")
CSV_COLUMNS = (
    "created_at",
    "status",
    "kind",
    "name",
    "email",
    "phone",
    "time_window",
    "reason",
    "consent_at",
    "conversation",
    "assignee",
)


def due_at(created: dt.datetime, working_days: Optional[int] = None) -> dt.datetime:
    """`working_days` working days (Mon-Fri) after `created`."""
    days = labels.followup_due_working_days() if working_days is None else working_days
    moment = as_utc(created)
    while days > 0:
        moment += dt.timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


def is_overdue(
    created: dt.datetime, now: Optional[dt.datetime] = None, status: str = "new", days: Optional[int] = None
) -> bool:
    return status == "new" and (now or utcnow()) > due_at(created, days)


def age(created: dt.datetime, now: Optional[dt.datetime] = None) -> str:
    """How long ago, in words ("3 h", "2 days")."""
    seconds = max(0, ((now or utcnow()) - as_utc(created)).total_seconds())
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''}"


@dataclass
class FollowupFilter:
    status: str = ""
    overdue: bool = False
    page: int = 1
    assignee: str = ""  # "", "mine" (the signed-in user's) or "none" (nobody's)

    @classmethod
    def from_params(cls, params) -> "FollowupFilter":
        status = params.get("status", "")
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        overdue = params.get("overdue") in ("1", "on", "true")
        assignee = params.get("assignee", "")
        return cls(
            status if status in CONSULTATION_STATUSES else "",
            overdue,
            page,
            assignee if assignee in ASSIGNEE_FILTERS else "",
        )

    def query_string(self, page: int = 1) -> str:
        pairs = (
            ("status", self.status),
            ("overdue", "1" if self.overdue else ""),
            ("assignee", self.assignee),
            ("page", page),
        )
        return urlencode({k: v for k, v in pairs if v and v != 1})


@dataclass
class Followup:
    row: sa.engine.Row
    due: dt.datetime
    overdue: bool
    age: str
    history: List[Tuple[dt.datetime, str, str]]
    ref: str = ""

    def __getattr__(self, name):
        return getattr(self.row, name)

    @property
    def status_label(self) -> str:
        return labels.status(self.row.status)

    @property
    def kind_label(self) -> str:
        return labels.consultation_kind(self.row.kind)

    @property
    def reason_label(self) -> str:
        return labels.reason(self.row.reason) or "–"

    @property
    def tel(self) -> str:
        """The phone number for a tel: link (digits and a leading +)."""
        phone = self.row.phone or ""
        digits = "".join(ch for ch in phone if ch.isdigit())
        return ("+" if phone.strip().startswith("+") else "") + digits


def _query(flt: FollowupFilter, username: str, now: Optional[dt.datetime] = None):
    t = db.tables()
    cr, fa = t.consultation_request, t.followup_assignment
    query = sa.select(cr, fa.c.assignee).select_from(cr.outerjoin(fa, fa.c.request_id == cr.c.id))
    if flt.assignee == "mine":
        query = query.where(fa.c.assignee == username)
    elif flt.assignee == "none":
        query = query.where(fa.c.assignee.is_(None))
    if flt.status:
        query = query.where(cr.c.status == flt.status)
    if flt.overdue:
        # A request is overdue at the latest after due days plus two weekend days per week.
        days = labels.followup_due_working_days()
        latest = (now or utcnow()) - dt.timedelta(days=days)
        query = query.where(cr.c.status == "new", cr.c.created_at < latest)
    return query.order_by(cr.c.created_at.desc(), cr.c.id.desc())


def _change(action: str, detail: str) -> str:
    if action == ASSIGN_ACTION:
        return f"Assigned to {detail}" if detail else "Unassigned"
    return labels.status(detail)


def history(session, refs: Dict[str, str]) -> Dict[str, List[Tuple[dt.datetime, str, str]]]:
    """(when, who, what changed: the new status or assignee) per sender (`refs`: sender
    id -> reference), oldest first, from the audit log."""
    if not refs:
        return {}
    a = db.tables().audit_log
    out: Dict[str, list] = defaultdict(list)
    targets = {refs_.audit_target(ref): s for s, ref in refs.items()}
    for row in session.execute(
        sa.select(a.c.at, a.c.username, a.c.action, a.c.detail, a.c.target)
        .where(a.c.action.in_((STATUS_ACTION, ASSIGN_ACTION)), a.c.target.in_(list(targets)))
        .order_by(a.c.at, a.c.id)
    ):
        out[targets[row.target]].append((as_utc(row.at), row.username or "", _change(row.action, row.detail)))
    return out


def listing(
    url: str, flt: FollowupFilter, references: refs_.References, username: str, now: Optional[dt.datetime] = None
) -> Tuple[List[Followup], int]:
    now = now or utcnow()
    days = labels.followup_due_working_days()
    query = _query(flt, username, now)
    with db.session(url) as s:
        if flt.overdue:
            rows = [r for r in s.execute(query).all() if is_overdue(r.created_at, now, r.status, days)]
            total = len(rows)
            rows = rows[(flt.page - 1) * PAGE_SIZE : flt.page * PAGE_SIZE]
        else:
            total = s.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
            rows = s.execute(query.limit(PAGE_SIZE).offset((flt.page - 1) * PAGE_SIZE)).all()
    refs = references.of(r.sender_id for r in rows)
    with db.session(url) as s:
        changes = history(s, refs)
    return [
        Followup(
            r,
            due_at(r.created_at, days),
            is_overdue(r.created_at, now, r.status, days),
            age(r.created_at, now),
            changes.get(r.sender_id, []),
            refs[r.sender_id],
        )
        for r in rows
    ], total


def export(url: str, flt: FollowupFilter, references: refs_.References, username: str) -> Tuple[str, int]:
    """The requests as CSV; the conversation column is its reference, never the sender id."""
    with db.session(url) as s:
        rows = s.execute(_query(flt, username)).all()
    if flt.overdue:
        now = utcnow()
        rows = [r for r in rows if is_overdue(r.created_at, now, r.status)]
    refs = references.of(r.sender_id for r in rows)
    lines = (
        [
            r.created_at.isoformat() if r.created_at else "",
            r.status,
            r.kind,
            r.name,
            r.email,
            r.phone,
            r.time_window,
            r.reason,
            r.consent_at.isoformat() if r.consent_at else "",
            refs[r.sender_id],
            r.assignee or "",
        ]
        for r in rows
    )
    return to_csv(CSV_COLUMNS, lines), len(rows)


def set_status(url: str, request_id: int, status: str) -> Optional[str]:
    """Returns the request's sender id, or None when there is no such request."""
    if status not in CONSULTATION_STATUSES:
        raise ValueError(f"status must be one of {', '.join(CONSULTATION_STATUSES)}")
    cr = db.tables().consultation_request
    with db.session(url) as s:
        sender = s.scalar(sa.select(cr.c.sender_id).where(cr.c.id == request_id))
        if sender is not None:
            s.execute(sa.update(cr).where(cr.c.id == request_id).values(status=status, updated_at=utcnow()))
    return sender


def assignable(url: str) -> List[str]:
    """User names a request can be assigned to: the active accounts."""
    from console import accounts

    return [r.username for r in accounts.list_users(url) if r.active]


def assign(url: str, request_id: int, assignee: str, by: str) -> Optional[str]:
    """Assign the request to `assignee` ("" for nobody); returns the request's sender
    id, or None when there is no such request."""
    t = db.tables()
    cr, fa = t.consultation_request, t.followup_assignment
    with db.session(url) as s:
        sender = s.scalar(sa.select(cr.c.sender_id).where(cr.c.id == request_id))
        if sender is None:
            return None
        s.execute(sa.delete(fa).where(fa.c.request_id == request_id))
        if assignee:
            s.execute(
                sa.insert(fa).values(request_id=request_id, assignee=assignee, assigned_by=by, created_at=utcnow())
            )
    return sender
