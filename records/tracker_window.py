"""A conversation's recent window and a summary of what came before it (issue 14).

Rasa 3.6 rebuilds the whole session on every message: the SQL store loads every event
since the session start, replays them, each policy computes a state for every action of
the session, and every custom-action call posts all of them to the action server. At
turn 200 that is about 1,300 events and x3 the time of turn 1 (docs/performance.md,
"Turn 1 vs turn 200"). ``records.tracker_store.MesoTrackerStore`` loads instead:

1. a summary of the events before a boundary (the *prefix*, built here, never stored):
   the session's ``SessionStarted``; the earlier visitor messages (text and entities)
   in one ``SlotSet`` of ``EARLIER_MESSAGES_SLOT``, because the actions read what the
   visitor said since the session start
   (``actions.common.user_messages_since_session_start``: the questionnaires' prefill);
   the last bot message (what ``actions.conversation.offered_flow`` reads when the
   window holds none); one ``SlotSet`` per slot that had been set, with its value at
   the boundary; ``ConversationPaused`` when paused;
2. every stored event from the boundary on, as stored.

The boundary (``choose_boundary``) is an ``action_listen`` directly followed by a
visitor message, chosen as late as possible such that

- no loop (form) is active there, so every loop run in the window starts in the
  window and Rasa's ``applied_events`` collapses its turns the same way as on the whole
  session (``DialogueStateTracker._first_loop_execution_or_unhappy_path`` stops at a
  visitor message answered by another action, or at the loop's deactivation);
- no undo event (``rewind``, ``undo``) comes before it: those make Rasa recompute the
  state from the applied events, which the slot summary would not reproduce;
- the window holds at least ``MIN_USER_TURNS`` visitor messages, ``MIN_STATES``
  applied actions (the states the rule policy matches from the end) and
  ``MIN_ML_STATES`` applied actions not hidden as rule-only turns (TED and
  memoization skip those: with ``max_history`` 5 or 4 they look at the last 5 or 4
  visible states, which may lie far back when the recent turns were rule-only form
  turns).
  ``tests/records/test_tracker_store_window.py`` checks these against config.yml.

When no such boundary exists the whole session is loaded, as Rasa does. The applied
events (and so the states the policies see) are then the same from the boundary on,
and the state at the boundary (slots, no active loop, paused or not) is the same.

What the prefix changes: ``tracker.events`` is shorter (the console and
``retrieve_full_tracker`` read the whole stored conversation; nothing in MesoGuide
counts events), the earlier visitor messages are a slot's value instead of events, and
an active loop's ``trigger_message`` may differ (nothing reads it).

Saving: the tracker carries a ``Window`` (how many events of it are the prefix, and
the id of the boundary's row), and ``unsaved_events`` slices the new events by the
count of stored events from the boundary on, as Rasa slices by the session's count.
"""
from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import threading
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Text, Tuple

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    Event,
    LegacyForm,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
    deserialise_events,
)
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

from records.vocabulary import EARLIER_MESSAGES_SLOT

MIN_USER_TURNS = 5
MIN_STATES = 12
MIN_ML_STATES = 9
"""Policies' largest ``max_history`` (at most 5 in config.yml) plus a margin: the earliest of the
last 5 visible states takes its previous action from the visible turn before it, and a
turn that follows a follow-up action or a loop's happy path keeps the hidden flag of the
turn before."""

ATTRIBUTE = "_mesoguide_window"
RESET_TYPES = (
    AllSlotsReset.type_name,
    Restarted.type_name,
    SessionStarted.type_name,
    ConversationPaused.type_name,
    ConversationResumed.type_name,
)
STATE_TYPES = (SlotSet.type_name, *RESET_TYPES)
"""Event types that decide the state at the boundary once no loop is active there."""
UNDO_TYPES = (UserUtteranceReverted.type_name, ActionReverted.type_name)
LOOP_TYPES = (ActiveLoop.type_name, LegacyForm.type_name)
LIGHT_USER_KEYS = ("event", "timestamp", "text", "parse_data", "input_channel")
LIGHT_PARSE_KEYS = ("intent", "entities", "text")
"""What an earlier visitor message keeps in the summary: its text, intent and entities
(the ranking, tokens, signals and ids are read from the latest message only)."""
HIDDEN_PATTERNS = ('%"hide_rule_turn": true%', '%"hide_rule_turn":true%')
"""How a rule-only turn's ``action`` row looks in the ``data`` column (json.dumps)."""

Row = Tuple[int, Text, Optional[Text]]
"""(id, type_name, action_name) of a stored event; ``action_name`` is the event's
``name`` field: the action, the slot or the loop."""


@dataclasses.dataclass(frozen=True)
class Window:
    prefix: int
    """Events at the start of the tracker that summarise the skipped ones (not stored)."""
    boundary_id: int
    """``events.id`` of the first stored event in the tracker (the boundary)."""
    boundary_timestamp: Optional[float] = None
    """That row's ``timestamp`` column (``PrefixCache`` checks it)."""
    prefix_events: Optional[List[Dict[Text, Any]]] = dataclasses.field(default=None, compare=False, repr=False)
    """The summary, serialised (what ``PrefixCache`` keeps)."""


@dataclasses.dataclass(frozen=True)
class CachedPrefix:
    """A summary this process built (the ``Window`` of a read, with ``prefix_events``)
    and the domain it was built with: reused while the stored rows from the window's
    boundary on still start with the same boundary row (``PrefixCache``)."""

    domain: Any
    window: Window

    @property
    def boundary_id(self) -> int:
        return self.window.boundary_id

    @property
    def boundary_timestamp(self) -> Optional[float]:
        return self.window.boundary_timestamp

    @property
    def prefix(self) -> List[Dict[Text, Any]]:
        return self.window.prefix_events or []


PREFIX_CACHE_SIZE = 2000


class LruMap:
    """A thread-safe map of at most ``size`` entries, the least recently used dropped
    first (the store's last trackers seen and ``PrefixCache`` share it)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: "collections.OrderedDict[Text, Any]" = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Text) -> Any:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Text, value: Any) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def drop(self, key: Text) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)


class PrefixCache(LruMap):
    """The last summary built per conversation (least recently used dropped first).

    The stored rows before a boundary never change while a conversation goes on: Rasa
    only appends, and a later boundary only moves forward (see ``extend``). What can
    change them is done elsewhere and handled: deleting the conversation (forget me,
    retention, the console) removes the boundary's row, which the read checks (its id
    and timestamp); masking the answers of a visitor who chose not to keep them rewrites
    earlier rows, so such a conversation is never cached (``records.tracker_store``);
    a new session starts a new summary; a new model (domain) empties the cache."""

    def __init__(self, size: int = PREFIX_CACHE_SIZE) -> None:
        super().__init__(size)

    def get(self, sender_id: Text, domain: Any) -> Optional[CachedPrefix]:  # type: ignore[override]
        entry = super().get(sender_id)
        return entry if entry is not None and entry.domain is domain else None


def still_valid(entry: CachedPrefix, rows: Sequence[Tuple[int, Text, Optional[Text], Optional[float]]]) -> bool:
    """Whether the stored rows from the cached boundary on (id, type, name, timestamp)
    continue the cached summary: they start with the same boundary row (not deleted, nor
    deleted and written anew) and hold no new session."""
    if not rows:
        return False
    first_id, first_type, first_name, first_timestamp = rows[0][:4]
    return (
        first_id == entry.boundary_id
        and first_type == ActionExecuted.type_name
        and first_name == ACTION_LISTEN_NAME
        and first_timestamp == entry.boundary_timestamp
        and all(row[1] != SessionStarted.type_name for row in rows)
    )


def extend(
    sender_id: Text, entry: CachedPrefix, rows: Sequence[Row], data: Sequence[Dict[Text, Any]],
    hidden_ids: Iterable[int], slots: Iterable[Slot],
) -> Tuple[List[Dict[Text, Any]], int]:
    """The summary and boundary for the rows from a cached boundary on (``rows``, with
    their events ``data``): the latest boundary among them, as ``choose_boundary`` picks
    it on the whole session (a boundary stays possible as the conversation grows, and
    the applied events from one are those of the whole session), and the summary of the
    cached summary and the rows before it, selected as a read of the whole session
    selects them; the same summary as that read builds (tested). Returns (summary,
    index of the new boundary in ``rows``, 0 when it stays)."""
    boundary = choose_boundary(rows, hidden_ids)
    if not boundary:
        return entry.prefix, 0
    earlier = rows[:boundary]
    kept = set(summarised_ids(earlier))
    kept.update(row[0] for row in earlier if row[1] in RESET_TYPES or row[1] == UserUttered.type_name)
    before = [event for row, event in zip(earlier, data) if row[0] in kept]
    return prefix_events(sender_id, list(entry.prefix) + before, slots), boundary


def deserialise(events: Iterable[Dict[Text, Any]]) -> List[Event]:
    """The events of ``events`` (dictionaries without an ``event`` skipped), as Rasa's
    ``deserialise_events`` reads them. Rasa finds each event's class by walking every
    ``Event`` subclass; in Rasa's process ``channels/rasa_hot_paths.py`` (installed with
    the REST channel) makes that a table lookup, for this read and every other one."""
    return deserialise_events(list(events))


def tracker_from_dicts(
    sender_id: Text, events: Iterable[Dict[Text, Any]], slots: Iterable[Slot]
) -> DialogueStateTracker:
    """``DialogueStateTracker.from_dict`` with ``deserialise``."""
    return DialogueStateTracker.from_events(sender_id, deserialise(events), slots)


def window_of(tracker: DialogueStateTracker) -> Optional[Window]:
    return getattr(tracker, ATTRIBUTE, None)


def attach(tracker: DialogueStateTracker, window: Window) -> DialogueStateTracker:
    setattr(tracker, ATTRIBUTE, window)
    return tracker


def stored_part(tracker: DialogueStateTracker) -> List[Event]:
    """The tracker's events without the prefix (what is, or will be, stored)."""
    window = window_of(tracker)
    return list(tracker.events)[window.prefix:] if window else list(tracker.events)


def unsaved_events(tracker: DialogueStateTracker, stored: int) -> Iterator[Event]:
    """The events of a windowed tracker not stored yet, given how many events of the
    conversation are stored from the boundary on (Rasa's ``_additional_events`` slices
    by the stored count of the session the same way)."""
    start = window_of(tracker).prefix + stored
    return itertools.islice(tracker.events, start, len(tracker.events))


def current_session(listed: Sequence[Tuple[int, Text, Optional[Text], Optional[float], bool]]) -> Tuple[List[Row], List[int]]:
    """From (id, type_name, action_name, timestamp, rule-only) of all of a conversation's
    events in order: the rows of the latest session as Rasa's ``_event_query`` selects
    them (timestamp at or after the latest ``SessionStarted``'s, or all when none), and
    the ids of the rule-only turns."""
    starts = [timestamp for _id, type_name, _name, timestamp, _h in listed if type_name == SessionStarted.type_name]
    start = max((t for t in starts if t is not None), default=None)
    kept = [row for row in listed if start is None or (row[3] is not None and row[3] >= start)]
    return [(event_id, type_name, name) for event_id, type_name, name, _t, _h in kept], [r[0] for r in kept if r[4]]


def _stub(row: Row, hidden: bool) -> Optional[Event]:
    """An event with only what ``applied_events`` looks at."""
    _id, type_name, name = row
    if type_name == ActionExecuted.type_name:
        return ActionExecuted(name, hide_rule_turn=hidden)
    if type_name == UserUttered.type_name:
        return UserUttered()
    if type_name in LOOP_TYPES:
        return ActiveLoop(name)
    if type_name == ActionExecutionRejected.type_name:
        return ActionExecutionRejected(name)
    if type_name == DefinePrevUserUtteredFeaturization.type_name:
        return DefinePrevUserUtteredFeaturization(False)
    if type_name == UserUtteranceReverted.type_name:
        return UserUtteranceReverted()
    if type_name == ActionReverted.type_name:
        return ActionReverted()
    if type_name == Restarted.type_name:
        return Restarted()
    if type_name == SessionStarted.type_name:
        return SessionStarted()
    return None


def _loop_state(rows: Sequence[Row]) -> Tuple[List[bool], int]:
    """Whether a loop is active before each row, and the index of the first undo event."""
    loop_active = [False] * len(rows)
    first_undo = len(rows)
    active: Optional[Text] = None
    for index, (_id, type_name, name) in enumerate(rows):
        loop_active[index] = active is not None
        if type_name in LOOP_TYPES:
            active = name
        elif type_name in (Restarted.type_name, SessionStarted.type_name):
            active = None
        elif type_name in UNDO_TYPES:
            first_undo = min(first_undo, index)
    return loop_active, first_undo


def _applied_actions(rows: Sequence[Row], start: int, hidden: Set[int]) -> List[bool]:
    """For each row from ``start`` on: an action that Rasa's ``applied_events`` keeps (on
    stand-in events; ``start`` must itself be a possible boundary)."""
    stubs: Dict[int, int] = {}
    scratch = DialogueStateTracker("window", [])
    for index in range(start, len(rows)):
        stub = _stub(rows[index], rows[index][0] in hidden)
        if stub is not None:
            stubs[id(stub)] = index
            scratch.events.append(stub)  # not applied: only applied_events() is used
    applied = [False] * len(rows)
    for event in scratch.applied_events():
        if isinstance(event, ActionExecuted):
            applied[stubs[id(event)]] = True
    return applied


def choose_boundary(rows: Sequence[Row], hidden_ids: Iterable[int]) -> Optional[int]:
    """Index in ``rows`` (the session's stored events in order) where the window starts,
    or None when the whole session has to be loaded (see the module docstring)."""
    hidden = set(hidden_ids)
    loop_active, first_undo = _loop_state(rows)
    possible = [
        index
        for index in range(1, min(len(rows) - 1, first_undo + 1))
        if rows[index][1] == ActionExecuted.type_name
        and rows[index][2] == ACTION_LISTEN_NAME
        and rows[index + 1][1] == UserUttered.type_name
        and not loop_active[index]
    ]
    # The applied events from a possible boundary on are the same as on the whole
    # session, so they are computed on a suffix first (a few windows long), and on the
    # whole session only when the suffix holds no boundary.
    for start in sorted({possible[-4 * MIN_USER_TURNS] if len(possible) >= 4 * MIN_USER_TURNS else 0, 0},
                        reverse=True):
        applied = _applied_actions(rows, start, hidden)
        users = states = ml_states = 0
        candidates = set(possible)
        for index in range(len(rows) - 1, max(start, 1) - 1, -1):
            event_id, type_name, _name = rows[index]
            users += type_name == UserUttered.type_name
            if applied[index]:
                states += 1
                ml_states += event_id not in hidden
            if (
                index in candidates
                and users >= MIN_USER_TURNS
                and states >= MIN_STATES
                and ml_states >= MIN_ML_STATES
            ):
                return index
    return None


def summarised_ids(before: Sequence[Row]) -> List[int]:
    """ids of the events before the boundary that the summary needs besides the visitor
    messages and ``RESET_TYPES``: the last bot message, and the last ``SlotSet`` of each
    slot since slots were last reset (``action_name`` holds the slot's name)."""
    latest: Dict[Optional[Text], int] = {}
    last_bot = []
    for event_id, type_name, name in before:
        if type_name == SlotSet.type_name:
            latest[name] = event_id
        elif type_name in (AllSlotsReset.type_name, Restarted.type_name, SessionStarted.type_name):
            latest = {}
        elif type_name == BotUttered.type_name:
            last_bot = [event_id]
    return sorted(latest.values()) + last_bot


def _light_user(data: Dict[Text, Any]) -> Dict[Text, Any]:
    light = {key: data[key] for key in LIGHT_USER_KEYS if key in data}
    parse_data = data.get("parse_data") or {}
    light["parse_data"] = {key: parse_data[key] for key in LIGHT_PARSE_KEYS if key in parse_data}
    return light


LIGHT_FIELDS = (
    ("timestamp", "$.timestamp", "j ? 'timestamp'"),
    ("text", "$.text", "j ? 'text'"),
    ("input_channel", "$.input_channel", "j ? 'input_channel'"),
    ("intent", "$.parse_data.intent", "COALESCE(j->'parse_data' ? 'intent', false)"),
    ("entities", "$.parse_data.entities", "COALESCE(j->'parse_data' ? 'entities', false)"),
    ("parse_text", "$.parse_data.text", "COALESCE(j->'parse_data' ? 'text', false)"),
)
"""The fields of ``_light_user`` and how each database tells whether a message's data
has it (a field present with null is kept as null, an absent one left out, as in Python)."""


def light_users_sql(dialect: Text) -> Optional[Text]:
    """A query for the light form of the visitor messages of ``:sender_id`` with ``:first_id``
    <= id < ``:boundary_id``, extracted by the database instead of decoding each 1.2 kB
    row in Python: one JSON array of [id, text, input_channel, intent, entities, parse
    text, which fields are present (bits in ``LIGHT_FIELDS`` order)] per message, read by
    ``light_users``; None for a database other than SQLite and PostgreSQL. Timestamps
    come from the ``timestamp`` column (SQLite's JSON would round them to 15 digits)."""
    where = "sender_id = :sender_id AND type_name = 'user' AND id >= :first_id AND id < :boundary_id"
    if dialect == "sqlite":
        present = " + ".join(f"{1 << bit} * (json_type(data, '{path}') IS NOT NULL)"
                             for bit, (_key, path, _pg) in enumerate(LIGHT_FIELDS))
        values = ", ".join(f"json_extract(data, '{path}')" for _key, path, _pg in LIGHT_FIELDS[1:])
        return (
            f"SELECT json_group_array(json_array(id, {values}, {present})) "
            f"FROM (SELECT id, data FROM events WHERE {where} ORDER BY id)"
        )
    if dialect == "postgresql":  # OFFSET 0: the inner query is not inlined, so each row is parsed once
        present = " + ".join(f"{1 << bit} * ({test})::int" for bit, (_key, _path, test) in enumerate(LIGHT_FIELDS))
        return (
            "SELECT json_agg(json_build_array(id, j->'text', j->'input_channel', j->'parse_data'->'intent', "
            f"j->'parse_data'->'entities', j->'parse_data'->'text', {present}) ORDER BY id)::text "
            f"FROM (SELECT id, data::jsonb AS j FROM events WHERE {where} OFFSET 0) AS light"
        )
    return None


def light_users(extracted: Optional[Text], timestamps: Dict[int, Optional[float]]) -> List[Tuple[int, Dict[Text, Any]]]:
    """(id, light visitor message) from the result of ``light_users_sql`` and the messages'
    ``timestamp`` column: what ``_light_user`` keeps of each message's ``data``."""
    light = []
    every_field = (1 << len(LIGHT_FIELDS)) - 1
    for event_id, text, input_channel, intent, entities, parse_text, present in json.loads(extracted or "[]"):
        if present == every_field:  # as Rasa writes them
            light.append((event_id, {
                "event": UserUttered.type_name, "timestamp": timestamps.get(event_id), "text": text,
                "input_channel": input_channel, "parse_data": {"intent": intent, "entities": entities, "text": parse_text},
            }))
            continue
        data: Dict[Text, Any] = {"event": UserUttered.type_name}
        parse_data: Dict[Text, Any] = {}
        values = (timestamps.get(event_id), text, input_channel, intent, entities, parse_text)
        for bit, ((key, path, _pg), value) in enumerate(zip(LIGHT_FIELDS, values)):
            if present & (1 << bit):
                (parse_data if path.startswith("$.parse_data.") else data)[key if key != "parse_text" else "text"] = value
        data["parse_data"] = parse_data
        light.append((event_id, data))
    return light


def prefix_events(
    sender_id: Text, before: List[Dict[Text, Any]], slots: Iterable[Slot]
) -> List[Dict[Text, Any]]:
    """The summary of ``before`` (serialised events before the boundary: those of
    ``RESET_TYPES``, those of ``summarised_ids`` and every visitor message, which may be
    light already), serialised.

    The earlier visitor messages go into one ``SlotSet`` of ``EARLIER_MESSAGES_SLOT``
    (text and entities each, see ``earlier_message``), where the actions read them
    (``actions.common.user_messages_since_session_start``): as 200 ``UserUttered`` events
    they were replayed by every policy on every prediction and posted twice a turn to
    the action server. (They cannot go before a synthetic ``Restarted`` instead: a
    form's validation action gets a tracker rebuilt from ``events_after_latest_restart``,
    ``rasa/core/actions/forms.py`` ``FormAction._temporary_tracker``, so the triage
    prefill would lose them; the slot is after the session start and stays.)

    ``before`` may start with an earlier summary (``prefix_events`` of the events before
    an earlier boundary): its messages slot is extended, so that summarising a summary
    and the events after it gives the summary of all of them (``PrefixCache``)."""
    state = tracker_from_dicts(sender_id, [data for data in before if data.get("event") in STATE_TYPES], slots)
    timestamp = before[-1].get("timestamp") if before else None
    prefix: List[Dict[Text, Any]] = []
    if before and before[0].get("event") == SessionStarted.type_name:
        prefix.append(before[0])
    messages: List[Dict[Text, Any]] = []
    for data in before:
        if data.get("event") == UserUttered.type_name:
            messages.append(earlier_message(data))
        elif data.get("event") == SlotSet.type_name and data.get("name") == EARLIER_MESSAGES_SLOT:
            messages = list(data.get("value") or [])
    if messages:
        prefix.append(SlotSet(EARLIER_MESSAGES_SLOT, messages, timestamp=timestamp).as_dict())
    prefix += [data for data in before if data.get("event") == BotUttered.type_name][-1:]
    prefix += [
        SlotSet(name, slot.value, timestamp=timestamp).as_dict()
        for name, slot in state.slots.items()
        if slot.has_been_set and name != EARLIER_MESSAGES_SLOT
    ]
    if state.is_paused():
        prefix.append(ConversationPaused(timestamp=timestamp).as_dict())
    return prefix


ENTITY_KEYS = ("entity", "value", "role")


def earlier_message(data: Dict[Text, Any]) -> Dict[Text, Any]:
    """What the summary keeps of an earlier visitor message (its ``as_dict`` form, light
    or not): the text and, of each entity, what the actions read (``ENTITY_KEYS``)."""
    parse_data = data.get("parse_data") or {}
    entities = [
        {key: entity[key] for key in ENTITY_KEYS if entity.get(key) is not None}
        for entity in parse_data.get("entities") or []
    ]
    message: Dict[Text, Any] = {"text": data.get("text")}
    if entities:
        message["entities"] = entities
    return message
