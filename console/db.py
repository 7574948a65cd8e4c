"""The console's access to the shared database, through `records`."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import Iterator, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from console import events as ev
from records.models import Base

TABLE_NAMES = tuple(Base.metadata.tables)  # every table records/ defines


def tables() -> SimpleNamespace:
    """Records tables by their contract names (e.g. `tables().staff_user`) plus `events`.

    The console uses `records.models` as it is (TABLE_NAMES is read from it), so no
    table can be missing here; a name the console uses that `records` lacks fails as
    an AttributeError at the first query, and in tests/console."""
    known = Base.metadata.tables
    return SimpleNamespace(**{name: known[name] for name in TABLE_NAMES}, events=ev.events)


def database_url(url: Optional[str] = None) -> str:
    from records import db

    return url or db.database_url()


@contextlib.contextmanager
def session(url: str) -> Iterator[Session]:
    from records import db

    with db.session_scope(url) as s:
        yield s


def engine(url: str) -> sa.engine.Engine:
    from records import db

    return db.get_engine(url)


def events_ready(url: str) -> bool:
    """Rasa's `events` table exists (it appears when Rasa first starts on the database)."""
    return ev.available(engine(url))


def prepare(url: str) -> None:
    """Migrate the records tables to head and add the console's indexes to `events`."""
    from records import db

    db.upgrade(url)
    events_ready(url)
