"""Improve: not-understood messages grouped by guessed intent, written as Rasa NLU YAML."""

from __future__ import annotations

import html
import re
import time

import pytest
import sqlalchemy as sa
import yaml

from console import db, improve, labels, summary
from tests.console.console_helpers import Convo, policy_turn, store

RECENT = time.time() - 3600


def event_id(url: str, text: str) -> int:
    e = db.tables().events
    with db.session(url) as s:
        return s.scalar(
            sa.select(e.c.id).where(e.c.type_name == "user", e.c.data.contains(f'"text": "{text}"'))
        )


@pytest.fixture
def messages(console_url):
    c = Convo(RECENT)
    c.turn("how much for the jabs", "nlu_fallback", "Sorry?", confidence=0.3)
    c.c.rows[-4]["data"] = c.c.rows[-4]["data"].replace(
        '"intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3}',
        '"intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3}, '
        '{"name": "ask_price", "confidence": 0.29}',
    )
    c.turn("pricey?", "ask_price", "It varies.", confidence=0.42)
    c.turn("what is it", "ask_what_is", "Injections.", confidence=0.97)
    old = Convo(RECENT - 60 * 86400).turn("ancient gibberish", "nlu_fallback", "Sorry?", confidence=0.2)
    store(console_url, c, old)
    return c


def test_groups_fallback_and_low_confidence_by_guessed_intent(reviewer_client, messages):
    page = reviewer_client.get("/improve").text
    groups = re.findall(r"Guessed [^<]* <code>(\w+)</code> <span class=\"muted\">\((\d+)\)", page)
    assert groups == [("ask_price", "2")]
    assert "Guessed Prices <code>ask_price</code>" in page
    assert "how much for the jabs" in page and "pricey?" in page
    assert "what is it" not in page and "ancient gibberish" not in page
    assert "ancient gibberish" in reviewer_client.get("/improve?days=90").text


def test_the_page_says_when_it_shows_only_the_newest_messages(reviewer_client, messages, monkeypatch):
    assert "Only the newest" not in reviewer_client.get("/improve").text
    monkeypatch.setattr(improve, "MAX_MESSAGES", 1)
    page = reviewer_client.get("/improve").text
    assert "Only the newest 1 not-understood messages" in page
    assert len(re.findall(r'name="event_id"', page)) == 1


def test_add_writes_rasa_nlu_yaml_into_the_inbox_not_into_data(
    reviewer_client, messages, settings, console_url
):
    ids = [event_id(console_url, "how much for the jabs"), event_id(console_url, "pricey?")]
    for i in ids:
        response = reviewer_client.post(
            "/improve/add",
            data={"csrf_token": reviewer_client.csrf, "event_id": str(i), "intent": "ask_price"},
        )
        assert response.status_code == 303 and "msg=added" in response.headers["location"]
    path = settings.nlu_inbox / "ask_price.yml"
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert content["version"] == "3.1"
    assert content["nlu"] == [{"intent": "ask_price", "examples": "- how much for the jabs\n- pricey?\n"}]
    assert list(settings.nlu_inbox.iterdir()) == [path]
    page = reviewer_client.get("/improve").text
    assert page.count('<span class="badge ok">Added</span>') == 2
    assert 'href="/improve/files/ask_price.yml"' in page


def test_yaml_is_accepted_by_rasas_own_reader(reviewer_client, messages, settings, console_url):
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    reviewer_client.post(
        "/improve/add",
        data={
            "csrf_token": reviewer_client.csrf,
            "intent": "ask_price",
            "event_id": [
                str(event_id(console_url, "how much for the jabs")),
                str(event_id(console_url, "pricey?")),
            ],
        },
    )
    data = RasaYAMLReader().read(settings.nlu_inbox / "ask_price.yml")
    assert sorted(m.get("text") for m in data.intent_examples) == ["how much for the jabs", "pricey?"]
    assert {m.get("intent") for m in data.intent_examples} == {"ask_price"}


def test_adding_twice_keeps_one_example_and_download_is_audited(
    reviewer_client, messages, settings, console_url
):
    i = str(event_id(console_url, "pricey?"))
    for _ in range(2):
        reviewer_client.post(
            "/improve/add", data={"csrf_token": reviewer_client.csrf, "event_id": i, "intent": "ask_what_is"}
        )
    response = reviewer_client.get("/improve/files/ask_what_is.yml")
    assert response.status_code == 200 and response.headers["content-disposition"].startswith("attachment")
    assert response.text.count("- pricey?") == 1
    log = db.tables().audit_log
    with db.session(console_url) as s:
        actions = list(s.scalars(sa.select(log.c.action).order_by(log.c.id)))
    assert actions.count("improve.add") == 2 and "improve.download" in actions


def test_unknown_intents_and_bad_input_are_refused(reviewer_client, messages, settings, console_url):
    i = str(event_id(console_url, "pricey?"))
    for intent in ("not_in_domain", "../../etc/passwd", "nlu_fallback", ""):
        response = reviewer_client.post(
            "/improve/add", data={"csrf_token": reviewer_client.csrf, "event_id": i, "intent": intent}
        )
        assert "err=intent" in response.headers["location"], intent
    nothing = reviewer_client.post(
        "/improve/add", data={"csrf_token": reviewer_client.csrf, "intent": "ask_price"}
    )
    assert "err=nothing" in nothing.headers["location"]
    bot = reviewer_client.post(
        "/improve/add", data={"csrf_token": reviewer_client.csrf, "intent": "ask_price", "event_id": "999999"}
    )
    assert "err=nothing" in bot.headers["location"]
    assert (
        reviewer_client.post(
            "/improve/add", data={"csrf_token": reviewer_client.csrf, "intent": "ask_price", "event_id": "x"}
        ).status_code
        == 400
    )
    assert not settings.nlu_inbox.exists() or not any(settings.nlu_inbox.iterdir())
    assert reviewer_client.get("/improve/files/..%2Fsecret.yml").status_code == 404
    assert reviewer_client.get("/improve/files/ask_price.yml").status_code == 404


def test_intents_come_from_the_domain_file_else_from_conversations(
    console_url, domain_file, tmp_path, messages
):
    assert "book_consultation" in improve.known_intents(console_url, domain_file)
    assert "nlu_fallback" not in improve.known_intents(console_url, domain_file)
    mapping = tmp_path / "mapping.yml"
    mapping.write_text("intents:\n  - greet:\n      use_entities: []\n  - ask_price\n", encoding="utf-8")
    assert improve.known_intents(console_url, mapping) == ["ask_price", "greet"]
    seen = improve.known_intents(console_url, tmp_path / "missing.yml")
    assert {"ask_price", "ask_what_is"} <= set(seen) and "nlu_fallback" not in seen


def test_examples_are_made_safe_for_the_nlu_format(tmp_path):
    path, added = improve.add_examples(
        tmp_path,
        "ask_price",
        ["two\nlines", "[free](price) please", "tab\there", "", "   ", 'ok {"entity": "x"}', "- dash"],
    )
    assert added == 5
    examples = improve.read_examples(path)
    assert examples == ["two lines", "[free] (price) please", "tab here", 'ok {"entity": "x"}', "- dash"]
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert loaded["nlu"][0]["examples"].splitlines() == [f"- {e}" for e in examples]
    with pytest.raises(ValueError):
        improve.inbox_file(tmp_path, "../x")


def test_one_click_add_takes_only_that_message(reviewer_client, messages, settings, console_url):
    page = reviewer_client.get("/improve").text
    jabs, pricey = event_id(console_url, "how much for the jabs"), event_id(console_url, "pricey?")
    assert f'name="only" value="{jabs}"' in page and f'name="event_id" value="{pricey}"' in page
    assert re.search(r'<option value="ask_price" selected>', page)
    reviewer_client.post(
        "/improve/add",
        data={
            "csrf_token": reviewer_client.csrf,
            "intent": "ask_price",
            "only": str(jabs),
            "event_id": [str(pricey)],
        },
    )
    assert improve.read_examples(settings.nlu_inbox / "ask_price.yml") == ["how much for the jabs"]


@pytest.fixture
def answered(console_url):
    c = Convo(RECENT)
    c.turn("is it safe when pregnant", "ask_contraindications", "Tell the doctor.", confidence=0.93)
    c.turn("how many sessions", "ask_sessions", "The doctor decides.", confidence=0.88)
    c.turn("will it make my hair grow back", "ask_what_is", "Injections.", confidence=0.71)  # wrong
    c.turn("/affirm", "affirm", "Good.", confidence=1.0)  # a button, not typed
    c.turn("hmm pricey?", "ask_price", "Ask the clinic.", confidence=0.42)  # low confidence
    c.turn("blah", "nlu_fallback", "Sorry?", confidence=0.2)
    old = Convo(RECENT - 60 * 86400).turn("an old answered one", "ask_what_is", "Injections.", confidence=0.9)
    store(console_url, c, old)
    return c


def test_spot_check_samples_only_typed_answered_messages_of_the_period(reviewer_client, answered):
    page = reviewer_client.get("/improve?view=sample").text
    groups = dict(re.findall(r"Answered as [^<]* <code>(\w+)</code> <span class=\"muted\">\((\d+)\)", page))
    assert groups == {"ask_contraindications": "1", "ask_sessions": "1", "ask_what_is": "1"}
    assert "is it safe when pregnant" in page and "0.93" in page
    for absent in ("/affirm", "hmm pricey?", "blah", "an old answered one"):
        assert absent not in page
    assert "an old answered one" in reviewer_client.get("/improve?view=sample&days=90").text
    # the not-understood view is unchanged: only the low-confidence and fallback ones
    plain = reviewer_client.get("/improve").text
    assert "hmm pricey?" in plain and "blah" in plain and "is it safe when pregnant" not in plain


def test_spot_check_is_a_random_sample_of_at_most_the_sample_size(console_url, settings, answered):
    picks = set()
    for _ in range(30):
        groups = improve.spot_check(console_url, settings.nlu_inbox, RECENT - 60, size=1)
        assert sum(len(g.messages) for g in groups) == 1
        picks.add(groups[0].messages[0].text)
    assert picks == {"is it safe when pregnant", "how many sessions", "will it make my hair grow back"}


def test_a_wrong_answer_found_in_the_sample_is_added_under_the_right_intent(
    reviewer_client, answered, settings, console_url
):
    wrong = event_id(console_url, "will it make my hair grow back")
    response = reviewer_client.post(
        "/improve/add",
        data={"csrf_token": reviewer_client.csrf, "event_id": str(wrong), "intent": "ask_claim", "view": "sample"},
    )
    assert response.status_code == 303
    assert "view=sample" in response.headers["location"] and "msg=added" in response.headers["location"]
    content = yaml.safe_load((settings.nlu_inbox / "ask_claim.yml").read_text(encoding="utf-8"))
    assert content["nlu"] == [{"intent": "ask_claim", "examples": "- will it make my hair grow back\n"}]
    assert '<span class="badge ok">Added</span>' in reviewer_client.get("/improve?view=sample").text


@pytest.fixture
def unanswered(console_url):
    """Confident messages the routing policy or a rule took without answering, an answered
    one, and a fallback that the policy then clarified (Rasa's events, console_helpers)."""
    c = Convo(RECENT)
    policy_turn(c, "how long until DHI grafts settle", "ask_side_effects", "action_other_treatment", confidence=0.93)
    policy_turn(c, "how do I open a bank account", "ask_price", "utter_out_of_scope", confidence=0.91)
    c.turn("what is it exactly", "ask_what_is", "Injections.", confidence=0.97)
    policy_turn(c, "the needle thing", "nlu_fallback", "action_clarify", confidence=0.3)
    store(console_url, c)
    return c


def test_messages_taken_without_an_answer_are_listed_with_why(console_url, settings, unanswered):
    summary.refresh(console_url)
    groups = improve.not_understood(console_url, settings.nlu_inbox, RECENT - 60)
    listed = [(m.text, m.reason) for g in groups for m in g.messages]
    assert sorted(listed) == [
        ("how do I open a bank account", "utter_out_of_scope"),
        ("how long until DHI grafts settle", "action_other_treatment"),
        ("the needle thing", "nlu_fallback"),  # once, as the fallback it was
    ]
    by_text = {m.text: g.predicted for g in groups for m in g.messages}
    assert by_text["how long until DHI grafts settle"] == "ask_side_effects"


def test_the_page_shows_why_each_message_is_listed(reviewer_client, console_url, unanswered):
    page = reviewer_client.get("/improve").text
    for code, text in (
        ("action_other_treatment", "how long until DHI grafts settle"),
        ("utter_out_of_scope", "how do I open a bank account"),
        ("nlu_fallback", "the needle thing"),
    ):
        why = labels.not_understood_reason(code)
        assert why != labels.humanise(code), f"{code} has no label in console_labels.yml"
        row = re.search(rf'<tr>(?:(?!</tr>).)*?{re.escape(text)}(?:(?!</tr>).)*</tr>', page, re.S)
        assert row, text
        assert f'<td class="reason">{html.escape(why)}</td>' in row.group(0), code
        assert page.count(f'name="only" value="{event_id(console_url, text)}"') == 1
    assert "what is it exactly" not in page
    assert '<th scope="col">Why</th>' in page
    assert '<th scope="col">Why</th>' not in reviewer_client.get("/improve?view=sample").text


def test_the_spot_check_leaves_out_messages_taken_without_an_answer(console_url, settings, unanswered):
    groups = improve.spot_check(console_url, settings.nlu_inbox, RECENT - 60)
    assert [m.text for g in groups for m in g.messages] == ["what is it exactly"]
