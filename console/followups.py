"""Consultation requests to follow up, and their CSV export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple
from urllib.parse import urlencode

import sqlalchemy as sa

from console import db
from console.accounts import utcnow
from console.csvexport import to_csv
from records.vocabulary import CONSULTATION_STATUSES

PAGE_SIZE = 50
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
)


@dataclass
class FollowupFilter:
    status: str = ""
    page: int = 1

    @classmethod
    def from_params(cls, params) -> "FollowupFilter":
        status = params.get("status", "")
        try:
            page = max(1, int(params.get("page") or 1))
        except ValueError:
            page = 1
        return cls(status if status in CONSULTATION_STATUSES else "", page)

    def query_string(self, page: int = 1) -> str:
        return urlencode({k: v for k, v in (("status", self.status), ("page", page)) if v and v != 1})


def _query(flt: FollowupFilter):
    cr = db.tables().consultation_request
    query = sa.select(cr)
    if flt.status:
        query = query.where(cr.c.status == flt.status)
    return query.order_by(cr.c.created_at.desc(), cr.c.id.desc())


def listing(url: str, flt: FollowupFilter) -> Tuple[List[sa.engine.Row], int]:
    query = _query(flt)
    with db.session(url) as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
        rows = s.execute(query.limit(PAGE_SIZE).offset((flt.page - 1) * PAGE_SIZE)).all()
    return rows, total


def export(url: str, flt: FollowupFilter) -> Tuple[str, int]:
    with db.session(url) as s:
        rows = s.execute(_query(flt)).all()
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
            r.sender_id,
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
