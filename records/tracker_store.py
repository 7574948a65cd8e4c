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
- When the bot has answered ``utter_forget_me_done`` in the current turn (the
  "forget me" action already deleted the clinic records), the conversation's events
  are deleted instead of being saved, so the turn cannot write them back.
"""
import logging
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker

from contentfiles import load as load_content
from records import db
from records.redaction import CONTACT_ANSWER_PLACEHOLDER, redact

logger = logging.getLogger(__name__)

FORGET_ME_RESPONSE = "utter_forget_me_done"
FORGET_ME_ACTION = "action_forget_me"
"""The response after which the conversation's events are purged."""

CONTACT_SLOT = "cs_contact"
READABLE_AT_CONTACT_STEP = frozenset({"emergency", "report_complication"})
"""Intents whose message stays readable even when typed at the contact question."""

IGNORED_SETTINGS = ("dialect", "host", "port", "db", "username", "password", "login_db", "query")


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
        keep = clinic_contacts()
        masked = contact_answers(tracker.events)
        return (
            _RedactedEvent(event, keep, id(event) in masked)
            for event in super()._additional_events(session, tracker)
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
