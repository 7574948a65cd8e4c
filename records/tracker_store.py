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
- When the bot has answered ``utter_forget_me_done`` in the current turn (the
  "forget me" action already deleted the clinic records), the conversation's events
  are deleted instead of being saved, so the turn cannot write them back.
"""
import logging
from typing import Any, Dict, Iterator, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, Restarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker

from records import db
from records.redaction import redact

logger = logging.getLogger(__name__)

FORGET_ME_RESPONSE = "utter_forget_me_done"
FORGET_ME_ACTION = "action_forget_me"
"""The response after which the conversation's events are purged."""

IGNORED_SETTINGS = ("dialect", "host", "port", "db", "username", "password", "login_db", "query")


class _RedactedEvent:
    """The two things ``SQLTrackerStore.save`` reads from an event, redacted."""

    def __init__(self, event: Event) -> None:
        self.type_name = event.type_name
        self._data = redact(event.as_dict())

    def as_dict(self) -> Dict[Text, Any]:
        return self._data


def forget_requested(tracker: DialogueStateTracker) -> bool:
    """Return True when "forget me" succeeded since the last user message.

    Success shows as ``action_forget_me`` followed by a restart (the action restarts
    only after deleting the clinic records), or as the ``FORGET_ME_RESPONSE``.
    """
    restarted = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, Restarted):
            restarted = True
        if isinstance(event, ActionExecuted) and event.action_name == FORGET_ME_ACTION and restarted:
            return True
        if isinstance(event, BotUttered):
            if (event.metadata or {}).get("utter_action") == FORGET_ME_RESPONSE:
                return True
    return False


class MesoTrackerStore(SQLTrackerStore):
    """Rasa's ``SQLTrackerStore`` on the records database, with redaction and purge."""

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
        self.sessionmaker = sessionmaker(bind=engine)

    def _additional_events(
        self, session: Any, tracker: DialogueStateTracker
    ) -> Iterator[_RedactedEvent]:
        return (
            _RedactedEvent(event) for event in super()._additional_events(session, tracker)
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events redacted, or purge the conversation on "forget me"."""
        if forget_requested(tracker):
            self.purge(tracker.sender_id)
            return
        await super().save(tracker)

    def purge(self, sender_id: Text) -> int:
        """Delete every stored event of ``sender_id``; return how many."""
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        logger.info("conversation purged after a forget-me request (%d events)", deleted)
        return deleted
