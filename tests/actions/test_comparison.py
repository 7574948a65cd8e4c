"""Questions that weigh treatments against each other get both sides, not one side's
card (actions/comparison.py, signals.compared, knowledge.yml ``comparisons``)."""
from pathlib import Path

import pytest
import yaml

from actions import content
from actions.comparison import ActionCompareTreatments, comparison_reply, compared_sides
from actions.knowledge import citation_text
from components import routing_policy as rp
from contentfiles import comparison_sides
from tests.actions.helpers import run, slot_events, tracker
from tests.fixtures.terminology import parse  # and the session's ``analyser`` fixture

ROOT = Path(__file__).resolve().parents[2]


def sides_of(analyser, text):
    return compared_sides(parse(analyser, text)[0], text)


@pytest.mark.parametrize("text, sides", [
    ("is meso better than prp", ["mesotherapy", "prp"]),
    ("Mesotherapy vs PRP", ["mesotherapy", "prp"]),
    ("what's the difference between mesotherapy and PRP?", ["mesotherapy", "prp"]),
    ("Which one is better for me? PRP or Mesotherapy?", ["prp", "mesotherapy"]),
    ("which works faster meso or minoxidil", ["mesotherapy", "minoxidil"]),
    ("is prp more proven than meso", ["prp", "mesotherapy"]),
    ("can meso replace finasteride", ["mesotherapy", "finasteride"]),
    ("is it worth it compared to PRP?", ["mesotherapy", "prp"]),
    ("I used minoxidil for a year with no luck. Is mesotherapy better?", ["minoxidil", "mesotherapy"]),
    ("prp vs transplant", ["prp", "transplant"]),
    ("Should I start my pattern baldness treatment with minoxidil or finasteride?", ["minoxidil", "finasteride"]),
    ("laser cap vs meso", ["light_therapy", "mesotherapy"]),
    ("prp or meso for women thinning", ["prp", "mesotherapy"]),
])
def test_a_question_that_weighs_two_treatments_names_both_sides(analyser, text, sides):
    assert sides_of(analyser, text) == sides


@pytest.mark.parametrize("text", [
    "Is PRP or mesotherapy safe during pregnancy?",  # who can have them
    "which is cheaper prp or meso",  # the price
    "which hurts less, PRP or meso?",  # pain
    "can i do meso with finasteride",  # combining
    "Do I use minoxidil before or after a derma roller?",  # an order, not a choice
    "Should I keep using minoxidil or finasteride after my hair transplant?",  # the weeks after surgery
    "DHI vs FUE, which is better?",  # two kinds of transplant: the DHI answer says no study compared them
    "I'm on finasteride. What is mesotherapy?",  # two treatments, no comparison
    "is mesotherapy better for thinning hair",  # one side only
])
def test_other_questions_that_name_two_treatments_are_no_comparison(analyser, text):
    assert sides_of(analyser, text) == []


def test_the_policy_answers_a_comparison_with_both_sides_and_a_red_flag_first(analyser):
    def choose(text, intent="ask_alternatives"):
        entities, signals = parse(analyser, text)
        return rp.choose_action("action_listen", None, intent, 0.99, entities, signals, text, 0.8, 0.9, 0.6)

    assert choose("is mesotherapy better than PRP?") == rp.ACTION_COMPARE
    assert choose("Minoxidil vs mesotherapy", "ask_minoxidil") == rp.ACTION_COMPARE
    # a sign that needs care is answered first, whatever else is asked
    assert choose("pus and fever after my session, is PRP better than meso?") == "utter_complication"
    assert rp.ACTION_COMPARE in rp.OWN_ACTIONS  # the policy listens after it


def test_the_answer_gives_each_side_and_the_trial_that_compared_them(analyser):
    text = "is mesotherapy better than minoxidil?"
    entities, _ = parse(analyser, text)
    messages, events = run(ActionCompareTreatments(), tracker(text, "ask_alternatives", entities=entities))
    table = content.load("knowledge")["comparisons"]
    reply = messages[0]["text"]
    for side in ("mesotherapy", "minoxidil"):
        assert table["sides"][side]["name"] in reply and table["sides"][side]["in_short"] in reply
    trial = next(t for t in table["trials"] if set(t["sides"]) == {"mesotherapy", "minoxidil"})
    assert reply.startswith(trial["text"])
    assert "doctor" in reply
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert "Minoxidil" in titles and "Request a consultation" in titles
    assert slot_events(events) == {"last_answer": "comparison:mesotherapy+minoxidil"}
    # "what's your source?" after it: the trial and the evidence behind each line
    cited = citation_text("comparison:mesotherapy+minoxidil")
    for ref in trial["references"] + table["sides"]["minoxidil"]["references"]:
        assert content.sources()["references"][ref]["citation"] in cited


def test_a_side_the_sources_do_not_cover_is_said_to_be_beyond_them():
    reply, _ = comparison_reply(["mesotherapy", "exosomes"])
    # (review: "saw palmetto instead of finasteride?" got "no trial has compared them", a
    # gap in the sources told as a fact of research)
    assert reply.startswith(content.messages()["comparison_not_covered"]["text"])
    assert content.messages()["comparison_no_trial"]["text"].split("{")[0] not in reply
    assert "my sources do not cover it" in reply.split("\n")[2]
    assert content.load("knowledge")["comparisons"]["sides"]["mesotherapy"]["in_short"] in reply.split("\n")[1]


def test_a_story_of_ones_own_hair_loss_gets_the_questions_offered_after(analyser):
    text = "My hairline is receding and my dad is bald. Is PRP better than mesotherapy?"
    entities, _ = parse(analyser, text)
    messages, _ = run(ActionCompareTreatments(), tracker(text, "describe_hair_loss", entities=entities))
    assert messages[-1]["text"] == content.messages()["offer_triage"]["text"].strip()


def test_every_side_names_terminology_mentions_buttons_and_references_that_exist():
    table = content.load("knowledge")["comparisons"]
    terms = yaml.safe_load((ROOT / "data" / "content" / "terminology.yml").read_text(encoding="utf-8"))["entities"]
    refs = content.sources()["references"]
    for side, item in table["sides"].items():
        assert item["when"] and item["name"], side
        for mention in item["when"]:
            entity, _, value = mention.partition(":")
            assert value in terms[entity], (side, mention)
        if item.get("covered", True):
            assert item["in_short"] and item["references"], side
            content.buttons_for([item["button"]])  # raises on an unknown follow-up
        assert set(item.get("references") or []) <= set(refs), side
    for trial in table["trials"]:
        assert set(trial["sides"]) <= set(table["sides"]) and set(trial["references"]) <= set(refs)
    assert comparison_sides() == {s: i["when"] for s, i in table["sides"].items()}


def test_the_sentence_without_a_trial_uses_the_short_names():
    reply, _ = comparison_reply(["mesotherapy", "transplant"])
    assert reply.startswith("No trial has compared mesotherapy and a hair transplant directly.")
