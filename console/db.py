"""The console's access to the shared database, through `records`."""
from __future__ import annotations

import contextlib
from typing import Dict, Iterator, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from console import events as ev

TABLE_NAMES = (
    "screening_result",
    "triage_outcome",
    "consultation_request",
    "safety_event",
    "deletion_log",
    "staff_user",
    "conversation_review",
    "tag",
    "conversation_tag",
    "note",
    "message_flag",
    "audit_log",
    "conversation_summary",
)


_stand_ins: Dict[str, sa.Table] = {}


class SchemaMissing(RuntimeError):
    """`records` does not (yet) define a table the console needs."""


def _metadata() -> sa.MetaData:
    from records import models

    return models.Base.metadata


class Tables:
    """Records tables by their contract names (e.g. `tables().staff_user`) plus `events`."""

    def __init__(self, known: Dict[str, sa.Table]):
        self._known = known
        self.events = ev.events

    def __getattr__(self, name: str) -> sa.Table:
        if name not in TABLE_NAMES:
            raise AttributeError(name)
        try:
            return self._known[name]
        except KeyError:
            raise SchemaMissing(f"records.models lacks {name}; see console/SCHEMA_REQUESTS.md") from None

    def check(self) -> None:
        missing = [name for name in TABLE_NAMES if name not in self._known]
        if missing:
            raise SchemaMissing(f"records.models lacks {', '.join(missing)}; see console/SCHEMA_REQUESTS.md")


def tables() -> Tables:
    return Tables({**_stand_ins, **_metadata().tables})


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


def prepare(url: str) -> None:
    """Migrate the records tables to head and add the console's indexes to `events`."""
    from records import db

    db.upgrade(url)
    ev.ensure_indexes(engine(url))
