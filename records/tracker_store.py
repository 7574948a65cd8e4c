"""MesoGuide's Rasa tracker store: Rasa's SQL store on the records database, redacted.

Use it in ``endpoints.yml``::

    tracker_store:
      type: records.tracker_store.MesoTrackerStore

- The database is ``records.db.database_url()`` (``MESOGUIDE_DB_URL``) and the
  engine is the records engine (WAL and a busy timeout on SQLite, pre-ping on
  PostgreSQL). Rasa's ``events`` table keeps Rasa's schema.
- Before events are written, e-mail addresses and phone numbers in user texts, bot
  texts, slot values and every other event field are replaced by placeholders
  (``records.redaction``); contact details live only in ``consultation_request``.
  The clinic's own published phone and e-mail (data/content/clinic.yml) stay
  readable. A message typed at the contact question is replaced whole, whatever
  its shape ("anna at example dot com", a number too short to look like one),
  except an emergency or a complication, which staff must be able to read.
- When ``action_forget_me`` ran and restarted the conversation in the current turn
  (it restarts only after deleting the clinic records), the conversation's events
  are deleted instead of being saved, so the turn cannot write them back.
- When the database cannot be reached, nothing falls back to memory silently: the
  conversation's events (redacted) are appended to the disk spool
  ``<data dir>/spool/events.jsonl`` with an ERROR log line (no visitor text, no
  conversation id), the conversation is read back from the spool while the outage
  lasts (a conversation with nothing spooled yet from the last tracker this process
  saw), and a background thread retries every ``MESOGUIDE_SPOOL_RETRY_SECONDS``
  (default 10): as soon as the database answers, it writes the spooled events (only
  those not stored yet) and the spooled clinic records (``records.store``), whether
  or not a visitor writes again.
"""
import json
import logging
import threading
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker

from contentfiles import load as load_content
from records import copies, db, private_answers, spool, tracker_window
from records.redaction import CONTACT_ANSWER_PLACEHOLDER, redact
from records.store import is_unreachable, replay_spool, retry_seconds, spooled_sender

logger = logging.getLogger(__name__)

FORGET_ME_ACTION = "action_forget_me"
"""The action after which (with its restart) the conversation's events are purged."""

LAST_KNOWN_MAX = 2000
"""Conversations whose last tracker this process keeps in memory, so that one read
during an outage (nothing spooled for it yet) continues the conversation instead of
starting a new one."""

CONTACT_SLOT = "cs_contact"
READABLE_AT_CONTACT_STEP = frozenset({"emergency", "report_complication"})
"""Intents whose message stays readable even when typed at the contact question."""

IGNORED_SETTINGS = ("dialect", "host", "port", "db", "username", "password", "login_db", "query")

def _event_key(type_name: Any, timestamp: Any, data: Dict[Text, Any]) -> tuple:
    return (type_name, timestamp, json.dumps(data, sort_keys=True))


def clinic_contacts() -> List[str]:
    """The clinic's published phone and e-mail, which are not the visitor's data."""
    clinic = load_content("clinic")
    return [str(clinic.get("phone", "")), str(clinic.get("email", ""))]


def contact_answers(events: Iterable[Event]) -> Set[int]:
    """ids of the user events typed while the contact question was open."""
    masked: Set[int] = set()
    requested = None
    for event in events:
        if isinstance(event, SlotSet) and event.key == "requested_slot":
            requested = event.value
        elif isinstance(event, (Restarted, SessionStarted)):
            requested = None
        elif isinstance(event, UserUttered) and requested == CONTACT_SLOT:
            if event.intent_name not in READABLE_AT_CONTACT_STEP and not (event.text or "").startswith("/"):
                masked.add(id(event))
    return masked


def _mask_user_text(data: Dict[Text, Any]) -> Dict[Text, Any]:
    data["text"] = CONTACT_ANSWER_PLACEHOLDER
    parse_data = data.get("parse_data") or {}
    if parse_data:
        parse_data["text"] = CONTACT_ANSWER_PLACEHOLDER
        parse_data["entities"] = []
    return data


class _RedactedEvent:
    """The two things ``SQLTrackerStore.save`` reads from an event, redacted."""

    def __init__(self, event: Event, keep: List[str], contact_answer: bool = False) -> None:
        self.type_name = event.type_name
        self._data = redact(event.as_dict(), keep)
        if contact_answer:
            self._data = _mask_user_text(self._data)

    def as_dict(self) -> Dict[Text, Any]:
        return self._data

    def replace(self, data: Dict[Text, Any]) -> None:
        self._data = data


def forget_requested(tracker: DialogueStateTracker) -> bool:
    """Return True when "forget me" succeeded since the last user message.

    Success shows as ``action_forget_me`` followed by a restart (the action restarts
    only after deleting the clinic records).
    """
    restarted = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, Restarted):
            restarted = True
        if isinstance(event, ActionExecuted) and event.action_name == FORGET_ME_ACTION and restarted:
            return True
    return False


def keeps_summary(tracker: DialogueStateTracker) -> bool:
    """Whether a read's summary may be kept for the next read: not when the visitor chose
    not to keep questionnaire answers (their earlier rows are masked on every save, so a
    kept summary would hold what the masking removed)."""
    return tracker.get_slot(private_answers.KEEP_SLOT) is not False


class MesoTrackerStore(SQLTrackerStore):
    """Rasa's ``SQLTrackerStore`` on the records database, with redaction, purge and a
    disk spool while the database is unreachable."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        given = [name for name in IGNORED_SETTINGS if kwargs.pop(name, None) is not None]
        if given:
            logger.warning(
                "tracker store settings %s ignored: the database is MESOGUIDE_DB_URL",
                ", ".join(given),
            )
        if event_broker is not None:
            logger.warning("the event broker receives events before redaction")
        url = db.database_url()
        engine = db.get_engine(url)
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        self.engine.dispose()
        self.engine = engine
        self.url = url
        self.sessionmaker = sessionmaker(bind=engine)
        self._replay_lock = threading.RLock()
        self._outage = False
        self._retry_thread: Optional[threading.Thread] = None
        self._stopped = threading.Event()
        self._last_known = tracker_window.LruMap(LAST_KNOWN_MAX)
        self._prefixes = tracker_window.PrefixCache()
        self._ensure_window_index()
        if self.spool_pending():
            self._start_retrying()

    def _ensure_window_index(self) -> None:
        """The index of the windowed read (migration 0007), for a database whose ``events``
        table Rasa has just created (a fresh database migrated before it existed)."""
        try:
            with self.engine.begin() as connection:
                if db.ensure_events_index(connection):
                    logger.info("index %s created on the events table", db.EVENTS_INDEX)
        except Exception as exc:  # noqa: BLE001 - reads work without it, only slower
            logger.warning("index %s not checked (%s)", db.EVENTS_INDEX, type(exc).__name__)

    # --- saving, reading and purging ------------------------------------------------------

    def _additional_events(
        self, session: Any, tracker: DialogueStateTracker
    ) -> Iterator[_RedactedEvent]:
        keep = clinic_contacts()
        masked = contact_answers(tracker.events)
        new = [
            _RedactedEvent(event, keep, id(event) in masked)
            for event in self._unsaved_events(session, tracker)
        ]
        if tracker.get_slot(private_answers.KEEP_SLOT) is False:
            self._mask_private_answers(session, tracker.sender_id, new)
        return iter(new)

    def _mask_private_answers(self, session: Any, sender_id: Text, new: List[_RedactedEvent]) -> None:
        """The visitor chose not to keep questionnaire answers (``records.private_answers``):
        mask them in the stored rows and in the events about to be written, in the same
        transaction as the save; remove the masked texts' copies from the NLU inbox."""
        self._prefixes.drop(sender_id)
        rows = (
            session.query(self.SQLEvent)
            .filter(self.SQLEvent.sender_id == sender_id)
            .order_by(self.SQLEvent.id)
            .all()
        )
        stored = [json.loads(row.data) for row in rows]
        masked, texts = private_answers.mask(stored + [event.as_dict() for event in new])
        for row, before, after in zip(rows, stored, masked):
            if after != before:
                row.data = json.dumps(after)
                row.intent_name = ((after.get("parse_data") or {}).get("intent") or {}).get("name")
        for event, after in zip(new, masked[len(rows):]):
            event.replace(after)
        if texts:  # logs carry no visitor text; the NLU inbox may hold a copy
            copies.scrub_nlu_inbox(texts)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events redacted, or purge the conversation on "forget me";
        spool them when the database is unreachable."""
        if forget_requested(tracker):
            self._forget_known(tracker.sender_id)
            try:
                self.purge(tracker.sender_id)
            except Exception as exc:  # noqa: BLE001 - retried from the spool; never logged with its text
                spool.append("purge", {"sender_id": tracker.sender_id}, spool.EVENTS_FILE)
                self._start_retrying()
                logger.error("forget-me purge failed (%s); spooled and retried", type(exc).__name__)
            return
        if self._outage:
            self._spool_tracker(tracker, "still unreachable")
            return
        self._remember(tracker)
        try:
            with self._replay_lock:
                behind = self._has_spooled(tracker.sender_id)
                self._replay_events()
                if behind:
                    # The turn may have read the conversation before its spooled events
                    # were written (a save spooled during the outage, appended after the
                    # replay that ended it): Rasa's count of stored rows would then skip
                    # this turn's events. Write by content instead, as a replay does.
                    self._apply_spooled("events", self._spool_record(tracker))
                else:
                    await super().save(tracker)
        except Exception as exc:  # noqa: BLE001 - kept on disk, never lost or logged with its text
            self._spool_tracker(tracker, type(exc).__name__, outage=is_unreachable(exc))

    def _has_spooled(self, sender_id: Text) -> bool:
        """Whether the events spool holds anything of this conversation (one ``stat``
        when the spool is empty)."""
        if not spool.pending(spool.EVENTS_FILE):
            return False
        return any(spooled_sender(entry) == sender_id for entry in spool.entries(spool.EVENTS_FILE))

    def _unsaved_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """Rasa's new events (those past the stored count), or for a tracker loaded as a
        window (``records.tracker_window``) the same count shifted by the window."""
        window = tracker_window.window_of(tracker)
        if window is None:
            return super()._additional_events(session, tracker)
        stored = (  # an index range (sender_id, id): the window's rows only
            session.query(sa.func.count(self.SQLEvent.id))
            .filter(self.SQLEvent.sender_id == tracker.sender_id, self.SQLEvent.id >= window.boundary_id)
            .scalar()
        )
        return tracker_window.unsaved_events(tracker, stored)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The current session as a window of recent events after a summary of the
        earlier ones (``records.tracker_window``); ``retrieve_full_tracker`` loads all."""
        return await self._retrieve_or_spooled(sender_id, self._retrieve_window)

    def _window_queries(self) -> Dict[Text, Any]:
        """The windowed read's statements, built once (SQLAlchemy Core on the table: the
        ORM's row handling cost more than the SQL on a 1,300-row conversation)."""
        queries = getattr(self, "_window_statements", None)
        if queries is None:
            table = self.SQLEvent.__table__
            c = table.c
            hidden = sa.and_(  # a rule-only turn (action rows are short: no overflow pages read)
                c.type_name == ActionExecuted.type_name,
                sa.or_(*(c.data.like(pattern) for pattern in tracker_window.HIDDEN_PATTERNS)),
            )
            sender = sa.bindparam("sender_id")
            light = tracker_window.light_users_sql(self.engine.dialect.name)
            queries = self._window_statements = {
                # one pass over the conversation, in the index ix_events_sender_id_id
                # (migration 0007) except the rule-only flag of action rows
                "listed": sa.select(c.id, c.type_name, c.action_name, c.timestamp,
                                    sa.case((hidden, True), else_=False))
                .where(c.sender_id == sender).order_by(c.id),
                "needed": sa.select(c.id, c.data)
                .where(c.sender_id == sender, sa.or_(c.id >= sa.bindparam("boundary_id"),
                                                     c.id.in_(sa.bindparam("ids", expanding=True))))
                .order_by(c.id),
                "light": sa.text(light) if light else None,
                # the rows from a cached summary's boundary on (tracker_window.PrefixCache)
                "from_boundary": sa.select(c.id, c.type_name, c.action_name, c.timestamp,
                                           sa.case((hidden, True), else_=False), c.data)
                .where(c.sender_id == sender, c.id >= sa.bindparam("boundary_id")).order_by(c.id),
            }
        return queries

    async def _retrieve_window(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        if not self.domain:
            return await super().retrieve(sender_id)
        cached = self._prefixes.get(sender_id, self.domain)
        if cached is not None:
            tracker = self._retrieve_after_cached(sender_id, cached)
            if tracker is not None and keeps_summary(tracker):
                if tracker_window.window_of(tracker).boundary_id != cached.boundary_id:
                    self._cache_prefix(tracker)  # the summary moved forward with the conversation
                return tracker
            self._prefixes.drop(sender_id)
        tracker = self._retrieve_whole_or_window(sender_id)
        if tracker is not None and keeps_summary(tracker):
            self._cache_prefix(tracker)
        else:
            self._prefixes.drop(sender_id)
        return tracker

    def _cache_prefix(self, tracker: DialogueStateTracker) -> None:
        """Keep a windowed tracker's summary for the next read."""
        window = tracker_window.window_of(tracker)
        if window is not None and window.prefix_events is not None:
            self._prefixes.put(tracker.sender_id, tracker_window.CachedPrefix(domain=self.domain, window=window))

    def _retrieve_after_cached(self, sender_id: Text, cached: "tracker_window.CachedPrefix") -> Optional[DialogueStateTracker]:
        """The window read from this process's last summary of the conversation: only the
        rows from its boundary on (none before it is read again); None when they no longer
        continue it (``tracker_window.still_valid``), and the conversation is read as if
        nothing were cached."""
        with self.session_scope() as session:
            listed = session.connection().execute(
                self._window_queries()["from_boundary"], {"sender_id": sender_id, "boundary_id": cached.boundary_id}
            ).all()
        if not tracker_window.still_valid(cached, listed):
            return None
        rows = [(row[0], row[1], row[2]) for row in listed]
        data = [json.loads(row[5]) for row in listed]
        hidden_ids = [row[0] for row in listed if row[4]]
        prefix, boundary = tracker_window.extend(sender_id, cached, rows, data, hidden_ids, self.domain.slots)
        tracker = tracker_window.tracker_from_dicts(sender_id, prefix + data[boundary:], self.domain.slots)
        tracker_window.attach(tracker, tracker_window.Window(
            prefix=len(prefix), boundary_id=rows[boundary][0], boundary_timestamp=listed[boundary][3],
            prefix_events=prefix))
        return tracker

    def _retrieve_whole_or_window(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        queries = self._window_queries()
        with self.session_scope() as session:
            connection = session.connection()
            listed = connection.execute(queries["listed"], {"sender_id": sender_id}).all()
            rows, hidden_ids = tracker_window.current_session(listed)
            boundary = tracker_window.choose_boundary(rows, hidden_ids) if rows else None
            if boundary is None:  # short, or no safe boundary: the whole session, as Rasa loads it
                query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                recent = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
                return tracker_window.tracker_from_dicts(sender_id, recent, self.domain.slots) if recent else None
            boundary_id = rows[boundary][0]
            boundary_timestamp = next(row[3] for row in listed if row[0] == boundary_id)
            earlier = rows[:boundary]
            users = {row[0] for row in earlier if row[1] == UserUttered.type_name}
            light_sql = queries["light"]
            kept_types = tracker_window.RESET_TYPES if light_sql is not None else (
                UserUttered.type_name, *tracker_window.RESET_TYPES)
            summarised = tracker_window.summarised_ids(earlier) + [row[0] for row in earlier if row[1] in kept_types]
            needed = connection.execute(  # by primary key: no second pass over the conversation
                queries["needed"], {"sender_id": sender_id, "boundary_id": boundary_id, "ids": summarised}
            ).all()
            before: List[Any] = []
            recent = []
            for row_id, data in needed:
                if row_id >= boundary_id:
                    recent.append(json.loads(data))
                else:
                    before.append((row_id, json.loads(data)))
            if light_sql is not None:  # the earlier visitor messages, extracted by the database
                extracted = connection.execute(
                    light_sql, {"sender_id": sender_id, "first_id": rows[0][0], "boundary_id": boundary_id}
                ).scalar()
                timestamps = {row[0]: row[3] for row in listed if row[0] in users}
                before += [pair for pair in tracker_window.light_users(extracted, timestamps) if pair[0] in users]
                before.sort(key=lambda pair: pair[0])
        prefix = tracker_window.prefix_events(sender_id, [data for _id, data in before], self.domain.slots)
        tracker = tracker_window.tracker_from_dicts(sender_id, prefix + recent, self.domain.slots)
        return tracker_window.attach(tracker, tracker_window.Window(
            prefix=len(prefix), boundary_id=boundary_id, boundary_timestamp=boundary_timestamp,
            prefix_events=prefix))

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._retrieve_or_spooled(sender_id, super().retrieve_full_tracker)

    async def _retrieve_or_spooled(self, sender_id: Text, retrieve) -> Optional[DialogueStateTracker]:
        if not self._outage:
            try:
                if self._has_spooled(sender_id):
                    # written first, so that the turn reads the whole conversation
                    with self._replay_lock:
                        self._replay_events()
                tracker = await retrieve(sender_id)
            except Exception as exc:  # noqa: BLE001 - Rasa would log the error's text (SQL parameters)
                if not is_unreachable(exc):
                    logger.error("conversation could not be read (%s)", type(exc).__name__)
                    raise RuntimeError(f"tracker store read failed ({type(exc).__name__})") from None
                self._went_down(type(exc).__name__)
            else:
                if tracker is not None:
                    self._remember(tracker)
                return tracker
        return self._spooled_tracker(sender_id) or self._known_tracker(sender_id)

    # --- the last tracker seen, for reads during an outage -------------------------------

    def _remember(self, tracker: DialogueStateTracker) -> None:
        """Keep a reference to the conversation's latest tracker (no copy: Rasa saves the
        object it read, so the reference follows the turn); the oldest are dropped."""
        self._last_known.put(tracker.sender_id, tracker)

    def _forget_known(self, sender_id: Text) -> None:
        self._last_known.drop(sender_id)
        self._prefixes.drop(sender_id)

    def _known_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """A copy of the conversation's last tracker seen by this process, when the
        database is unreachable and nothing of it is spooled yet: the visitor goes on
        where they were (a new session would repeat the disclosure and drop an open
        questionnaire). None for a conversation this process has not seen."""
        known = self._last_known.get(sender_id)
        if known is None:
            return None
        slots = self.domain.slots if self.domain else []
        copy = DialogueStateTracker.from_dict(sender_id, [e.as_dict() for e in known.events], slots)
        window = tracker_window.window_of(known)
        if window is not None:
            tracker_window.attach(copy, window)
        logger.warning("conversation read from this process's memory while the database is unreachable")
        return copy

    def purge(self, sender_id: Text) -> int:
        """Delete every stored event of ``sender_id``; return how many. When the database
        is unreachable the purge is spooled and carried out when it is back."""
        self._forget_known(sender_id)
        spool.remove(lambda _line, entry: spooled_sender(entry) == sender_id, (spool.EVENTS_FILE,))
        try:
            with self.session_scope() as session:
                deleted = self._delete_events(session, sender_id)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - only an unreachable database is handled
            if not is_unreachable(exc):
                raise
            spool.append("purge", {"sender_id": sender_id}, spool.EVENTS_FILE)
            self._went_down(type(exc).__name__)
            logger.error(
                "conversation database unreachable (%s): a forget-me purge was spooled and "
                "will run when the database is back",
                type(exc).__name__,
            )
            return 0
        logger.info("conversation purged after a forget-me request (%d events)", deleted)
        return deleted

    def _delete_events(self, session: Any, sender_id: Text) -> int:
        return (
            session.query(self.SQLEvent)
            .filter(self.SQLEvent.sender_id == sender_id)
            .delete(synchronize_session=False)
        )

    # --- the outage --------------------------------------------------------------------------

    @staticmethod
    def _spool_record(tracker: DialogueStateTracker) -> Dict[str, Any]:
        """The tracker's events as the spool keeps them: redacted and masked as a save
        stores them; for a windowed tracker the summary apart from the events."""
        keep = clinic_contacts()
        masked = contact_answers(tracker.events)
        events = [_RedactedEvent(event, keep, id(event) in masked).as_dict() for event in tracker.events]
        if tracker.get_slot(private_answers.KEEP_SLOT) is False:
            events, _texts = private_answers.mask(events)
        record = {"sender_id": tracker.sender_id, "events": events}
        window = tracker_window.window_of(tracker)
        if window is not None:  # the prefix is a summary: kept to read back, never inserted
            record.update(events=events[window.prefix:], prefix=events[: window.prefix], boundary_id=window.boundary_id)
        return record

    def _spool_tracker(self, tracker: DialogueStateTracker, reason: str, outage: bool = True) -> None:
        record = self._spool_record(tracker)
        events = record["events"]
        spool.append("events", record, spool.EVENTS_FILE)
        if outage:
            self._went_down(reason)
        else:
            self._start_retrying()
        logger.error(
            "conversation events not stored (%s): %d event(s) of a conversation spooled "
            "to disk; they are written when the database takes them",
            reason,
            len(events),
        )

    def _went_down(self, reason: str) -> None:
        if not self._outage:
            self._outage = True
            logger.error(
                "conversation database unreachable (%s): conversations are spooled to disk "
                "and retried every %.0f s",
                reason,
                retry_seconds(),
            )
        self._start_retrying()

    def _spooled_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        latest = None
        for entry in spool.entries(spool.EVENTS_FILE):
            if spooled_sender(entry) != sender_id:
                continue
            latest = entry["record"] if entry.get("op") == "events" else None
        if not latest or not latest.get("events"):
            return None
        slots = self.domain.slots if self.domain else []
        prefix = latest.get("prefix") or []
        tracker = DialogueStateTracker.from_dict(sender_id, prefix + latest["events"], slots)
        if "boundary_id" in latest:
            tracker_window.attach(tracker, tracker_window.Window(prefix=len(prefix), boundary_id=latest["boundary_id"]))
        return tracker

    def spool_pending(self) -> bool:
        return spool.pending(spool.EVENTS_FILE) or spool.pending(spool.SPOOL_FILE)

    def _replay_events(self) -> int:
        return spool.replay(self._apply_spooled, is_unreachable, spool.EVENTS_FILE)

    def _apply_spooled(self, op: str, record: Dict[str, Any]) -> None:
        sender_id = record["sender_id"]
        with self.session_scope() as session:
            if op == "purge":
                self._delete_events(session, sender_id)
            elif op == "events":
                self._insert_missing(session, sender_id, record["events"])
            else:
                raise ValueError(f"unknown spooled operation {op!r}")
            session.commit()

    def _insert_missing(self, session: Any, sender_id: Text, events: List[Dict[str, Any]]) -> None:
        """Insert the spooled events that are not stored yet, in their order."""
        stored: Dict[tuple, int] = {}
        rows = session.query(self.SQLEvent.type_name, self.SQLEvent.timestamp, self.SQLEvent.data).filter(
            self.SQLEvent.sender_id == sender_id
        )
        for type_name, timestamp, data in rows:
            key = _event_key(type_name, timestamp, json.loads(data))
            stored[key] = stored.get(key, 0) + 1
        for data in events:
            key = _event_key(data.get("event"), data.get("timestamp"), data)
            if stored.get(key):
                stored[key] -= 1
                continue
            session.add(
                self.SQLEvent(
                    sender_id=sender_id,
                    type_name=data.get("event"),
                    timestamp=data.get("timestamp"),
                    intent_name=((data.get("parse_data") or {}).get("intent") or {}).get("name"),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                )
            )

    def replay_spools(self) -> int:
        """Write everything spooled (conversation events, then clinic records); return how
        many entries. Raises the database error when it is still unreachable."""
        with self._replay_lock:
            replayed = self._replay_events() + replay_spool(url=self.url)
            was_down, self._outage = self._outage, False
        if was_down or replayed:
            logger.warning(
                "conversation database reachable again: %d spooled entr%s written",
                replayed,
                "y" if replayed == 1 else "ies",
            )
        return replayed

    def _start_retrying(self) -> None:
        with self._replay_lock:
            if self._retry_thread is not None and self._retry_thread.is_alive():
                return
            self._retry_thread = threading.Thread(
                target=self._retry_loop, name="mesoguide-spool-retry", daemon=True
            )
            self._retry_thread.start()

    def _retry_loop(self) -> None:
        while not self._stopped.wait(retry_seconds()):
            if not (self._outage or self.spool_pending()):
                return
            try:
                self.replay_spools()
            except Exception as exc:  # noqa: BLE001 - keep retrying; never log the error's text
                if not is_unreachable(exc):
                    logger.error("spool replay failed (%s); retrying", type(exc).__name__)
                continue
            if not self.spool_pending():
                with self._replay_lock:
                    if not self.spool_pending():
                        self._retry_thread = None
                        return

    def stop_retrying(self, timeout: float = 5.0) -> None:
        """Stop the retry thread (tests, shutdown)."""
        self._stopped.set()
        thread = self._retry_thread
        if thread is not None:
            thread.join(timeout)
