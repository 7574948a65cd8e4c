"""The tracker store loads a long conversation as a window (records/tracker_window.py,
issue 14) and nothing the assistant decides changes: the same slots, active loop,
latest message, the same states for the policies and the same prediction of the trained
model as the whole session; saving after a windowed load writes exactly the new events.
On SQLite and PostgreSQL (tests/fixtures/db.py)."""
import asyncio
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa_sdk import Tracker

from actions.common import user_entities_since_session_start, user_messages_since_session_start
from actions.conversation import offered_flow
from actions.triage import ValidateTriageForm
from records import db, spool, tracker_window
from records.redaction import CONTACT_ANSWER_PLACEHOLDER
from records.tracker_store import MesoTrackerStore
from records.vocabulary import EARLIER_MESSAGES_SLOT, KEEP_ANSWERS_SLOT

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
KNOWLEDGE = [
    ("what is mesotherapy?", "ask_what_is", "action_answer_knowledge", []),
    ("is that proven?", "ask_claim", "action_explain_claim", []),
    ("how many sessions are needed?", "ask_sessions", "action_answer_knowledge", []),
    ("does it help with dandruff?", "ask_claim", "action_explain_claim",
     [{"entity": "hair_problem", "value": "dandruff", "start": 20, "end": 28}]),
    ("who should do it?", "ask_who_performs", "action_answer_knowledge", []),
    ("thanks", "thank", "action_respond_to_statement", []),
]
RANKING = [{"name": "ask_what_is", "confidence": 0.9}, {"name": "ask_claim", "confidence": 0.05}]


def _user(text, intent, entities=()):
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": list(entities),
             "intent_ranking": RANKING}
    return UserUttered(text, parse["intent"], list(entities), parse)


def _listen(hidden=False):
    return ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0, hide_rule_turn=hidden)


def _knowledge_turn(i):
    text, intent, action, entities = KNOWLEDGE[i % len(KNOWLEDGE)]
    return [_listen(), _user(text, intent, entities), DefinePrevUserUtteredFeaturization(False),
            ActionExecuted(action, policy="RulePolicy", confidence=1.0), BotUttered(f"answer {i}"),
            SlotSet("last_answer", f"knowledge:{i}")]


def _form(name, intro, trigger, slots, side_every=0, finish=True, summary=None):
    """A form run as MesoGuide's forms produce it: the intro, then one hidden turn per
    answer (and a side question every ``side_every`` answers), then the deactivation."""
    events = [_listen(), _user(*trigger), DefinePrevUserUtteredFeaturization(False),
              ActionExecuted(intro, policy="RulePolicy", confidence=1.0), BotUttered("I'll ask you a few questions"),
              ActionExecuted(name, policy="followup_action", confidence=1.0), ActiveLoop(name),
              SlotSet("requested_slot", slots[0]), BotUttered(f"question {slots[0]}")]
    for n, slot in enumerate(slots):
        if side_every and n % side_every == 1:
            events += [_listen(True), _user("what does it cost?", "ask_price"), DefinePrevUserUtteredFeaturization(False),
                       ActionExecuted(name, policy="RulePolicy", confidence=1.0, hide_rule_turn=True),
                       BotUttered("Prices depend on the treatment"), SlotSet("form_turns_kept", float(n)),
                       SlotSet("requested_slot", slot), BotUttered(f"question {slot}")]
        if not finish and n == len(slots) - 1:
            break
        following = slots[n + 1] if n + 1 < len(slots) else None
        events += [_listen(True), _user("no", "deny"), DefinePrevUserUtteredFeaturization(False),
                   ActionExecuted(name, policy="RulePolicy", confidence=1.0, hide_rule_turn=True),
                   SlotSet(slot, "no"), SlotSet("requested_slot", following)]
        events += [BotUttered(f"question {following}")] if following else [ActiveLoop(None)]
    if finish and summary:
        events += [ActionExecuted(summary, policy="RulePolicy", confidence=1.0), BotUttered("summary"),
                   SlotSet(summary.replace("action_", "").replace("_summary", "_outcome"), "suitable")]
    events += [_listen(not finish)]
    return events


SCREENING = ("screening_form", "action_screening_intro", ("can I have mesotherapy?", "check_eligibility"),
             ["sc_pregnancy", "sc_breastfeeding", "sc_allergy", "sc_menstruation", "sc_endocrine",
              "sc_tumour", "sc_infection"])
TRIAGE = ("triage_form", "action_triage_intro", ("my hair is thinning at the crown", "describe_hair_loss"),
          ["tr_pattern", "tr_onset", "tr_patches", "tr_scalp", "tr_trigger", "tr_deficiency", "tr_family"])


def long_conversation(turns=200, ending="triage"):
    """``turns`` knowledge turns with a screening questionnaire (side questions
    included) in the middle, ending with a triage questionnaire in progress (``ending``
    "triage") or with the knowledge turns ("knowledge")."""
    events = [SessionStarted(), _listen()]
    for i in range(turns):
        events += _knowledge_turn(i)
        if i == turns // 2:
            events += _form(*SCREENING, side_every=3, summary="action_screening_summary")
    if ending == "triage":
        events += _form(*TRIAGE, side_every=2, finish=False)
        events += [SlotSet("unclear_answers", 1.0), _listen(True)]
    return events


def _tracker(sender, events):
    return DialogueStateTracker.from_events(sender, events, DOMAIN.slots)


def _count(url, sender):
    with db.get_engine(url).connect() as conn:
        return conn.execute(sa.text("select count(*) from events where sender_id = :s"), {"s": sender}).scalar()


def _rows(url, sender):
    with db.get_engine(url).connect() as conn:
        return [json.loads(r.data) for r in conn.execute(
            sa.text("select data from events where sender_id = :s order by id"), {"s": sender})]


def _store():
    return MesoTrackerStore(domain=DOMAIN)


def _both(store, sender):
    """(windowed, whole session) as MesoGuide's store and Rasa's own retrieve load it."""
    window = asyncio.run(store.retrieve(sender))
    whole = asyncio.run(SQLTrackerStore.retrieve(store, sender))
    return window, whole


def _light(messages):
    """(text, entities) with each entity's ``ENTITY_KEYS`` only (what the summary keeps)."""
    return [(text, [_reduced(e) for e in entities]) for text, entities in messages]


def _reduced(entity):
    return {k: v for k, v in entity.items() if k in tracker_window.ENTITY_KEYS and v is not None}


def _sdk(tracker):
    return Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))


def _slots(tracker):
    return {k: v for k, v in tracker.current_slot_values().items() if k != EARLIER_MESSAGES_SLOT}


def _same_state(window, whole):
    assert _slots(window) == _slots(whole)
    assert whole.get_slot(EARLIER_MESSAGES_SLOT) is None
    assert window.active_loop_name == whole.active_loop_name
    if whole.active_loop:
        assert (window.active_loop.rejected, window.active_loop.is_interrupted) == (
            whole.active_loop.rejected, whole.active_loop.is_interrupted)
    assert window.latest_message.as_dict() == whole.latest_message.as_dict()
    assert window.latest_action == whole.latest_action
    assert window.latest_bot_utterance.as_dict() == whole.latest_bot_utterance.as_dict()
    assert (window.followup_action, window.is_paused()) == (whole.followup_action, whole.is_paused())
    for ignore_rule_only_turns, depth in ((False, tracker_window.MIN_STATES - 2), (True, 5)):
        states = [t.past_states(DOMAIN, ignore_rule_only_turns=ignore_rule_only_turns)[-depth:]
                  for t in (window, whole)]
        assert states[0] == states[1]
    sdk_window, sdk_whole = _sdk(window), _sdk(whole)
    assert _light(user_messages_since_session_start(sdk_window)) == _light(user_messages_since_session_start(sdk_whole))
    assert [_reduced(e) for e in user_entities_since_session_start(sdk_window)] == [
        _reduced(e) for e in user_entities_since_session_start(sdk_whole)]
    assert ValidateTriageForm().prefill(sdk_window, {}) == ValidateTriageForm().prefill(sdk_whole, {})
    assert offered_flow(sdk_window) == offered_flow(sdk_whole)


@pytest.mark.parametrize("ending", ["triage", "knowledge"])
def test_a_long_conversation_loads_as_a_window_with_the_same_state(db_url, ending):
    store = _store()
    events = long_conversation(ending=ending)
    asyncio.run(store.save(_tracker("long", events)))
    window, whole = _both(store, "long")
    assert tracker_window.window_of(window) is not None
    assert len(window.events) < len(whole.events) / 3, "a window, not the whole session"
    assert len(whole.events) == len(events)
    _same_state(window, whole)
    if ending == "triage":
        assert window.active_loop_name == "triage_form" and window.get_slot("requested_slot") == "tr_family"
    prefix = list(window.events)[: tracker_window.window_of(window).prefix]
    assert not [e for e in prefix if isinstance(e, UserUttered)], "no earlier message for the policies to replay"
    earlier = window.get_slot(EARLIER_MESSAGES_SLOT)
    assert len(earlier) + sum(isinstance(e, UserUttered) for e in window.events) == sum(
        isinstance(e, UserUttered) for e in whole.events)
    assert any(m.get("entities") for m in earlier), "earlier entities are kept for the triage prefill"
    assert all(set(m) <= {"text", "entities"} and all(set(e) <= set(tracker_window.ENTITY_KEYS) for e in
                                                       m.get("entities", [])) for m in earlier)


def test_a_short_conversation_loads_whole(db_url):
    store = _store()
    events = [SessionStarted(), _listen()] + [e for i in range(4) for e in _knowledge_turn(i)]
    asyncio.run(store.save(_tracker("short", events)))
    window, whole = _both(store, "short")
    assert tracker_window.window_of(window) is None
    assert [e.as_dict() for e in window.events] == [e.as_dict() for e in whole.events]


def _happy_side_turn():  # the form answers a side question itself (MesoGuide's forms)
    return [_listen(True), _user("what does it cost?", "ask_price"), DefinePrevUserUtteredFeaturization(False),
            ActionExecuted("triage_form", policy="RulePolicy", confidence=1.0, hide_rule_turn=True),
            BotUttered("Prices depend on the treatment"), SlotSet("form_turns_kept", 1.0),
            SlotSet("requested_slot", "tr_family"), BotUttered("question tr_family")]


def _unhappy_side_turn():  # the form rejects the turn and another policy answers
    return [_listen(), _user("what does it cost?", "ask_price"), DefinePrevUserUtteredFeaturization(False),
            ActionExecuted("triage_form", policy="RulePolicy", confidence=1.0),
            ActionExecutionRejected("triage_form"),
            ActionExecuted("action_price_info", policy="TEDPolicy", confidence=0.8), BotUttered("Prices depend")]


@pytest.mark.parametrize("side", [_happy_side_turn, _unhappy_side_turn], ids=["happy", "unhappy"])
def test_a_form_running_for_long_keeps_its_start_in_the_window(db_url, side):
    """Rasa collapses a form's happy-path turns back to its first execution, so the
    policies see the turns before the form, and the form's state (active, rejected) is
    not in the summary: the window starts before the form."""
    store = _store()
    events = long_conversation(turns=30, ending="knowledge")
    events += _form(*TRIAGE, finish=False)
    events += [e for _ in range(40) for e in side()] + [_listen(side is _happy_side_turn)]
    asyncio.run(store.save(_tracker("long-form", events)))
    window, whole = _both(store, "long-form")
    assert tracker_window.window_of(window) is not None
    stored = list(window.events)[tracker_window.window_of(window).prefix:]
    assert any(isinstance(e, ActiveLoop) and e.name == "triage_form" for e in stored)
    _same_state(window, whole)


def test_saving_after_a_windowed_load_writes_exactly_the_new_events(db_url):
    store = _store()
    events = long_conversation()
    asyncio.run(store.save(_tracker("save", events)))
    assert _count(db_url, "save") == len(events)
    for turn in range(3):
        tracker = asyncio.run(store.retrieve("save"))
        assert tracker_window.window_of(tracker) is not None
        new = [_user(f"is it safe {turn}?", "ask_side_effects"), ActionExecuted("triage_form"),
               SlotSet("tr_deficiency", "no"), SlotSet("requested_slot", "tr_family"), BotUttered("question"),
               _listen(True)]
        for event in new:
            tracker.update(event, DOMAIN)
        asyncio.run(store.save(tracker))
        asyncio.run(store.save(tracker))  # a second save adds nothing
        events += new
        assert _count(db_url, "save") == len(events)
    assert _rows(db_url, "save") == [e.as_dict() for e in events]


def test_an_answer_at_the_contact_question_is_masked_when_the_question_is_before_the_window(db_url):
    """contact_answers() reads requested_slot from the events: the window's summary
    carries its current value."""
    store = _store()
    events = [SessionStarted(), _listen(), _user("call me", "book_consultation"),
              ActionExecuted("action_human_handoff"), SlotSet("requested_slot", "cs_contact"), BotUttered("number?")]
    events += [e for i in range(30) for e in _knowledge_turn(i)]
    asyncio.run(store.save(_tracker("contact", events)))
    tracker = asyncio.run(store.retrieve("contact"))
    assert tracker_window.window_of(tracker) is not None and tracker.get_slot("requested_slot") == "cs_contact"
    tracker.update(_user("anna at example dot com", "inform"), DOMAIN)
    asyncio.run(store.save(tracker))
    assert _rows(db_url, "contact")[-1]["text"] == CONTACT_ANSWER_PLACEHOLDER


def test_during_an_outage_a_windowed_tracker_is_spooled_without_its_summary(db_url):
    store = _store()
    events = long_conversation()
    asyncio.run(store.save(_tracker("outage", events)))
    tracker = asyncio.run(store.retrieve("outage"))
    tracker.update(_user("does it hurt?", "ask_side_effects"), DOMAIN)
    store._outage = True  # as after a failed write: saves go to the spool
    try:
        asyncio.run(store.save(tracker))
        record = [e for e in spool.entries(spool.EVENTS_FILE) if e.get("op") == "events"][-1]["record"]
        assert len(record["prefix"]) == tracker_window.window_of(tracker).prefix
        spooled = asyncio.run(store.retrieve("outage"))  # read back from the spool
        assert spooled.current_slot_values() == tracker.current_slot_values()
        assert spooled.latest_message.text == "does it hurt?"
        store._outage = False
        store.replay_spools()
    finally:
        store.stop_retrying()
    assert _count(db_url, "outage") == len(events) + 1
    assert _rows(db_url, "outage")[-1]["text"] == "does it hurt?"


def test_the_window_covers_the_policies_max_history():
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    longest = max(p.get("max_history") or 0 for p in config["policies"])
    assert longest + 4 <= tracker_window.MIN_ML_STATES
    assert 2 * longest + 2 <= tracker_window.MIN_STATES


# --- the trained model's prediction ---------------------------------------------------------
MODEL = Path(os.environ.get("MESOGUIDE_MODEL") or ROOT / "models" / "mesoguide.tar.gz")


@pytest.fixture(scope="module")
def agent():
    if not MODEL.is_file():
        reason = f"no trained model at {MODEL} (make train, or set MESOGUIDE_MODEL)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
        pytest.skip(reason)
    from rasa.core.agent import Agent

    return Agent.load(str(MODEL))


async def _predict(agent, tracker, text):
    parse = await agent.parse_message(text)
    tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse), agent.domain)
    prediction = agent.processor._predict_next_with_tracker(tracker)
    return prediction.max_confidence_index, prediction.policy_name, [round(p, 6) for p in prediction.probabilities]


@pytest.mark.parametrize("ending", ["triage", "knowledge"])
def test_the_trained_policies_predict_the_same_on_the_window(sqlite_url, agent, ending):
    store = MesoTrackerStore(domain=agent.domain)
    events = long_conversation(ending=ending)
    cuts = [len(events) // 4, len(events) // 2, len(events) - 40, len(events)]
    stored = 0
    for cut in cuts:
        while not isinstance(events[cut - 1], ActionExecuted) or events[cut - 1].action_name != "action_listen":
            cut -= 1
        asyncio.run(store.save(DialogueStateTracker.from_events("predict", events[:cut], agent.domain.slots)))
        stored = cut
        assert _count(sqlite_url, "predict") == stored
        for text in ("no", "what does it cost?", "is that proven?", "can I have mesotherapy?"):
            window, whole = _both(store, "predict")
            assert asyncio.run(_predict(agent, window, text)) == asyncio.run(_predict(agent, whole, text))


def _as_rows(events):
    return [(i, e.type_name, e.as_dict().get("name")) for i, e in enumerate(events)]


@pytest.mark.parametrize("ending", ["triage", "knowledge", "unhappy form"])
def test_from_any_possible_boundary_rasa_applies_the_same_actions_as_on_the_whole_session(ending):
    """What choose_boundary relies on: cut at an action_listen before a visitor message
    where no loop is active, Rasa's applied_events keeps the same actions after the cut."""
    events = long_conversation(turns=40, ending="knowledge" if ending == "unhappy form" else ending)
    if ending == "unhappy form":
        events += _form(*TRIAGE, finish=False) + [e for _ in range(10) for e in _unhappy_side_turn()]
    rows = _as_rows(events)
    hidden = {i for i, e in enumerate(events) if isinstance(e, ActionExecuted) and e.hide_rule_turn}
    loop_active, _first_undo = tracker_window._loop_state(rows)
    whole = tracker_window._applied_actions(rows, 0, hidden)
    cuts = [i for i, row in enumerate(rows[:-1]) if row[2] == "action_listen" and rows[i + 1][1] == "user"
            and not loop_active[i]]
    assert len(cuts) > 40
    for cut in cuts:
        assert tracker_window._applied_actions(rows, cut, hidden)[cut:] == whole[cut:], cut


def test_events_deserialise_as_rasa_deserialises_them():
    from rasa.shared.core.events import deserialise_events

    dicts = [e.as_dict() for e in long_conversation(turns=20)] + [{"timestamp": 1.0}]  # no "event": skipped
    mine, rasas = tracker_window.deserialise(dicts), deserialise_events(dicts)
    assert [type(e) for e in mine] == [type(e) for e in rasas]
    assert [e.as_dict() for e in mine] == [e.as_dict() for e in rasas]


def test_only_the_latest_session_is_summarised(db_url):
    store = _store()
    old = long_conversation(turns=30, ending="knowledge") + [SlotSet("screening_outcome", "suitable")]
    new = [ActionExecuted("action_session_start"), SessionStarted(), _listen()]
    new += [e for i in range(30) for e in _knowledge_turn(i)]
    asyncio.run(store.save(_tracker("sessions", old + new)))
    window, whole = _both(store, "sessions")
    assert tracker_window.window_of(window) is not None
    assert len(whole.events) < len(new)  # Rasa's own retrieve: the latest session only
    assert window.get_slot("screening_outcome") is None
    _same_state(window, whole)
    stored_users = [e.text for e in whole.events if isinstance(e, UserUttered)]
    assert [text for text, _e in user_messages_since_session_start(_sdk(window))] == stored_users


# --- the summary kept between reads (tracker_window.PrefixCache) -------------------------------
def _dicts(tracker):
    return [e.as_dict() for e in tracker.events] if tracker is not None else None


def _fresh(sender):
    """The conversation as a store that has never read it loads it."""
    return asyncio.run(_store().retrieve(sender))


def _grow(store, sender, events):
    asyncio.run(store.save(_tracker(sender, events)))


def test_a_cached_summary_gives_the_same_tracker_as_reading_the_whole_conversation(db_url):
    """A growing conversation (a screening questionnaire with side questions in the middle,
    a triage questionnaire in progress at the end), read after every save by a store that
    keeps its summary and by one that has never read it: the same events, in order, and
    the same window; the summary moves forward with the conversation."""
    store = _store()
    events = long_conversation(turns=80, ending="triage")
    boundaries, cut = set(), 40
    while cut <= len(events):
        _grow(store, "grows", events[:cut])
        kept, fresh = asyncio.run(store.retrieve("grows")), _fresh("grows")
        assert _dicts(kept) == _dicts(fresh), cut
        assert tracker_window.window_of(kept) == tracker_window.window_of(fresh), cut
        if tracker_window.window_of(kept):
            boundaries.add(tracker_window.window_of(kept).boundary_id)
            assert store._prefixes.get("grows", store.domain).boundary_id == tracker_window.window_of(kept).boundary_id
        cut += 37
    assert len(store._prefixes) == 1 and len(boundaries) > 5, "the cached summary was used and moved forward"


def test_a_cached_summary_reads_only_the_rows_from_its_boundary_on(db_url):
    store = _store()
    _grow(store, "cached", long_conversation(turns=60, ending="knowledge"))
    first = asyncio.run(store.retrieve("cached"))
    boundary_id = tracker_window.window_of(first).boundary_id
    earlier_text = first.get_slot(EARLIER_MESSAGES_SLOT)[0]["text"]
    with db.get_engine(db_url).begin() as conn:  # an earlier row changed behind the store's back
        conn.execute(sa.text("update events set data = replace(data, :old, 'changed') "
                             "where sender_id = 'cached' and id < :b and type_name = 'user'"),
                     {"old": earlier_text, "b": boundary_id})
    again = asyncio.run(store.retrieve("cached"))
    assert again.get_slot(EARLIER_MESSAGES_SLOT)[0]["text"] == earlier_text, "read from the cached summary"
    assert _fresh("cached").get_slot(EARLIER_MESSAGES_SLOT)[0]["text"] == "changed"


def test_a_conversation_deleted_elsewhere_is_not_read_from_the_cache(db_url):
    store = _store()
    events = long_conversation(turns=60, ending="knowledge")
    _grow(store, "gone", events)
    assert tracker_window.window_of(asyncio.run(store.retrieve("gone")))
    with db.get_engine(db_url).begin() as conn:  # the console or the retention command deletes it
        conn.execute(sa.text("delete from events where sender_id = 'gone'"))
    assert asyncio.run(store.retrieve("gone")) is None
    # written anew under the same id (other texts): read as written, not from the old summary
    other = [SessionStarted(), _listen()] + [e for i in range(40) for e in _knowledge_turn(i + 3)]
    _grow(_store(), "gone", other)
    assert _dicts(asyncio.run(store.retrieve("gone"))) == _dicts(_fresh("gone"))


def test_a_new_session_is_not_read_from_the_previous_sessions_summary(db_url):
    store = _store()
    old = long_conversation(turns=40, ending="knowledge") + [SlotSet("screening_outcome", "suitable")]
    _grow(store, "two", old)
    assert tracker_window.window_of(asyncio.run(store.retrieve("two")))
    new = [ActionExecuted("action_session_start"), SessionStarted(), _listen()]
    new += [e for i in range(30) for e in _knowledge_turn(i)]
    _grow(store, "two", old + new)
    kept = asyncio.run(store.retrieve("two"))
    assert _dicts(kept) == _dicts(_fresh("two"))
    assert kept.get_slot("screening_outcome") is None


def test_a_visitor_who_chose_not_to_keep_answers_is_never_read_from_the_cache(db_url):
    """Their earlier rows are masked on every save, here and by the retention command in
    another process: every read sees the rows as stored."""
    store = _store()
    events = long_conversation(turns=60, ending="knowledge") + [SlotSet(KEEP_ANSWERS_SLOT, False)]
    events += [e for i in range(10) for e in _knowledge_turn(i)]
    _grow(store, "unkept", events)
    first = asyncio.run(store.retrieve("unkept"))
    assert tracker_window.window_of(first) and len(store._prefixes) == 0
    with db.get_engine(db_url).begin() as conn:  # masked by another process
        conn.execute(sa.text("update events set data = replace(data, 'what is mesotherapy?', 'masked') "
                             "where sender_id = 'unkept' and type_name = 'user'"))
    texts = [m["text"] for m in asyncio.run(store.retrieve("unkept")).get_slot(EARLIER_MESSAGES_SLOT)]
    assert "masked" in texts and "what is mesotherapy?" not in texts


def test_a_new_model_does_not_use_the_summaries_of_the_old_one(db_url):
    store = _store()
    _grow(store, "model", long_conversation(turns=60, ending="knowledge"))
    asyncio.run(store.retrieve("model"))
    cached = store._prefixes.get("model", store.domain)
    assert cached is not None
    store.domain = Domain.load(str(ROOT / "domain.yml"))
    assert store._prefixes.get("model", store.domain) is None
    assert _dicts(asyncio.run(store.retrieve("model"))) == _dicts(_fresh("model"))


# --- the whole assistant, in-process: the same replies with and without the window ----------
SCRIPT = (["hello", "what is mesotherapy?", "is that proven?", "I have dandruff and my scalp itches"]
          + ["how many sessions are needed?", "what is injected?", "who should do it?", "thanks"] * 4
          + ["can I have mesotherapy?", "no", "what does it cost?", "no", "not sure", "no", "is it painful?", "no",
             "no", "yes"]
          + ["how many sessions are needed?", "is DHI non-invasive?", "thanks"] * 3
          + ["my hair is thinning at the crown", "temples and crown", "what does it cost?", "gradually", "no",
             "is that proven?", "no", "no", "what is injected?", "yes", "what's your source?", "bye"])


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    from scripts.stack import Stack

    work = tmp_path_factory.mktemp("actions")
    env = dict(os.environ, ACTION_PORT=str(_free_port()), RASA_PORT=str(_free_port()),
               MESOGUIDE_DATA_DIR=str(work / "data"), MESOGUIDE_DB_URL=f"sqlite:///{work / 'actions.db'}")
    env.pop("MESOGUIDE_ACTION_SECRET", None)
    stack = Stack(env=env, log_dir=work / "logs")
    stack.migrate()
    stack.start("actions")
    try:
        yield stack
    finally:
        stack.stop_all()


async def _play(agent, store, sender):
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    replies, windowed = [], 0
    for text in SCRIPT:
        loaded = await store.retrieve(sender)
        windowed += bool(loaded is not None and tracker_window.window_of(loaded))
        out = CollectingOutputChannel()
        await agent.handle_message(UserMessage(text, out, sender, input_channel="rest"))
        replies.append([(m.get("text"), [b.get("payload") for b in m.get("buttons") or []]) for m in out.messages])
    whole = await store.retrieve_full_tracker(sender)
    return replies, windowed, whole.current_slot_values(), [e.type_name for e in whole.events]


def test_a_long_conversation_gets_the_same_replies_with_the_window(sqlite_url, agent, action_server, monkeypatch):
    from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore
    from rasa.utils.endpoints import EndpointConfig

    endpoint = EndpointConfig(url=f"{action_server.url('actions')}/webhook",
                              headers={"X-MesoGuide-Action-Secret": action_server.env["MESOGUIDE_ACTION_SECRET"]})
    monkeypatch.setattr(agent, "action_endpoint", endpoint)
    monkeypatch.setattr(agent.processor, "action_endpoint", endpoint)
    store = FailSafeTrackerStore(AwaitableTrackerStore.create(MesoTrackerStore(domain=agent.domain)))
    monkeypatch.setattr(agent, "tracker_store", store)
    monkeypatch.setattr(agent.processor, "tracker_store", store)
    with_window = asyncio.run(_play(agent, store, "with-window"))
    monkeypatch.setattr(MesoTrackerStore, "_retrieve_window", SQLTrackerStore.retrieve)  # as before issue 14
    whole_session = asyncio.run(_play(agent, store, "whole-session"))
    assert with_window[1] > len(SCRIPT) // 2, "most turns were loaded as a window"
    assert whole_session[1] == 0
    for turn, (text, mine, rasas) in enumerate(zip(SCRIPT, with_window[0], whole_session[0])):
        assert mine == rasas, (turn, text)
    assert with_window[2:] == whole_session[2:]  # the same slots and the same stored events


# --- the earlier messages extracted by the database, the index (issue 14) ------------------
def test_the_database_extracts_the_earlier_messages_as_python_reads_them(db_url):
    """What the summary keeps of each earlier visitor message (text, channel, intent,
    entities, parse text), taken out of the row by SQLite's json_extract or PostgreSQL's
    jsonb operators, is what decoding the row in Python keeps (``_light_user``)."""
    store = _store()
    odd = [
        UserUttered('she said "it\'s itchy" \\ naïve – 100 % ✓', {"name": "describe_hair_loss", "confidence": 0.123456789012345678},
                    [{"entity": "hair_problem", "value": "itchy scalp", "start": 13, "end": 18, "role": None,
                      "confidence_entity": 0.98765432109876}],
                    {"intent_ranking": RANKING}, timestamp=1796240114.7949081, input_channel="rest"),
        UserUttered("/affirm", {"name": "affirm", "confidence": 1.0}, [], timestamp=1796240115.1234567),
        UserUttered(None, None, None, {"text": None}),
    ]
    events = long_conversation(turns=30, ending="knowledge")
    events = events[:10] + odd + events[10:]
    asyncio.run(store.save(_tracker("light", events)))
    sparse = {"event": "user", "text": "raw", "parse_data": {"entities": [{"entity": "hair_problem", "value": "x"}]}}
    with db.get_engine(db_url).begin() as connection:  # an older row: no timestamp, channel, intent
        connection.execute(sa.text("insert into events (sender_id, type_name, data) values ('light', 'user', :d)"),
                           {"d": json.dumps(sparse)})
    events.append(UserUttered("raw"))
    with db.get_engine(db_url).connect() as connection:
        rows = connection.execute(sa.text(
            "select id, timestamp, data from events where sender_id = 'light' and type_name = 'user' order by id")).all()
        sql = tracker_window.light_users_sql(connection.dialect.name)
        extracted = connection.execute(sa.text(sql), {"sender_id": "light", "first_id": rows[0].id,
                                                      "boundary_id": rows[-1].id + 1}).scalar()
    from_sql = tracker_window.light_users(extracted, {row.id: row.timestamp for row in rows})
    in_python = [(row.id, tracker_window._light_user(json.loads(row.data))) for row in rows]
    assert len(in_python) == sum(isinstance(e, UserUttered) for e in events)
    assert from_sql == in_python
    assert from_sql[-1][1] == {"event": "user", "text": "raw", "parse_data": {"entities": sparse["parse_data"]["entities"]}}
    mine, pythons = ([{k: v for k, v in e.as_dict().items() if k != "timestamp" or e.text != "raw"}  # now, if none
                      for e in tracker_window.deserialise(d for _i, d in light)] for light in (from_sql, in_python))
    assert mine == pythons


def test_on_a_fresh_database_the_tracker_store_creates_the_window_index(empty_db_url):
    db.upgrade(empty_db_url)  # migration 0007 finds no events table: Rasa creates it with its store
    _store()
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(db.get_engine(empty_db_url)).get_indexes("events")}
    assert indexes[db.EVENTS_INDEX] == list(db.EVENTS_INDEX_COLUMNS)
    _store()  # a second start (another replica) finds it


def test_without_sql_extraction_the_earlier_messages_are_decoded_in_python_the_same(db_url, monkeypatch):
    """A database other than SQLite and PostgreSQL (no ``light_users_sql``) reads the
    earlier visitor messages' rows and decodes them in Python: the same tracker."""
    events = long_conversation(ending="triage")
    asyncio.run(_store().save(_tracker("long", events)))
    extracted = asyncio.run(_store().retrieve("long"))
    monkeypatch.setattr(tracker_window, "light_users_sql", lambda dialect: None)
    decoded = asyncio.run(_store().retrieve("long"))
    assert tracker_window.window_of(decoded) == tracker_window.window_of(extracted) is not None
    assert [e.as_dict() for e in decoded.events] == [e.as_dict() for e in extracted.events]
    _same_state(decoded, asyncio.run(SQLTrackerStore.retrieve(_store(), "long")))


def test_the_least_recently_used_entry_is_dropped_first():
    kept = tracker_window.LruMap(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" is now the most recently used
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c"), len(kept)) == (1, None, 3, 2)
    kept.drop("a")
    assert kept.get("a") is None and len(kept) == 1


def test_a_kept_summary_is_found_only_with_the_domain_it_was_built_with():
    first, second = object(), object()
    cache = tracker_window.PrefixCache(size=5)
    window = tracker_window.Window(prefix=2, boundary_id=7, boundary_timestamp=1.5, prefix_events=[{"event": "x"}])
    cache.put("s", tracker_window.CachedPrefix(domain=first, window=window))
    entry = cache.get("s", first)
    assert (entry.boundary_id, entry.boundary_timestamp, entry.prefix) == (7, 1.5, [{"event": "x"}])
    assert cache.get("s", second) is None
