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
from tests.probe_runner import load_clinic

CLINIC = load_clinic()  # the clinic's own contact details are kept readable


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


def _contact_step(*replies):
    events = [
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("please call me", {"name": "book_consultation", "confidence": 0.9}),
        SlotSet("requested_slot", "cs_contact"),
        BotUttered(f"What's the best phone number or e-mail? Or call us on {CLINIC['phone']} / {CLINIC['email']}"),
    ]
    for text, intent in replies:
        events += [ActionExecuted("action_listen"), UserUttered(text, {"name": intent, "confidence": 0.6})]
    return events + [SlotSet("requested_slot", None), ActionExecuted("action_listen"),
                     UserUttered("room 12345 at 10:30", {"name": "inform", "confidence": 0.9})]


def test_anything_typed_at_the_contact_question_is_redacted_whole(db_url):
    store = MesoTrackerStore()
    tracker = _tracker("sender-contact-step", _contact_step(("anna at example dot com", "inform"),
                                                            ("07700 9001", "inform"),
                                                            ("/stop", "stop")))
    asyncio.run(store.save(tracker))
    blob = json.dumps(_rows(db_url, "sender-contact-step"))
    assert "anna at example" not in blob and "9001" not in blob
    assert blob.count("[contact details redacted]") == 4  # two messages: text and parse_data text each
    assert "/stop" in blob  # a button press is not contact data
    assert "room 12345 at 10:30" in blob  # after the contact question closed, messages are kept as typed
    assert "please call me" in blob


def test_the_clinic_contacts_stay_readable_but_an_emergency_at_the_contact_step_too(db_url):
    store = MesoTrackerStore()
    tracker = _tracker("sender-contact-emergency", _contact_step(("my throat is swelling", "emergency")))
    asyncio.run(store.save(tracker))
    blob = json.dumps(_rows(db_url, "sender-contact-emergency"))
    assert CLINIC["phone"] in blob and CLINIC["email"] in blob
    assert "my throat is swelling" in blob and "[contact details redacted]" not in blob


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
