"""Saved inbox views: a filter set kept under a name, listed as links above the inbox.

A view belongs to the member of staff who saved it; ticking "share" lists it for all
staff. Its owner or an admin can delete it. Only the filters are kept, never the text
search: a search may quote a visitor's words, and "delete my data" could not find them
in a view. Saving under a name the owner already used replaces that view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import sqlalchemy as sa
from starlette.datastructures import QueryParams

from console import db
from console.accounts import Staff, utcnow
from console.inbox import InboxFilter

MAX_NAME = 80
MAX_VIEWS = 50  # per owner


class ViewError(ValueError):
    pass


@dataclass(frozen=True)
class SavedView:
    id: int
    owner: str
    name: str
    query: str
    shared: bool

    @property
    def href(self) -> str:
        return "/inbox" + (f"?{self.query}" if self.query else "")

    def deletable_by(self, user: Staff) -> bool:
        return user.is_admin or user.username == self.owner


def filters_query(params) -> str:
    """The inbox query string of the filters in `params`, without text search or page."""
    return InboxFilter.from_params(params).query_string(q="", page=1)


def _view(row) -> SavedView:
    return SavedView(row.id, row.owner, row.name, row.query, bool(row.shared))


def visible_to(url: str, user: Staff) -> List[SavedView]:
    """The user's own views, then the views others shared, by name."""
    t = db.tables().console_saved_view
    with db.session(url) as s:
        rows = s.execute(
            sa.select(t)
            .where(sa.or_(t.c.owner == user.username, t.c.shared.is_(True)))
            .order_by(t.c.owner != user.username, sa.func.lower(t.c.name), t.c.id)
        ).all()
    return [_view(r) for r in rows]


def save(url: str, user: Staff, name: str, query_string: str, shared: bool) -> SavedView:
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise ViewError("name")
    query = filters_query(QueryParams(query_string or ""))
    if not query:
        raise ViewError("filters")
    t = db.tables().console_saved_view
    with db.session(url) as s:
        existing = s.scalar(sa.select(t.c.id).where(t.c.owner == user.username, t.c.name == name))
        if existing is not None:
            s.execute(sa.update(t).where(t.c.id == existing).values(query=query, shared=shared))
            view_id = existing
        else:
            count = s.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.owner == user.username))
            if count >= MAX_VIEWS:
                raise ViewError("too_many")
            view_id = s.execute(
                sa.insert(t).values(owner=user.username, name=name, query=query, shared=shared, created_at=utcnow())
            ).inserted_primary_key[0]
    return SavedView(view_id, user.username, name, query, shared)


def delete(url: str, user: Staff, view_id: int) -> Optional[SavedView]:
    """Deletes the view if the user may; returns it, or None when there is no such view
    (or it is someone else's unshared view); raises PermissionError for another's shared one."""
    t = db.tables().console_saved_view
    with db.session(url) as s:
        row = s.execute(sa.select(t).where(t.c.id == view_id)).first()
        if row is None or (row.owner != user.username and not row.shared and not user.is_admin):
            return None
        view = _view(row)
        if not view.deletable_by(user):
            raise PermissionError(view_id)
        s.execute(sa.delete(t).where(t.c.id == view_id))
    return view
