"""What the actions say and the words they read come from the content files (one
source each): a clinic's edit to a temporary copy of data/content changes the
behaviour with no Python change. Also the shared contact rules
(contentfiles/patterns.py) and the records' vocabularies the actions name."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from actions import common, content
from actions.consultation import ActionConsultationSubmit, kind_from, parse_time
from actions.screening import ActionScreeningIntro
from actions.triage import ActionTriageOutcome, ValidateTriageForm
from contentfiles.patterns import is_email, is_phone_digits
from records import vocabulary
from tests.actions.helpers import run, slot_events, texts, tracker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def content_copy(tmp_path, monkeypatch):
    """A copy of data/content the actions read instead (MESOGUIDE_CONTENT_DIR); edit
    it with ``edit(name, fn)``."""
    directory = tmp_path / "content"
    shutil.copytree(ROOT / "data" / "content", directory)
    monkeypatch.setenv("MESOGUIDE_CONTENT_DIR", str(directory))

    def edit(name, change):
        path = directory / f"{name}.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")

    return edit


def _form(validation, form, text, requested, intent="inform", slots=None):
    return run(validation, tracker(text, intent, slots=slots, active_loop=form, requested_slot=requested))


# --- word lists ------------------------------------------------------------------

def test_stop_words_come_from_messages_yml(content_copy):
    _, events = _form(ValidateTriageForm(), "triage_form", "halt", "tr_onset")
    assert slot_events(events).get("flow_stopped") is None
    content_copy("messages", lambda d: d["stop_words"].append("halt"))
    _, events = _form(ValidateTriageForm(), "triage_form", "halt", "tr_onset")
    assert slot_events(events)["flow_stopped"] == "stopped"


def test_triage_negation_uses_the_terminology_cues(content_copy):
    # "without" is a negation cue of terminology.yml, not of the old list in the code.
    _, events = run(ValidateTriageForm(), tracker("thinning on top, without anyone in my family having it", "describe_hair_loss"))
    assert "tr_family" not in slot_events(events)
    _, events = run(ValidateTriageForm(), tracker("nobody in my family is bald", "describe_hair_loss"))
    assert "tr_family" not in slot_events(events)
    _, events = run(ValidateTriageForm(), tracker("my dad went bald the same way", "describe_hair_loss"))
    assert slot_events(events)["tr_family"] == "yes"
    content_copy("terminology", lambda d: d["negation"].__setitem__(
        "before", [w for w in d["negation"]["before"] if w != "nobody"]))
    _, events = run(ValidateTriageForm(), tracker("nobody in my family is bald", "describe_hair_loss"))
    assert slot_events(events)["tr_family"] == "yes", "'nobody' is read from terminology.yml"


@pytest.mark.parametrize(
    "text,kind",
    [("a FUE please", "transplant"), ("strip surgery", "transplant"), ("the injections", "mesotherapy"),
     ("meso", "mesotherapy"), ("no idea", "general"), ("either is fine", "general"), ("hmm", None),
     ("can I book for maybe Friday?", None)],
)
def test_consultation_kinds_from_typed_words(text, kind):
    assert kind_from(text, []) == kind


def test_consultation_words_come_from_the_content(content_copy):
    assert parse_time("weekends") == "weekends"  # kept as typed
    content_copy("messages", lambda d: d["messages"]["ask_cs_time"]["answers"].update({"any time": ["weekends"]}))
    assert parse_time("weekends") == "any time"
    assert kind_from("a graft", []) is None
    content_copy("messages", lambda d: d["messages"]["ask_cs_kind"]["answers"]["transplant"].append("graft"))
    assert kind_from("a graft", []) == "transplant"


# --- wording ---------------------------------------------------------------------

def test_triage_reasons_and_family_words_come_from_messages_yml(content_copy, sqlite_url):
    answers = {"tr_pattern": "temples_crown", "tr_onset": "gradual", "tr_patches": "no", "tr_scalp": "no",
               "tr_trigger": "no", "tr_deficiency": "no", "tr_family": "yes"}
    messages, _ = run(ActionTriageOutcome(), tracker("/affirm", "affirm", slots=answers))
    assert content.fill_ins()["family_history"].strip(", ") in texts(messages)

    def edit(d):
        d["fill_ins"]["triage_reasons"]["sudden_onset"] = "HAIR LOSS THAT STARTED FAST"
        d["fill_ins"]["family_history"] = ", LIKE YOUR PARENTS"
    content_copy("messages", edit)
    messages, _ = run(ActionTriageOutcome(), tracker("/affirm", "affirm", slots=answers))
    assert "LIKE YOUR PARENTS" in texts(messages)
    messages, _ = run(ActionTriageOutcome(), tracker("/affirm", "affirm", slots=dict(answers, tr_onset="sudden")))
    assert "HAIR LOSS THAT STARTED FAST" in texts(messages)


def test_question_count_words_come_from_messages_yml(content_copy):
    content_copy("messages", lambda d: d["fill_ins"]["question_count"].update({"many": "{n} QUICK QUESTIONS"}))
    messages, _ = run(ActionScreeningIntro(), tracker("/check_eligibility", "check_eligibility"))
    assert f"{len(content.screening_items())} QUICK QUESTIONS" in texts(messages)


def test_consultation_kind_words_and_default_time_come_from_messages_yml(content_copy, sqlite_url):
    def edit(d):
        d["fill_ins"]["consultation_kinds"]["general"] = "GENERAL HAIR"
        d["messages"]["ask_cs_time"]["default"] = "WHENEVER SUITS"
    content_copy("messages", edit)
    slots = {"cs_kind": "general", "cs_consent": "yes", "cs_name": "Anna", "cs_contact": "anna@example.com"}
    messages, _ = run(ActionConsultationSubmit(), tracker("anna@example.com", "inform", slots=slots))
    assert "GENERAL HAIR consultation" in texts(messages) and "WHENEVER SUITS" in texts(messages)


def test_the_claim_button_title_comes_from_knowledge_yml(content_copy):
    content_copy("knowledge", lambda d: d.__setitem__("claim_button_title", "PROVEN?"))
    assert content.buttons_for(["claim:general_efficacy"])[0]["title"] == "PROVEN?"


def test_lists_are_joined_with_the_word_of_messages_yml(content_copy):
    assert common.join_words(["a", "b", "c"]) == "a, b and c"
    content_copy("messages", lambda d: d["fill_ins"].update({"and": " & "}))
    assert common.join_words(["a", "b"]) == "a & b" and common.join_words(["a"]) == "a" and common.join_words([]) == ""


# --- contact rules -----------------------------------------------------------------

@pytest.mark.parametrize(
    "text,ok",
    [("anna@example.com", True), ("tom.o'neil+x@mail.co.uk", True), ("anna@example", False),
     ("anna@-example.com", False), ("anna@example.c0m", False), ("an na@example.com", False), ("", False), (None, False)],
)
def test_email_rule(text, ok):
    assert is_email(text) is ok


@pytest.mark.parametrize(
    "digits,ok",
    [("+447700900123", True), ("7946000", True), ("794600", False), ("1" * 15, True), ("1" * 16, False),
     ("+44 7700", False), ("", False)],
)
def test_phone_rule(digits, ok):
    assert is_phone_digits(digits) is ok


def test_the_patterns_module_loads_without_rasa_sdk_or_the_actions():
    code = ("import sys, contentfiles.patterns; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('rasa_sdk', 'rasa', 'actions', 'records')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_contact_patterns_are_written_once_in_the_patterns_module():
    """The redaction scans with the patterns of contentfiles/patterns.py; it compiles
    none of its own for contact details (only the digit normaliser's ``\\d``)."""
    from contentfiles import patterns
    from records import redaction

    for name, pattern in redaction.PATTERNS.items():
        assert getattr(patterns, name) is pattern, name
    source = (ROOT / "records" / "redaction.py").read_text()
    compiled = re.findall(r"re\.compile\((r?\"[^\"]*\")", source)
    assert compiled == ['r"\\d"'], compiled
    assert redaction.MIN_DIGITS == patterns.MIN_PHONE_DIGITS and redaction.MAX_DIGITS == patterns.MAX_PHONE_DIGITS


# --- the records' vocabularies -------------------------------------------------------

def test_the_names_the_actions_use_are_the_records_vocabulary():
    assert {common.YES, common.NO, common.UNSURE} == set(vocabulary.SCREENING_ANSWERS)
    assert {common.NONE_REPORTED, common.CONTRAINDICATION_REPORTED, common.DOCTOR_CHECK} == set(vocabulary.SCREENING_OUTCOMES)
    assert {common.LIKELY_AGA, common.RED_FLAG, common.SEE_DOCTOR, common.UNCLEAR} == set(vocabulary.TRIAGE_OUTCOMES)
    assert {common.TRANSPLANT, common.MESOTHERAPY, common.GENERAL} == set(vocabulary.CONSULTATION_KINDS)
    assert {common.EMERGENCY_EVENT, common.COMPLICATION_EVENT, common.RED_FLAG_EVENT, common.ADVICE_DECLINED_EVENT,
            common.HANDOFF_EVENT} == set(vocabulary.SAFETY_KINDS)


def test_no_action_module_types_a_record_outcome_out():
    words = set(vocabulary.SCREENING_OUTCOMES) | set(vocabulary.TRIAGE_OUTCOMES) | set(vocabulary.SAFETY_KINDS)
    # also the names of intents, entities, flow_stopped values and responses (utter_complication)
    words -= {"emergency", "red_flag", "human_handoff", "complication"}
    for path in sorted((ROOT / "actions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        typed = [w for w in words if f'"{w}"' in source]
        assert not typed, f"{path.name} types {typed}: use the names of records/vocabulary.py"
