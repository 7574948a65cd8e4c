"""Questionnaire answers a visitor chose not to keep (issue 12, section 4).

Screening and triage answers are health data. Each questionnaire's introduction says
they are kept for the clinic and offers "Don't keep my answers"; choosing it (a
button or typed words, at any point of the questions) sets the slot ``keep_answers``
to False and the questions go on as before. From then on nothing of a questionnaire
is kept in the conversation log:

- every visitor message typed during a questionnaire (its text, intent, entities)
  becomes ``ANSWER_NOT_KEPT``, except an emergency or a complication, which staff
  must be able to read;
- every assistant message of the questionnaire, its outcome included, keeps its
  buttons (the conversation needs them) but not its text;
- the answer slots and the outcome slots (``sc_*``, ``tr_*``, ``screening_outcome``,
  ``triage_outcome``) are stored as empty, as soon as the questionnaire is over. While
  it runs the questions need the earlier answers (Rasa reads them back from the log
  at every message), so a questionnaire in progress keeps its slot values until it
  ends or is stopped; one left in the middle is masked by the retention command
  (``python -m records purge``, ``mask_abandoned``) after ``ABANDONED_AFTER_SECONDS``.

The choice covers the questionnaires before it too: the whole conversation is
masked. The clinic records (screening results, triage outcomes) are not written and
earlier ones are deleted by the action that takes the choice; the safety events of
a red flag or an emergency stay, as the clinic's duty of care needs them.

``mask`` works on event dictionaries (Rasa's ``as_dict`` form): the tracker store
applies it on every save of a conversation that chose this. ``forget_answers`` (the
action taking the choice) and ``mask_abandoned`` (the retention command) act on the
records database. No Rasa import.
"""
from __future__ import annotations

import copy
import json
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import sqlalchemy as sa

from records import copies, db
from records.models import ScreeningResult, TriageOutcome
from records.store import delete_rows
from records.vocabulary import KEEP_ANSWERS_SLOT

KEEP_SLOT = KEEP_ANSWERS_SLOT
"""False once the visitor chose not to keep questionnaire answers."""

QUESTIONNAIRES = ("screening_form", "triage_form")
PRIVATE_SLOT_PREFIXES = ("sc_", "tr_")
OUTCOME_SLOTS = ("screening_outcome", "triage_outcome")
READABLE_INTENTS = frozenset({"emergency", "report_complication"})
"""Messages that stay readable although typed during a questionnaire."""

ANSWER_NOT_KEPT = "[answer not kept at the visitor's request]"
"""What a visitor's message or an assistant's message of a questionnaire becomes."""

MASKED_MARK = "answer_not_kept"
"""Metadata key set on a masked message (so a second pass leaves it alone)."""

ABANDONED_AFTER_SECONDS = 3600.0
"""A questionnaire with no event for this long counts as left, and is masked whole."""


def is_private_slot(name: Any) -> bool:
    return isinstance(name, str) and (name.startswith(PRIVATE_SLOT_PREFIXES) or name in OUTCOME_SLOTS)


def chose_not_to_keep(events: Iterable[Dict[str, Any]]) -> bool:
    """Whether the latest ``keep_answers`` slot event says False."""
    choice = None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == KEEP_SLOT:
            choice = event.get("value")
        elif event.get("event") == "restart":
            choice = None
    return choice is False


def _intent(event: Dict[str, Any]) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def _spans(events: Sequence[Dict[str, Any]]) -> Tuple[List[Tuple[int, int]], Optional[int]]:
    """The questionnaires in ``events``: closed spans ``(first, last)`` (from the event
    that opens the form to the listen after its outcome) and the start of the one still
    open, if any."""
    spans: List[Tuple[int, int]] = []
    start: Optional[int] = None
    closing = False
    for i, event in enumerate(events):
        kind = event.get("event")
        if kind == "active_loop":
            name = event.get("name")
            if name in QUESTIONNAIRES:
                if start is None:
                    start = i
                closing = False
            elif start is not None:
                closing = True  # the form ended; its outcome follows until the next listen
        elif kind in ("restart", "session_started") and start is not None:
            spans.append((start, i))
            start, closing = None, False
        elif kind == "action" and event.get("name") == "action_listen" and closing:
            spans.append((start, i))
            start, closing = None, False
    return spans, start


def _mask_user(event: Dict[str, Any]) -> Dict[str, Any]:
    masked = copy.deepcopy(event)
    masked["text"] = ANSWER_NOT_KEPT
    masked["parse_data"] = {"text": ANSWER_NOT_KEPT, "intent": {}, "entities": [], "intent_ranking": []}
    masked["metadata"] = {MASKED_MARK: True}
    return masked


def _mask_bot(event: Dict[str, Any]) -> Dict[str, Any]:
    masked = copy.deepcopy(event)
    masked["text"] = ANSWER_NOT_KEPT
    data = masked.get("data") or {}
    masked["data"] = {"buttons": data.get("buttons")} if data.get("buttons") else {}
    masked["metadata"] = {MASKED_MARK: True}
    return masked


def _is_masked(event: Dict[str, Any]) -> bool:
    return bool((event.get("metadata") or {}).get(MASKED_MARK))


def mask(events: Sequence[Dict[str, Any]], *, whole: bool = False) -> Tuple[List[Dict[str, Any]], List[str]]:
    """``events`` with the questionnaires' answers masked, and the visitor texts that
    were masked (so their copies elsewhere can be removed too). The slot values of a
    questionnaire still open stay unless ``whole`` (a questionnaire left for good)."""
    spans, open_start = _spans(events)
    if open_start is not None:
        spans.append((open_start, len(events) - 1))
    inside = [False] * len(events)
    for first, last in spans:
        for i in range(first, last + 1):
            inside[i] = True
    keep_slots_from = len(events) if whole or open_start is None else open_start
    result: List[Dict[str, Any]] = []
    texts: List[str] = []
    for i, event in enumerate(events):
        kind = event.get("event")
        if kind == "user" and inside[i] and not _is_masked(event) and _intent(event) not in READABLE_INTENTS:
            if isinstance(event.get("text"), str):
                texts.append(event["text"])
            event = _mask_user(event)
        elif kind == "bot" and inside[i] and not _is_masked(event):
            event = _mask_bot(event)
        elif kind == "slot" and is_private_slot(event.get("name")) and i < keep_slots_from and event.get("value") is not None:
            event = {**event, "value": None}
        result.append(event)
    return result, texts


def abandoned(events: Sequence[Dict[str, Any]], now: float) -> bool:
    """Whether the conversation's last event is older than ``ABANDONED_AFTER_SECONDS``."""
    stamps = [e.get("timestamp") for e in events if isinstance(e.get("timestamp"), (int, float))]
    return bool(stamps) and now - max(stamps) > ABANDONED_AFTER_SECONDS


ANSWER_TABLES = (ScreeningResult, TriageOutcome)


def forget_answers(sender_id: str, *, url: Optional[str] = None) -> Dict[str, int]:
    """Delete the conversation's screening results and triage outcomes (the visitor
    chose not to keep answers); return the counts per table."""
    with db.session_scope(url) as session:
        return delete_rows(session, ANSWER_TABLES, sender_id)


EVENTS_TABLE = "events"


def mask_abandoned(*, url: Optional[str] = None, now: Optional[float] = None, dry_run: bool = False) -> int:
    """Mask whole the conversations that chose not to keep answers and whose last event is
    older than ``ABANDONED_AFTER_SECONDS`` (a questionnaire left in the middle keeps its
    slot values until then); return how many conversations changed."""
    now = time.time() if now is None else now
    changed = 0
    with db.session_scope(url) as session:
        connection = session.connection()
        if not sa.inspect(connection).has_table(EVENTS_TABLE):
            return 0
        events = sa.table(
            EVENTS_TABLE, sa.column("id"), sa.column("sender_id"), sa.column("type_name"),
            sa.column("intent_name"), sa.column("data"),
        )
        senders = connection.execute(
            sa.select(events.c.sender_id).distinct().where(
                events.c.type_name == "slot", events.c.data.like(f'%"{KEEP_SLOT}"%')
            )
        ).scalars().all()
        for sender in senders:
            rows = connection.execute(
                sa.select(events.c.id, events.c.data).where(events.c.sender_id == sender).order_by(events.c.id)
            ).all()
            stored = [json.loads(row.data) for row in rows]
            if not chose_not_to_keep(stored) or not abandoned(stored, now):
                continue
            masked, texts = mask(stored, whole=True)
            updates = [(row.id, after) for row, before, after in zip(rows, stored, masked) if after != before]
            if not updates:
                continue
            changed += 1
            if dry_run:
                continue
            for row_id, after in updates:
                connection.execute(
                    events.update().where(events.c.id == row_id).values(
                        data=json.dumps(after),
                        intent_name=((after.get("parse_data") or {}).get("intent") or {}).get("name"),
                    )
                )
            if texts:
                copies.scrub_nlu_inbox(texts)
    return changed
