"""Keeps `conversation_summary` (one row per sender) in step with Rasa's `events`.

The summary is a cache: every row can be rebuilt from the sender's events. A
refresh recomputes each sender that has events newer than the highest event id
already folded in, minus a look-back window that catches rows committed out of id
order by concurrent writers. Rows whose sender has no events left are swept.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Dict, Iterable, List, Optional, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from console import db
from console import events as ev
from console.accounts import utcnow

LOOKBACK_IDS = 2000
CHUNK = 500
SWEEP_SECONDS = 60.0
TEXT_TYPES = ("user", "bot")

_last_sweep: Dict[str, float] = {}
_locks: Dict[str, threading.Lock] = defaultdict(threading.Lock)


def classifier_reason(intent: Optional[str], confidence) -> Optional[str]:
    """The classifier did not understand: `nlu_fallback`, or a confidence below LOW_CONFIDENCE."""
    if intent == ev.FALLBACK_INTENT:
        return ev.REASON_FALLBACK
    if isinstance(confidence, (int, float)) and confidence < ev.LOW_CONFIDENCE:
        return ev.REASON_LOW_CONFIDENCE
    return None


def not_understood_reason(
    intent: Optional[str], confidence, first_action: Optional[str] = None
) -> Optional[str]:
    """Why a visitor message counts as not understood (a code labelled in console_labels.yml
    `not_understood_reasons`), or None when it was answered: the classifier's fallback or
    low confidence first; else the first action after the message, when it is one that
    takes the turn without answering (ev.NOT_ANSWERED_ACTIONS: "do you mean...?", "I
    can't answer that reliably", out of scope), however confident the classifier was."""
    reason = classifier_reason(intent, confidence)
    if reason is None and first_action in ev.NOT_ANSWERED_ACTIONS:
        return first_action
    return reason


def first_actions(rows: Iterable) -> Dict[int, str]:
    """User event id -> the first action Rasa ran after that message, for each message of
    `rows` followed by an action other than `action_listen` before the next message.

    `rows` have `id`, `sender_id`, `type_name` and `action_name`; each sender's rows in
    id order (several senders may be interleaved). Other event types are skipped."""
    found: Dict[int, str] = {}
    waiting: Dict[str, int] = {}
    for row in rows:
        if row.type_name == "user":
            waiting[row.sender_id] = row.id
        elif row.type_name == "action":
            user_id = waiting.pop(row.sender_id, None)
            if user_id is not None and row.action_name and row.action_name != ev.ACTION_LISTEN:
                found[user_id] = row.action_name
    return found


def summarise(sender_id: str, rows: Sequence) -> dict:
    """Summary values for one sender from its event rows (ordered by id).

    `fallback_turns` counts the visitor messages not understood (`not_understood_reason`),
    each at most once: a fallback that the policy then clarifies is one turn."""
    channel = None
    turns = fallback_turns = 0
    escalated = False
    texts: List[str] = []
    actions = first_actions(rows)
    for row in rows:
        if row.type_name == "action" and row.action_name in ev.EMERGENCY_ACTIONS:
            escalated = True
        if row.type_name not in TEXT_TYPES:
            continue
        data = ev.parse(row.data)
        text = data.get("text")
        if isinstance(text, str) and text:
            texts.append(text.lower())
        if row.type_name == "user":
            turns += 1
            if channel is None:
                channel = data.get("input_channel")
            intent = (data.get("parse_data") or {}).get("intent") or {}
            name, confidence = intent.get("name") or row.intent_name, intent.get("confidence")
            if not_understood_reason(name, confidence, actions.get(row.id)):
                fallback_turns += 1
    stamps = [row.timestamp for row in rows if row.timestamp is not None] or [0.0]
    return {
        "sender_id": sender_id,
        "started_at": min(stamps),
        "last_at": max(stamps),
        "last_event_id": max(row.id for row in rows),
        "channel": (channel or None) and str(channel)[:64],
        "turns": turns,
        "fallback_turns": fallback_turns,
        "escalated": escalated,
        "search_text": "\n".join(texts),
    }


def _rebuild(url: str, senders: Sequence[str]) -> int:
    t = db.tables()
    e, s = t.events, t.conversation_summary
    data = sa.case((e.c.type_name.in_(TEXT_TYPES), e.c.data), else_=sa.null()).label("data")
    with db.session(url) as session:
        rows = session.execute(
            sa.select(
                e.c.id, e.c.sender_id, e.c.type_name, e.c.timestamp, e.c.intent_name, e.c.action_name, data
            )
            .where(e.c.sender_id.in_(senders))
            .order_by(e.c.sender_id, e.c.id)
        ).all()
    grouped: Dict[str, list] = defaultdict(list)
    for row in rows:
        grouped[row.sender_id].append(row)
    now = utcnow()
    values = [
        {**summarise(sender, grouped[sender]), "created_at": now} for sender in senders if grouped.get(sender)
    ]
    try:
        with db.session(url) as session:
            session.execute(sa.delete(s).where(s.c.sender_id.in_(senders)))
            if values:
                session.execute(sa.insert(s), values)
    except IntegrityError:
        return 0
    return len(values)


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sweep(url: str) -> int:
    """Delete summaries whose sender has no events left (e.g. after a deletion)."""
    t = db.tables()
    s, e = t.conversation_summary, t.events
    orphan = ~sa.exists().where(e.c.sender_id == s.c.sender_id)
    with db.session(url) as session:
        return session.execute(sa.delete(s).where(orphan)).rowcount


def refresh(url: str, full: bool = False) -> int:
    """Bring the summaries up to date; returns the number of senders recomputed."""
    t = db.tables()
    e, s = t.events, t.conversation_summary
    with _locks[url]:
        if not db.events_ready(url):
            return 0
        with db.session(url) as session:
            newest = session.scalar(sa.select(sa.func.max(e.c.id)))
            folded = session.scalar(sa.select(sa.func.max(s.c.last_event_id))) or 0
        now = time.monotonic()
        if full or now - _last_sweep.get(url, 0.0) > SWEEP_SECONDS:
            _last_sweep[url] = now
            sweep(url)
        if newest is None or (not full and folded >= newest):
            return 0
        since = 0 if full else max(0, folded - LOOKBACK_IDS)
        with db.session(url) as session:
            senders = session.scalars(sa.select(e.c.sender_id).where(e.c.id > since).distinct()).all()
        return sum(_rebuild(url, chunk) for chunk in _chunks(sorted(senders), CHUNK))


def forget(url: str, sender_id: str) -> None:
    s = db.tables().conversation_summary
    with db.session(url) as session:
        session.execute(sa.delete(s).where(s.c.sender_id == sender_id))
