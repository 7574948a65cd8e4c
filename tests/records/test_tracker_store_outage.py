"""The tracker store during a database outage (issue 13): nothing falls back to memory
silently, nothing is lost, and the spool is written back when the database returns,
without waiting for the next message.

On PostgreSQL the outage is real: the store talks to the test server through a TCP
relay on loopback that the test closes (every connection cut, new ones refused) and
opens again on the same port. On SQLite the database file's directory disappears
and comes back.
"""
import asyncio
import json
import logging
import os
import time

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from records import db, spool, store
from records.models import ConsultationRequest
from records.tracker_store import MesoTrackerStore
from tests.fixtures.relay import Relay

SENDER = "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a"
OTHER = "8e2f3a4b-5c6d-4e7f-9a0b-1c2d3e4f5a6b"
SECRET = "my scalp burns since the second session"


def _tracker(sender, events):
    return DialogueStateTracker.from_events(sender, events)


def _turn(text, intent, reply):
    return [
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": intent, "confidence": 0.9}),
        ActionExecuted("utter_x"),
        BotUttered(reply),
    ]


def _stored(url, sender):
    with db.get_engine(url).connect() as connection:
        return [
            json.loads(row.data)
            for row in connection.execute(
                sa.text("select data from events where sender_id = :s order by id"), {"s": sender}
            )
        ]


def _wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def fast_retry(monkeypatch):
    monkeypatch.setenv("MESOGUIDE_SPOOL_RETRY_SECONDS", "0.2")


@pytest.fixture
def pg_outage(pg_url, monkeypatch, fast_retry):
    """(url through the relay, cut, restore) for a fresh PostgreSQL database."""
    real = make_url(pg_url)
    relay = Relay(real.host or "127.0.0.1", real.port or 5432)
    relay.start()
    url = real.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    monkeypatch.setenv("MESOGUIDE_DB_URL", url)
    yield url, relay.cut, relay.restore
    relay.cut()
    db.dispose_engine(url)


@pytest.fixture
def sqlite_outage(sqlite_url, tmp_path, monkeypatch, fast_retry):
    """(url, cut, restore): the database file's directory is moved away and back. The
    cut also closes the pooled connections (records.db keeps SQLite connections open,
    and an open file stays writable wherever it moves): what is lost is the database,
    not only the way to open it."""
    home = tmp_path / "dbdir"
    home.mkdir()
    path = home / "mesoguide.db"
    os.replace(make_url(sqlite_url).database, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("MESOGUIDE_DB_URL", url)
    def cut():
        os.replace(home, tmp_path / "away")
        db.dispose_engine(url)

    yield url, cut, lambda: os.replace(tmp_path / "away", home)
    db.dispose_engine(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request):
    return request.getfixturevalue("sqlite_outage" if request.param == "sqlite" else "pg_outage")


def test_an_outage_is_spooled_loudly_read_back_and_written_when_the_database_returns(outage, caplog):
    url, cut, restore = outage
    caplog.set_level(logging.INFO, logger="records")
    tracker_store = MesoTrackerStore(domain=Domain.empty())
    try:
        before = [SessionStarted()] + _turn("hello", "greet", "Hi! I'm an automated assistant.")
        asyncio.run(tracker_store.save(_tracker(SENDER, before)))
        assert len(_stored(url, SENDER)) == 5

        cut()
        during = before + _turn(SECRET, "report_complication", "Please call the clinic.") + [
            SlotSet("requested_slot", None)
        ]
        asyncio.run(tracker_store.save(_tracker(SENDER, during)))
        other = [SessionStarted()] + _turn("call me on 07700 900123", "inform", "Thanks.")
        asyncio.run(tracker_store.save(_tracker(OTHER, other)))
        assert store.save_consultation(OTHER, "general", "Jo", None, "07700 900123", "mornings") is None

        errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("records")]
        assert errors, "an outage must be logged as an error"
        for personal in (SECRET, SENDER, OTHER, "07700", "900123"):
            assert personal not in caplog.text
        assert spool.pending(spool.EVENTS_FILE)
        assert "07700 900123" not in spool.spool_path(spool.EVENTS_FILE).read_text()  # redacted on disk too

        # the conversation goes on from the spool while the database is away
        seen = asyncio.run(tracker_store.retrieve(SENDER))
        assert seen is not None and seen.latest_message.text == SECRET
        assert len(seen.events) == len(during)

        restore()  # no further message: the retry thread must write the spool by itself
        assert _wait_for(lambda: not tracker_store.spool_pending()), "spool not replayed"
        stored = _stored(url, SENDER)
        assert [e["event"] for e in stored] == [e.as_dict()["event"] for e in during]
        assert stored[6]["text"] == SECRET  # lost: 0
        assert len(_stored(url, OTHER)) == len(other)
        with db.session_scope(url) as session:
            assert session.execute(sa.select(ConsultationRequest.sender_id)).scalars().all() == [OTHER]
        assert _wait_for(lambda: "reachable again" in caplog.text)  # said once the replay ends

        # the next turn adds only its own events: nothing twice
        after = during + _turn("thanks", "thank", "You're welcome.")
        asyncio.run(tracker_store.save(_tracker(SENDER, after)))
        assert len(_stored(url, SENDER)) == len(after)
    finally:
        tracker_store.stop_retrying()


def test_a_conversation_read_during_an_outage_before_anything_is_spooled_goes_on(outage):
    """A visitor's first message after the cut: nothing of theirs is spooled yet, so the
    store gives the last tracker this process saw (not None, which would make Rasa
    start a new session and drop an open questionnaire), and what the turn adds is
    spooled and written back with nothing twice."""
    url, cut, restore = outage
    domain = Domain.load("domain.yml")
    tracker_store = MesoTrackerStore(domain=domain)
    try:
        before = [SessionStarted()] + _turn("can I have mesotherapy?", "check_eligibility", "Are you pregnant?") + [
            SlotSet("requested_slot", "sc_pregnancy")]
        asyncio.run(tracker_store.save(DialogueStateTracker.from_events(SENDER, before, domain.slots)))
        cut()
        seen = asyncio.run(tracker_store.retrieve(SENDER))
        assert seen is not None and seen.get_slot("requested_slot") == "sc_pregnancy"
        assert [e.as_dict()["event"] for e in seen.events] == [e.as_dict()["event"] for e in before]
        assert asyncio.run(tracker_store.retrieve(OTHER)) is None  # never seen: a new conversation
        for event in _turn("no", "deny", "Are you breastfeeding?"):
            seen.update(event)
        asyncio.run(tracker_store.save(seen))
        restore()
        assert _wait_for(lambda: not tracker_store.spool_pending()), "spool not replayed"
        assert len(_stored(url, SENDER)) == len(before) + 4
    finally:
        tracker_store.stop_retrying()


def test_a_forget_me_purge_during_an_outage_runs_when_the_database_returns(sqlite_outage):
    url, cut, restore = sqlite_outage
    tracker_store = MesoTrackerStore(domain=Domain.empty())
    try:
        events = [SessionStarted()] + _turn("hello", "greet", "Hi!")
        asyncio.run(tracker_store.save(_tracker(SENDER, events)))
        cut()
        asyncio.run(tracker_store.save(_tracker(SENDER, events + _turn(SECRET, "inform", "Ok."))))
        assert tracker_store.purge(SENDER) == 0  # spooled
        assert SECRET not in spool.spool_path(spool.EVENTS_FILE).read_text()  # its snapshot is gone
        restore()
        assert _wait_for(lambda: not tracker_store.spool_pending())
        assert _stored(url, SENDER) == []
    finally:
        tracker_store.stop_retrying()


def test_a_spool_left_by_an_earlier_process_is_written_at_start(sqlite_url, fast_retry):
    events = [SessionStarted()] + _turn("hello", "greet", "Hi!")
    payload = [e.as_dict() for e in events]
    spool.append("events", {"sender_id": SENDER, "events": payload}, spool.EVENTS_FILE)
    tracker_store = MesoTrackerStore(domain=Domain.empty())
    try:
        assert _wait_for(lambda: not tracker_store.spool_pending())
        assert len(_stored(sqlite_url, SENDER)) == len(events)
    finally:
        tracker_store.stop_retrying()


def test_a_turn_spooled_as_the_outage_ends_is_neither_lost_nor_read_stale(outage):
    """A save that was spooled during the outage but appended after the replay that ended
    it (it waited for the spool's lock) leaves the conversation's last turn on disk while
    the database is already back. The next read writes it first; and a turn that had
    read the conversation before it was written is stored by content, not by Rasa's
    count of stored rows (which would skip the new turn's events: 2 lost in
    tests/test_faults_live.py before this)."""
    url, _cut, _restore = outage
    domain = Domain.empty()
    tracker_store = MesoTrackerStore(domain=domain)
    try:
        first = [SessionStarted()] + _turn("hello", "greet", "Hi!")
        asyncio.run(tracker_store.save(_tracker(SENDER, first)))
        second = first + _turn("how many sessions?", "ask_sessions", "Usually several.")
        tracker_store._outage = True  # as during the outage: this turn is spooled
        asyncio.run(tracker_store.save(_tracker(SENDER, second)))
        tracker_store._outage = False  # the replay that ended the outage ran before the append
        assert tracker_store._has_spooled(SENDER) and len(_stored(url, SENDER)) == len(first)

        seen = asyncio.run(tracker_store.retrieve(SENDER))  # writes the spooled turn first
        assert seen.latest_message.text == "how many sessions?"
        assert len(_stored(url, SENDER)) == len(second) and not tracker_store._has_spooled(SENDER)

        # a turn that read the conversation before the spooled one was written
        stale = _tracker(SENDER, second)
        third = second + _turn("does it hurt?", "ask_pain", "A little.")
        tracker_store._outage = True
        asyncio.run(tracker_store.save(_tracker(SENDER, third)))  # spooled behind the stale read
        tracker_store._outage = False
        for event in _turn("thanks", "thank", "You're welcome."):
            stale.update(event)
        asyncio.run(tracker_store.save(stale))
        texts = [e.get("text") for e in _stored(url, SENDER) if e["event"] in ("user", "bot")]
        assert texts == ["hello", "Hi!", "how many sessions?", "Usually several.", "does it hurt?", "A little.",
                         "thanks", "You're welcome."]
        assert not tracker_store.spool_pending()
    finally:
        tracker_store.stop_retrying()
