"""Every action the domain names is written out in the action code, and each flow's
questions agree with its form (docs/contracts.md, "Question flows"): searching the
code for an action name finds the class that runs it."""
import re
from pathlib import Path

import pytest
from rasa_sdk import Action

import actions  # noqa: F401  (registers every action module)
from actions import content, screening, triage
from actions.forms import GuidedFormValidation
from tests.actions.helpers import run, slot_events, texts, tracker
from tests.actions.helpers import DOMAIN

ROOT = Path(__file__).resolve().parents[2]
CODE = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "actions").glob("*.py")))
CUSTOM = [a for a in DOMAIN["actions"] if a.startswith(("action_", "validate_"))]


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _served():
    """Action name -> class, as the action server finds them (concrete Action subclasses)."""
    served = {}
    for cls in _all_subclasses(Action):
        if cls.__module__.startswith("actions.") and not getattr(cls, "__abstractmethods__", None):
            served[cls().name()] = cls
    return served


@pytest.mark.parametrize("name", CUSTOM)
def test_each_domain_action_is_written_out_in_the_code(name):
    assert re.search(rf"[\"']{re.escape(name)}[\"']", CODE), f"search actions/ for {name!r}: not found literally"


@pytest.mark.parametrize("name", CUSTOM)
def test_each_domain_action_is_served(name):
    assert name in _served(), f"no action class answers to {name!r}"


def test_the_server_serves_nothing_the_domain_lacks():
    assert not set(_served()) - set(DOMAIN["actions"])


@pytest.mark.parametrize("form", ["screening_form", "triage_form", "consultation_form"])
def test_every_question_of_a_form_has_its_text_and_nothing_else_asks_it(form):
    """The validation action asks each question (``ask_next``): the domain must have no
    ``action_ask_<slot>`` or ``utter_ask_<slot>``, or Rasa would ask a second time."""
    for slot in DOMAIN["forms"][form]["required_slots"]:
        assert f"ask_{slot}" in content.messages(), f"messages.yml has no ask_{slot}"
        for other in (f"action_ask_{slot}", f"action_ask_{form}_{slot}", f"utter_ask_{slot}", f"utter_ask_{form}_{slot}"):
            assert other not in DOMAIN["actions"] and other not in (DOMAIN.get("responses") or {}), other


def test_screening_questions_follow_screening_yml():
    assert DOMAIN["forms"]["screening_form"]["required_slots"] == list(content.screening_items())


def test_validation_actions_are_named_after_their_form():
    for cls in _all_subclasses(GuidedFormValidation):
        action = cls()
        assert action.name() == f"validate_{action.form_name}"


def test_the_validation_asks_the_next_empty_question_once_per_turn():
    """One call per form turn: the answer is read and the next question asked, as Rasa
    would pick it (the first required slot still empty)."""
    form = dict(active_loop="triage_form", requested_slot="tr_onset")
    known = {"tr_pattern": "temples_crown", "tr_family": "yes"}
    messages, events = run(triage.ValidateTriageForm(), tracker("gradually, over years", "inform", slots=known, **form))
    assert slot_events(events)["tr_onset"] == "gradual"
    assert slot_events(events)["requested_slot"] == "tr_patches"
    assert texts(messages).endswith(content.messages()["ask_tr_patches"]["text"].strip())
    assert [b["payload"] for b in messages[-1]["buttons"]] == [
        b["payload"] for b in content.messages()["ask_tr_patches"]["buttons"]]
    # the side question answered in between: the same question asked again after it
    messages, events = run(triage.ValidateTriageForm(), tracker("what's in the injections?", "ask_ingredients", 0.9,
                                                                slots=known, **form))
    assert messages[0]["text"] == content.knowledge_entries()["ingredients"]["answer"].strip()
    assert messages[-1]["text"] == content.messages()["ask_tr_onset"]["text"].strip()
    assert slot_events(events)["requested_slot"] == "tr_onset"


def test_nothing_is_asked_when_the_turn_ends_the_flow_or_fills_the_last_slot():
    form = dict(active_loop="triage_form", requested_slot="tr_onset")
    messages, events = run(triage.ValidateTriageForm(), tracker("stop", "stop", slots={"tr_pattern": "diffuse"}, **form))
    assert slot_events(events)["requested_slot"] is None
    asked = [content.messages()[f"ask_{s}"]["text"].strip() for s in DOMAIN["forms"]["triage_form"]["required_slots"]]
    assert not any(m.get("text") in asked for m in messages)
    last = DOMAIN["forms"]["screening_form"]["required_slots"][-1]
    answered = {s: "no" for s in DOMAIN["forms"]["screening_form"]["required_slots"] if s != last}
    messages, events = run(screening.ValidateScreeningForm(), tracker(
        "no", "deny", slots=answered, active_loop="screening_form", requested_slot=last))
    assert slot_events(events)[last] == "no" and "requested_slot" not in slot_events(events)
    assert messages == []
