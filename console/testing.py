"""Support for tests and benchmarks only; the running console never imports this.

`conversation_summary` is requested from `records` (console/SCHEMA_REQUESTS.md #1).
Until records defines it, `use_summary_stand_in()` registers a table with exactly
the requested columns so tests and benchmarks can run; once records has it, the
function does nothing and this module can go.
"""
from __future__ import annotations

import sqlalchemy as sa

from console import db

_metadata = sa.MetaData()


def _stand_in() -> sa.Table:
    return sa.Table(
        "conversation_summary",
        _metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("sender_id", sa.String(255), nullable=False, unique=True),
        sa.Column("started_at", sa.Float, nullable=False, index=True),
        sa.Column("last_at", sa.Float, nullable=False),
        sa.Column("last_event_id", sa.Integer, nullable=False, index=True),
        sa.Column("channel", sa.String(64)),
        sa.Column("turns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("fallback_turns", sa.Integer, nullable=False, server_default="0"),
        sa.Column("escalated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
    )


def records_has_summary() -> bool:
    return "conversation_summary" in db._metadata().tables


def use_summary_stand_in() -> None:
    if not records_has_summary() and "conversation_summary" not in db._stand_ins:
        db._stand_ins["conversation_summary"] = _stand_in()


def create_stand_in(url: str) -> None:
    """Create the stand-in table in the database at `url` (no-op when records has the table)."""
    table = db._stand_ins.get("conversation_summary")
    if table is not None and not records_has_summary():
        table.create(db.engine(url), checkfirst=True)
