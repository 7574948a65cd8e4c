"""Rasa's tracker store on MESOGUIDE_DB_URL: redaction before saving, forget me."""
import asyncio
import json

import sqlalchemy as sa
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from records import db
from records.tracker_store import MesoTrackerStore


def _rows(url, sender):
    with db.get_engine(url).connect() as conn:
        return [json.loads(r.data) for r in conn.execute(sa.text("select data from events where sender_id = :s order by id"), {"s": sender})]


def _tracker(sender, events):
    return DialogueStateTracker.from_events(sender, events)


def test_contact_details_never_reach_the_events_table(db_url):
    store = MesoTrackerStore()
    events = [
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("mail me at anna.smith@example.com or call +44 7700 900123", {"name": "inform", "confidence": 0.9}),
        SlotSet("cs_contact", "anna.smith@example.com"),
        BotUttered("We'll contact you at anna.smith@example.com"),
    ]
    tracker = _tracker("sender-redact", events)
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))  # a second save adds nothing
    stored = _rows(db_url, "sender-redact")
    assert len(stored) == len(events)
    blob = json.dumps(stored)
    assert "anna.smith@example.com" not in blob and "7700" not in blob
    assert "[email redacted]" in blob and "[phone redacted]" in blob
    restored = asyncio.run(store.retrieve("sender-redact"))
    assert restored.latest_message.text.startswith("mail me at [email redacted]")


def test_forget_me_deletes_the_conversation_instead_of_saving_it(db_url):
    store = MesoTrackerStore()
    first = [SessionStarted(), ActionExecuted("action_listen"), UserUttered("hello", {"name": "greet", "confidence": 1.0})]
    asyncio.run(store.save(_tracker("sender-forget", first)))
    assert len(_rows(db_url, "sender-forget")) == 3
    later = first + [
        ActionExecuted("action_listen"),
        UserUttered("delete my data", {"name": "forget_me", "confidence": 1.0}),
        ActionExecuted("action_forget_me"),
        BotUttered("Done: I have deleted this conversation"),
        Restarted(),
    ]
    asyncio.run(store.save(_tracker("sender-forget", later)))
    assert _rows(db_url, "sender-forget") == []


def test_forget_me_that_failed_keeps_the_conversation(db_url):
    store = MesoTrackerStore()
    events = [
        SessionStarted(),
        UserUttered("delete my data", {"name": "forget_me", "confidence": 1.0}),
        ActionExecuted("action_forget_me"),
        BotUttered("I couldn't delete your data just now"),
    ]
    asyncio.run(store.save(_tracker("sender-keep", events)))
    assert len(_rows(db_url, "sender-keep")) == len(events)
