"""Issue 15: every intent, action, slot and form name the console relies on exists in
the assistant's domain.yml, and every code it labels comes from the assistant's files.

Fails when the assistant renames something the console (its filters, charts, demo
data or tests) still uses.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

import contentfiles
from console import events as ev
from console import labels, overview, seeding
from records import vocabulary

RASA_BUILTIN_INTENTS = {"nlu_fallback"}
RASA_BUILTIN_ACTIONS = {"action_listen", "action_session_start", "action_restart", "action_default_fallback"}
RASA_BUILTIN_SLOTS = {"requested_slot"}
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def domain():
    return labels.domain()


def _names(domain):
    intents = set(domain["intents"]) | RASA_BUILTIN_INTENTS
    actions = (
        set(domain["actions"]) | set(domain.get("responses") or {}) | set(domain["forms"]) | RASA_BUILTIN_ACTIONS
    )
    slots = set(domain["slots"]) | RASA_BUILTIN_SLOTS
    return intents, actions, slots


def test_console_constants_are_in_the_domain(domain):
    intents, actions, slots = _names(domain)
    assert set(ev.EMERGENCY_ACTIONS) <= actions
    assert set(ev.NOT_ANSWERED_ACTIONS) <= actions and ev.ACTION_LISTEN in actions
    assert ev.FALLBACK_INTENT in intents
    assert overview.CLAIM_INTENT in intents
    assert overview.ANSWER_SLOT in slots
    assert labels.form_slots("screening_form") and labels.form_slots("triage_form")
    assert labels.form_slots("consultation_form")


def test_seeded_conversations_use_only_domain_names(domain):
    intents, actions, slots = _names(domain)
    rng = random.Random(7)
    seen = {"user": set(), "action": set(), "slot": set(), "active_loop": set()}
    for _ in range(400):
        for row in seeding.make_conversation(rng, 1_700_000_000.0).rows:
            if row["type_name"] == "user":
                seen["user"].add(row["intent_name"])
                for ranked in json.loads(row["data"])["parse_data"]["intent_ranking"]:
                    assert ranked["name"] in intents
            elif row["type_name"] in seen:
                seen[row["type_name"]].add(row["action_name"])
    assert seen["user"] - intents == set()
    assert seen["action"] - actions == set()
    assert seen["slot"] - slots == set()
    assert seen["active_loop"] - set(domain["forms"]) - {None} == set()
    # every flow and both kinds of escalation were generated
    assert {"action_screening_summary", "action_triage_outcome", "action_consultation_submit"} <= seen["action"]
    assert set(ev.EMERGENCY_ACTIONS) <= seen["action"]
    for form in domain["forms"]:
        assert set(labels.form_slots(form)) <= seen["slot"], form


@pytest.mark.parametrize(
    "name",
    [
        "test_console_inbox",
        "test_console_transcript",
        "test_console_overview",
        "test_console_summary",
        "test_console_followups",
        "test_console_home",
        "test_console_xss",
        "test_console_alerts",
        "test_browser",
        "console_helpers",
    ],
)
def test_console_tests_use_only_domain_names(domain, name):
    """The intents, actions and questionnaire slots the console's tests feed in are the assistant's."""
    intents, actions, slots = _names(domain)
    text = (HERE / f"{name}.py").read_text(encoding="utf-8")
    for intent in re.findall(r'\.turn\(\s*(?:f?"[^"]*"|\w+),\s*"(\w+)"', text):
        assert intent in intents, f"{name}: intent {intent!r} is not in domain.yml"
    for action in re.findall(r'"((?:action|utter)_[a-z_]+)"', text):
        assert action in actions, f"{name}: action {action!r} is not in domain.yml"
    for slot in re.findall(r'"((?:sc|tr|cs|cr)_[a-z_]+)"', text):
        assert slot in slots, f"{name}: slot {slot!r} is not in domain.yml"


def test_the_name_check_catches_an_invented_name(domain, tmp_path):
    """The check above is not vacuous: the names of issue 15 would fail it."""
    intents, actions, slots = _names(domain)
    for invented in ("start_screening", "request_consultation", "report_emergency"):
        assert invented not in intents
    assert "action_answer_claim" not in actions
    assert not {"sc_anticoagulants", "sc_autoimmune", "cr_consent"} & slots


def test_rasas_own_names_are_rasas():
    from rasa.shared.core.constants import DEFAULT_ACTION_NAMES

    assert RASA_BUILTIN_ACTIONS <= set(DEFAULT_ACTION_NAMES)


def test_the_actions_that_do_not_answer_are_the_policys_and_the_rules():
    """The routing policy's and the out-of-scope rule's non-answers, and the policies'
    core fallback (config.yml), are all in the console's set."""
    import yaml

    from components import routing_policy as rp

    config = yaml.safe_load((contentfiles.ROOT / "config.yml").read_text(encoding="utf-8"))
    rule = next(p for p in config["policies"] if p["name"] == "RulePolicy")
    expected = {rp.ACTION_CLARIFY, rp.ACTION_OTHER_TREATMENT, rp.UTTER_OUT_OF_SCOPE, rule["core_fallback_action_name"]}
    assert expected <= set(ev.NOT_ANSWERED_ACTIONS)


def test_every_record_code_has_a_plain_label():
    data = contentfiles.load(labels.LABELS_FILE)
    reasons = set(ev.NOT_ANSWERED_ACTIONS) | {ev.REASON_FALLBACK, ev.REASON_LOW_CONFIDENCE}
    assert reasons <= set(data["not_understood_reasons"])
    assert set(vocabulary.SCREENING_OUTCOMES) <= set(data["screening_outcomes"])
    assert set(vocabulary.TRIAGE_OUTCOMES) <= set(data["triage_outcomes"])
    assert set(vocabulary.SAFETY_KINDS) <= set(data["safety_kinds"])
    assert set(vocabulary.CONSULTATION_STATUSES) <= set(data["consultation_statuses"])
    assert set(vocabulary.SCREENING_ANSWERS) <= set(data["answers"])
    assert set(contentfiles.load("claims")["claims"]) <= set(data["claims"])
    for kind in vocabulary.CONSULTATION_KINDS:
        assert labels.consultation_kind(kind) != labels.humanise(kind), kind


def test_every_questionnaire_slot_has_its_question(domain):
    for form in domain["forms"]:
        for slot in labels.form_slots(form):
            assert labels.question(slot) != labels.humanise(slot), slot
            assert labels.question(slot).endswith("?") or slot == "cs_contact", slot


def test_labelled_intents_exist(domain):
    intents, _, _ = _names(domain)
    assert set(labels.topic_titles()) - intents == set()


def test_the_promised_contact_time_matches_the_message():
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    days = labels.followup_due_working_days()
    text = " ".join(contentfiles.load("messages")["messages"]["consult_confirm"]["text"].split())
    assert f"within {words.get(days, days)} working days" in text


def test_the_test_domain_is_a_part_of_the_real_one(domain):
    from tests.console.conftest import DOMAIN_INTENTS

    intents, _, _ = _names(domain)
    assert set(DOMAIN_INTENTS) <= intents
