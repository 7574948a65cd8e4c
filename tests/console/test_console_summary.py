"""conversation_summary follows Rasa's events: incremental, late commits, deletions."""

from __future__ import annotations

import sqlalchemy as sa

from console import db, summary
from tests.console.console_helpers import Convo, login, policy_turn, store


def summaries(url: str) -> dict:
    s = db.tables().conversation_summary
    with db.session(url) as session:
        return {r.sender_id: r for r in session.execute(sa.select(s))}


def test_summary_values(console_url):
    c = Convo(1_700_000_000.0, channel="socketio")
    c.turn("Hello There", "greet", "Hi! I am MesoGuide.")
    c.turn("???", "nlu_fallback", "Sorry?", confidence=0.3)
    c.turn("cost maybe", "ask_price", "It varies.", confidence=0.49)
    c.turn("I can't breathe", "emergency", "Call 112.", action="action_emergency")
    store(console_url, c)
    assert summary.refresh(console_url) == 1
    row = summaries(console_url)[c.sender_id]
    assert (row.turns, row.fallback_turns, row.escalated, row.channel) == (4, 2, True, "socketio")
    assert 1_700_000_000.0 < row.started_at < row.last_at
    assert "hello there" in row.search_text and "hi! i am mesoguide." in row.search_text
    assert "action_answer_knowledge" not in row.search_text and "[email" not in row.search_text


def test_turns_taken_without_an_answer_count_as_not_understood_once(console_url):
    """A confident message the assistant did not answer counts as a fallback turn; a
    fallback that the policy then clarifies counts once; an answered message not at all."""
    c = Convo(1_700_000_000.0)
    c.turn("what is it", "ask_what_is", "Injections.", confidence=0.97)  # answered
    policy_turn(c, "how long until DHI grafts settle", "ask_side_effects", "action_other_treatment", confidence=0.93)
    policy_turn(c, "how do I open a bank account", "ask_price", "utter_out_of_scope", confidence=0.91)
    policy_turn(c, "the thing with the needles", "nlu_fallback", "action_clarify", confidence=0.3)
    policy_turn(c, "is it bad", "ask_side_effects", "action_clarify", confidence=0.55)  # weak guess, asked
    store(console_url, c)
    summary.refresh(console_url)
    row = summaries(console_url)[c.sender_id]
    assert (row.turns, row.fallback_turns) == (5, 4)


def test_only_the_first_action_after_a_message_decides(console_url):
    answered = Convo().turn("side effects?", "ask_side_effects", "Some redness.", confidence=0.95)
    # the policy's action after a later message does not reach back to an earlier one
    answered.c.user("ok", "affirm", confidence=0.99)
    answered.c.listen()
    policy_turn(answered, "and for DHI?", "ask_side_effects", "action_other_treatment", confidence=0.9)
    # an action that does not answer, but not first (after the answer), leaves it answered
    later = Convo().turn("what is it", "ask_what_is", "Injections.", confidence=0.97)
    later.c.action("utter_out_of_scope")
    later.c.listen()
    store(console_url, answered, later)
    summary.refresh(console_url)
    rows = summaries(console_url)
    assert rows[answered.sender_id].fallback_turns == 1
    assert rows[later.sender_id].fallback_turns == 0


def test_not_understood_reason_names_the_classifier_first_then_the_action():
    reason = summary.not_understood_reason
    assert reason("nlu_fallback", 0.3, "action_clarify") == "nlu_fallback"
    assert reason("ask_price", 0.4, "action_clarify") == "low_confidence"
    assert reason("ask_price", 0.9, "action_clarify") == "action_clarify"
    assert reason("ask_side_effects", 0.9, "action_other_treatment") == "action_other_treatment"
    assert reason("ask_price", 0.9, "utter_out_of_scope") == "utter_out_of_scope"
    assert reason("ask_price", 0.9, "action_default_fallback") == "action_default_fallback"
    assert reason("ask_price", 0.9, "action_price_info") is None
    assert reason("ask_price", 0.9) is None


def test_refresh_is_incremental_and_idempotent(console_url):
    first, second = Convo().turn("one", "greet"), Convo().turn("two", "greet")
    store(console_url, first)
    assert summary.refresh(console_url) == 1
    assert summary.refresh(console_url) == 0
    store(console_url, second)
    assert summary.refresh(console_url) >= 1
    assert set(summaries(console_url)) == {first.sender_id, second.sender_id}
    more = Convo(sender_id=first.sender_id).turn("one again", "greet")
    store(console_url, more)
    summary.refresh(console_url)
    assert summaries(console_url)[first.sender_id].turns == 2


def test_rows_committed_out_of_id_order_are_caught_by_the_look_back(console_url):
    early, late = Convo().turn("early", "greet"), Convo().turn("late", "greet")
    store(console_url, early, late)
    e = db.tables().events
    with db.session(console_url) as s:
        ids = s.scalars(sa.select(e.c.id).where(e.c.sender_id == early.sender_id).order_by(e.c.id)).all()
        hidden = s.execute(sa.select(e).where(e.c.id.in_(ids))).all()
        s.execute(sa.delete(e).where(e.c.id.in_(ids)))
    summary.refresh(console_url)
    assert set(summaries(console_url)) == {late.sender_id}
    with db.session(console_url) as s:
        s.execute(sa.insert(e), [dict(r._mapping) for r in hidden])
    store(console_url, Convo().turn("trigger", "greet"))
    summary.refresh(console_url)
    assert early.sender_id in summaries(console_url)


def test_orphaned_summaries_are_swept(console_url):
    c = Convo().turn("bye", "goodbye")
    store(console_url, c)
    summary.refresh(console_url)
    e = db.tables().events
    with db.session(console_url) as s:
        s.execute(sa.delete(e).where(e.c.sender_id == c.sender_id))
    assert summary.sweep(console_url) == 1
    assert summaries(console_url) == {}


def test_full_rebuild_recomputes_everything(console_url):
    c = Convo().turn("hello", "greet")
    store(console_url, c)
    summary.refresh(console_url)
    s = db.tables().conversation_summary
    with db.session(console_url) as session:
        session.execute(sa.update(s).values(turns=99, search_text="stale"))
    assert summary.refresh(console_url) == 0
    assert summary.refresh(console_url, full=True) == 1
    row = summaries(console_url)[c.sender_id]
    assert row.turns == 1 and "hello" in row.search_text


def test_console_works_before_rasa_created_its_table_and_indexes_it_later(db_url, tmp_path, domain_file):
    from fastapi.testclient import TestClient

    from console import accounts
    from console import events as ev
    from console.app import create_app
    from console.config import Settings

    accounts.create_user(db_url, "early", "early bird passphrase", "admin")
    app = create_app(
        settings=Settings(
            db_url=db_url,
            data_dir=tmp_path,
            secret_key="e" * 40,
            login_failure_delay=0.0,
            domain_path=domain_file,
        )
    )
    with TestClient(app, follow_redirects=False) as client:
        response = login(client, "early", "early bird passphrase")
        assert response.status_code == 303
        for path in ("/inbox", "/inbox?intent=greet&q=x", "/overview", "/improve", "/followups"):
            assert client.get(path).status_code == 200, path
        assert client.get("/conversations/abc").status_code == 404
        ev.create_for_tests(db.engine(db_url))
        store(db_url, Convo().turn("first visitor", "greet"))
        assert client.get("/inbox").text.count("/conversations/") == 1
        assert client.get("/inbox?q=first+visitor").text.count("/conversations/") == 1
    indexes = {i["name"] for i in sa.inspect(db.engine(db_url)).get_indexes("events")}
    assert {i.name for i in ev.CONSOLE_INDEXES} <= indexes
