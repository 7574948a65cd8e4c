"""Every action the domain names is written out in the action code, and the
question actions of each flow agree with its form (docs/contracts.md, "Question
flows"): searching the code for an action name finds the class that runs it."""
import re
from pathlib import Path

import pytest
from rasa_sdk import Action

import actions  # noqa: F401  (registers every action module)
from actions import consultation, content, screening, triage
from actions.forms import ASK_PREFIX, AskQuestion, GuidedFormValidation, question_actions
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


@pytest.mark.parametrize(
    "module,form",
    [(screening, "screening_form"), (triage, "triage_form"), (consultation, "consultation_form")],
)
def test_question_actions_agree_with_the_form(module, form):
    assert list(module.QUESTIONS) == DOMAIN["forms"][form]["required_slots"]
    for slot in module.QUESTIONS:
        assert f"ask_{slot}" in content.messages(), f"messages.yml has no ask_{slot}"


def test_screening_questions_follow_screening_yml():
    assert list(screening.QUESTIONS) == list(content.screening_items())


def test_validation_actions_are_named_after_their_form():
    for cls in _all_subclasses(GuidedFormValidation):
        action = cls()
        assert action.name() == f"validate_{action.form_name}"


def test_question_actions_are_asked_by_their_full_name():
    ask = triage.QUESTIONS["tr_onset"]
    assert issubclass(ask, AskQuestion) and ask().name() == f"{ASK_PREFIX}tr_onset"
    with pytest.raises(ValueError):
        question_actions("tr_onset")  # a slot alone is not an action name
