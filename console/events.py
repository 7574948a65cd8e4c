"""Read-only view of Rasa's tracker store table (`events`).

The table belongs to Rasa's SQLTrackerStore. The console never creates or alters
its columns; it only adds indexes (`ensure_indexes`) so that its aggregates stay fast.
`create_for_tests` builds the same layout for test and demo databases.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Set

import sqlalchemy as sa

_metadata = sa.MetaData()

events = sa.Table(
    "events",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

CONSOLE_INDEXES = (
    sa.Index(
        "ix_console_events_type_ts_intent", events.c.type_name, events.c.timestamp, events.c.intent_name
    ),
    sa.Index("ix_console_events_intent_sender", events.c.intent_name, events.c.sender_id),
    sa.Index("ix_console_events_action_ts", events.c.action_name, events.c.timestamp),
)

FALLBACK_INTENT = "nlu_fallback"
LOW_CONFIDENCE = 0.5
EMERGENCY_ACTIONS = ("action_emergency", "action_report_complication")
ACTION_LISTEN = "action_listen"

# Actions that take a visitor's turn without answering it (components/routing_policy.py,
# data/rules/scope.yml, config.yml's core fallback): when one of them is the first action
# after a message, the message counts as not understood even if the classifier was
# confident. Each name is in domain.yml, or is Rasa's own default action
# (tests/console/test_console_names.py); the words staff see for each are under
# `not_understood_reasons` in data/content/console_labels.yml.
NOT_ANSWERED_ACTIONS = (
    "action_clarify",  # "do you mean X or Y?" (also the policies' core fallback)
    "action_other_treatment",  # "I can't answer that reliably": another treatment
    "utter_out_of_scope",  # declines a question outside the topic
    "utter_not_a_person",  # declines a question about an animal's coat (ask a vet)
    "action_default_fallback",  # Rasa's default fallback, should config name it again
)
# Why a message counts as not understood when the classifier said so.
REASON_FALLBACK = FALLBACK_INTENT
REASON_LOW_CONFIDENCE = "low_confidence"


_ready: Set[str] = set()


def has_events_table(bind) -> bool:
    return sa.inspect(bind).has_table("events")


def available(engine: sa.engine.Engine) -> bool:
    """Whether Rasa has created `events` yet; the first time it has, the console's indexes are added."""
    key = str(engine.url)
    if key in _ready:
        return True
    if not has_events_table(engine):
        return False
    ensure_indexes(engine)
    _ready.add(key)
    return True


def ensure_indexes(bind) -> None:
    """Add the console's indexes to Rasa's table (idempotent; no column changes)."""
    if not has_events_table(bind):
        return
    with bind.begin() as conn:
        for index in CONSOLE_INDEXES:
            conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))


def create_for_tests(bind) -> None:
    """Create `events` with Rasa 3.6's layout (tests, demos, benchmarks only)."""
    events.create(bind, checkfirst=True)


def parse(data: Optional[str]) -> Dict[str, Any]:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
