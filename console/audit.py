"""The audit log of staff actions (who viewed, changed or exported what, when)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple
from urllib.parse import urlencode

import sqlalchemy as sa

from console import db
from console.accounts import utcnow

PAGE_SIZE = 100


def record(
    url: str, username: Optional[str], action: str, target: Optional[str] = None, detail: str = ""
) -> None:
    t = db.tables().audit_log
    with db.session(url) as s:
        s.execute(
            sa.insert(t).values(
                at=utcnow(),
                created_at=utcnow(),
                username=username,
                action=action,
                target=target,
                detail=detail or "",
            )
        )


@dataclass
class AuditFilter:
    username: str = ""
    action: str = ""
    page: int = 1

    def query_string(self, page: int = 1) -> str:
        pairs = (("username", self.username), ("action", self.action), ("page", page))
        return urlencode({k: v for k, v in pairs if v and v != 1})


def entries(url: str, flt: AuditFilter) -> Tuple[List[sa.engine.Row], int]:
    t = db.tables().audit_log
    conditions = []
    if flt.username:
        conditions.append(t.c.username == flt.username)
    if flt.action:
        conditions.append(t.c.action == flt.action)
    with db.session(url) as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(t).where(*conditions))
        rows = s.execute(
            sa.select(t)
            .where(*conditions)
            .order_by(t.c.at.desc(), t.c.id.desc())
            .limit(PAGE_SIZE)
            .offset((max(flt.page, 1) - 1) * PAGE_SIZE)
        ).all()
    return rows, total


def actions(url: str) -> List[str]:
    t = db.tables().audit_log
    with db.session(url) as s:
        return list(s.scalars(sa.select(t.c.action).distinct().order_by(t.c.action)))


VIEWED_PAGES = {"/": "home.view", "/inbox": "inbox.view", "/improve": "improve.view"}
"""Pages that show visitors' words in bulk; each successful view is audited (the
transcript page audits itself as ``transcript.view``)."""


def view_detail(path: str, params) -> str:
    """What was looked at, without the search text itself (it may be a visitor's words)."""
    parts = []
    query = (params.get("q") or "").strip()
    if query:
        parts.append(f"text search ({len(query)} characters)")
    for name in ("view", "days", "date_from", "date_to", "outcome", "intent", "reviewed", "tag", "page"):
        values = [v for v in params.getlist(name) if v] if hasattr(params, "getlist") else []
        if values:
            parts.append(f"{name}={','.join(v[:32] for v in values)}")
    return "; ".join(parts)[:500]


class ViewAudit:
    """Records an audit entry for every successful GET of a page in ``VIEWED_PAGES``,
    after the page was sent, under the signed-in user's name."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        action = VIEWED_PAGES.get(scope.get("path", "")) if scope["type"] == "http" else None
        if action is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        status = 0

        async def watching_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watching_send)
        user = (scope.get("state") or {}).get("user")
        if status == 200 and user is not None:
            from starlette.concurrency import run_in_threadpool
            from starlette.requests import HTTPConnection

            detail = view_detail(scope["path"], HTTPConnection(scope).query_params)
            await run_in_threadpool(
                record, scope["app"].state.settings.db_url, user.username, action, None, detail
            )
