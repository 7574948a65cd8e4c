"""docs/contracts.md, "Adding a knowledge topic": the documented steps, followed on a
throwaway copy of data/content, give a topic that is recognised, routed and answered.

No retraining: the terminology pipeline is built from the copied file exactly as
DomainSpacyNLP builds it during training, and the actions read the copied content
through MESOGUIDE_CONTENT_DIR.
"""
import importlib
import shutil
from pathlib import Path

import yaml

from components.routing_policy import choose_action
from components.terminology import Analyser

ROOT = Path(__file__).resolve().parents[1]
ANSWER = "Wait until the injection points have healed before you wear a wig; ask the doctor when."


def _add_topic(content_dir: Path) -> None:
    knowledge_file = content_dir / "knowledge.yml"
    knowledge = yaml.safe_load(knowledge_file.read_text(encoding="utf-8"))
    a_reference = next(iter(yaml.safe_load((content_dir / "sources.yml").read_text())["references"]))
    knowledge["entries"]["wigs"] = {
        "when": ["topic:wigs"],
        "title": "Wearing a wig",
        "answer": ANSWER + "\n",
        "references": [a_reference],
        "follow_ups": ["aftercare"],
    }
    knowledge_file.write_text(yaml.safe_dump(knowledge, sort_keys=False), encoding="utf-8")
    terms_file = content_dir / "terminology.yml"
    terms = yaml.safe_load(terms_file.read_text(encoding="utf-8"))
    terms["entities"]["topic"]["wigs"] = ["wear a wig", "wearing a wig", "hairpiece"]
    terms_file.write_text(yaml.safe_dump(terms, sort_keys=False), encoding="utf-8")


def test_a_topic_added_as_documented_is_answered(tmp_path, monkeypatch):
    content_dir = tmp_path / "content"
    shutil.copytree(ROOT / "data" / "content", content_dir)
    _add_topic(content_dir)

    text = "can I wear a wig a week after mesotherapy?"
    analyser = Analyser.from_terminology_file(content_dir / "terminology.yml")
    doc = analyser.nlp(text)
    entities = [m.as_rasa_entity("DomainSpacyNLP") for m in analyser.mentions(text, doc=doc)]
    assert ("topic", "wigs") in [(e["entity"], e["value"]) for e in entities]
    signals = {"in_domain": analyser.in_domain(text, doc=doc), "injection_context": analyser.injection_context(text, doc=doc)}
    # whatever the classifier guessed, the topic answers
    assert choose_action("action_listen", None, "ask_side_effects", 0.9, entities, signals, text, 0.8, 0.6) == (
        "action_answer_topic"
    )

    monkeypatch.setenv("MESOGUIDE_CONTENT_DIR", str(content_dir))
    from actions import content

    importlib.reload(content)
    try:
        from actions.routing import ActionAnswerTopic
        from tests.actions.helpers import run, tracker

        messages, events = run(ActionAnswerTopic(), tracker(text, "ask_side_effects", confidence=0.5, entities=entities))
        assert messages[0]["text"] == ANSWER
        assert {"event": "slot", "name": "last_answer", "value": "knowledge:wigs"} in [
            {k: e.get(k) for k in ("event", "name", "value")} for e in events
        ]
        assert [b["title"] for b in messages[0]["buttons"]] == [content.entry_title("aftercare")]
    finally:
        monkeypatch.delenv("MESOGUIDE_CONTENT_DIR")
        importlib.reload(content)


# --- the lists a knowledge topic lives in agree ------------------------------------
# A knowledge answer is reached through several lists that nothing else keeps in
# step: the intents in domain.yml, the `or:` of the rule that sends them to
# action_answer_knowledge (data/rules/knowledge.yml), the entries of
# data/content/knowledge.yml, the "did you mean" titles (knowledge.yml titles, then
# routing.yml intent_titles) and the topic block of terminology.yml.


def _yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


DOMAIN = _yaml(ROOT / "domain.yml")
KNOWLEDGE = _yaml(ROOT / "data" / "content" / "knowledge.yml")
ROUTING = _yaml(ROOT / "data" / "content" / "routing.yml")
TERMINOLOGY = _yaml(ROOT / "data" / "content" / "terminology.yml")
CONTENT_INTENTS = [e["intent"] for e in KNOWLEDGE["entries"].values() if e.get("intent")]


def _knowledge_rule_intents():
    rules = _yaml(ROOT / "data" / "rules" / "knowledge.yml")["rules"]
    found = [
        [alt["intent"] for step in rule["steps"] if "or" in step for alt in step["or"]]
        for rule in rules
        if any(step.get("action") == "action_answer_knowledge" for step in rule["steps"])
    ]
    assert len(found) == 1, "one rule sends the knowledge intents to action_answer_knowledge"
    return found[0]


def test_each_knowledge_intent_leads_to_one_entry():
    duplicates = {i for i in CONTENT_INTENTS if CONTENT_INTENTS.count(i) > 1}
    assert not duplicates, f"two knowledge.yml entries share an intent (only the first would answer): {duplicates}"


def test_the_knowledge_rule_lists_exactly_the_intents_knowledge_yml_answers():
    rule = _knowledge_rule_intents()
    assert len(rule) == len(set(rule)), "an intent is listed twice in the rule's or:"
    assert not set(CONTENT_INTENTS) - set(rule), "knowledge.yml answers intents the rule never sends to it"
    assert not set(rule) - set(CONTENT_INTENTS), "the rule sends intents that knowledge.yml has no entry for"


def test_every_knowledge_intent_is_a_domain_intent():
    assert not set(CONTENT_INTENTS) - set(DOMAIN["intents"])


def test_every_question_intent_has_an_answer():
    """Every ask_* intent of the domain is answered from knowledge.yml or has its own rule."""
    rule_intents = set()
    for path in (ROOT / "data" / "rules").glob("*.yml"):
        for rule in _yaml(path).get("rules") or []:
            for step in rule["steps"]:
                rule_intents |= {alt["intent"] for alt in step.get("or", []) if "intent" in alt}
                if "intent" in step:
                    rule_intents.add(step["intent"])
    unanswered = [i for i in DOMAIN["intents"] if i.startswith("ask_") and i not in set(CONTENT_INTENTS) | rule_intents]
    assert not unanswered


def test_did_you_mean_titles_come_from_one_place_and_cover_every_offered_intent():
    routing_titles = ROUTING.get("intent_titles") or {}
    assert not set(routing_titles) - set(DOMAIN["intents"]), "routing.yml titles an intent the domain lacks"
    assert not set(routing_titles) & set(CONTENT_INTENTS), (
        "a knowledge intent's title belongs in knowledge.yml (title or button_titles), not routing.yml"
    )
    button_titles = KNOWLEDGE.get("button_titles") or {}
    untitled = [eid for eid, e in KNOWLEDGE["entries"].items() if e.get("intent") and not (e.get("title") or button_titles.get(eid))]
    assert not untitled, "knowledge entries with an intent need a title for 'did you mean'"
    not_offered = set(ROUTING.get("not_offered") or [])
    offered = [i for i in DOMAIN["intents"] if i not in not_offered]
    titled = set(routing_titles) | set(CONTENT_INTENTS)
    assert not [i for i in offered if i not in titled], "an intent that may be offered has no button title"
    assert not not_offered - set(DOMAIN["intents"]) - {"nlu_fallback"}


def test_terminology_topics_and_knowledge_triggers_agree():
    topics = set(TERMINOLOGY["entities"]["topic"])
    triggered = {
        w.split(":", 1)[1] for e in KNOWLEDGE["entries"].values() for w in e.get("when") or [] if w.startswith("topic:")
    }
    assert not topics - triggered, "a terminology topic no knowledge entry answers (it would get 'not understood')"
    assert not triggered - topics, "a knowledge entry waits for a topic terminology.yml never finds"
    untitled = [
        eid for eid, e in KNOWLEDGE["entries"].items()
        if any(w.startswith("topic:") for w in e.get("when") or [])
        and not (e.get("title") or (KNOWLEDGE.get("button_titles") or {}).get(eid))
    ]
    assert not untitled, "topic entries need a title (the 'which one did you mean?' button)"


# --- docs/contracts.md, "Adding a questionnaire question" ------------------------------

NEW_SLOT = "sc_anticoagulants"
QUESTION = "Do you take blood thinners, such as warfarin?"


def _add_question(content_dir: Path, domain: dict) -> None:
    """The documented steps 1 to 3, on a copy of the content and of the domain."""
    screening_file = content_dir / "screening.yml"
    screening = yaml.safe_load(screening_file.read_text(encoding="utf-8"))
    screening["items"][NEW_SLOT] = {
        "condition": "anticoagulants",
        "label": "blood thinners",
        "advice": "tell the doctor about blood thinners before any injection",
    }
    screening_file.write_text(yaml.safe_dump(screening, sort_keys=False), encoding="utf-8")
    messages_file = content_dir / "messages.yml"
    messages = yaml.safe_load(messages_file.read_text(encoding="utf-8"))
    messages["messages"][f"ask_{NEW_SLOT}"] = {"text": QUESTION, "buttons": messages["messages"]["ask_sc_tumour"]["buttons"]}
    messages_file.write_text(yaml.safe_dump(messages, sort_keys=False, allow_unicode=True), encoding="utf-8")
    domain["slots"][NEW_SLOT] = {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]}
    domain["forms"]["screening_form"]["required_slots"].append(NEW_SLOT)


def test_a_question_added_as_documented_is_asked_read_and_summarised(tmp_path, monkeypatch, sqlite_url):
    import asyncio
    import copy

    from rasa_sdk.executor import CollectingDispatcher

    from actions import content
    from actions.screening import ActionScreeningSummary, ValidateScreeningForm
    from tests.actions.helpers import answers, slot_events, texts, tracker

    content_dir = tmp_path / "content"
    shutil.copytree(ROOT / "data" / "content", content_dir)
    domain = copy.deepcopy(DOMAIN)
    _add_question(content_dir, domain)
    monkeypatch.setenv("MESOGUIDE_CONTENT_DIR", str(content_dir))

    def run(action, trk):
        dispatcher = CollectingDispatcher()
        return dispatcher.messages, asyncio.run(action.run(dispatcher, trk, domain))

    # the question is asked by the validation once the one before it is answered
    before = {s: "no" for s in content.screening_items() if s != NEW_SLOT}
    last = list(content.screening_items())[-2]
    messages, events = run(ValidateScreeningForm(), tracker(
        "no", "deny", slots={k: v for k, v in before.items() if k != last}, active_loop="screening_form",
        requested_slot=last))
    assert slot_events(events)["requested_slot"] == NEW_SLOT
    assert messages[-1]["text"] == QUESTION and [b["payload"] for b in messages[-1]["buttons"]][0] == "/affirm"

    form = dict(active_loop="screening_form", requested_slot=NEW_SLOT)
    _, events = run(ValidateScreeningForm(), tracker("yes", "affirm", **form))
    assert answers(events) == {NEW_SLOT: "yes"}

    answers = {s: "no" for s in content.screening_items()}
    answers[NEW_SLOT] = "yes"
    messages, events = run(ActionScreeningSummary(), tracker("/affirm", "affirm", slots=answers))
    assert "blood thinners" in texts(messages) and "Tell the doctor about blood thinners" in texts(messages)
    assert slot_events(events)["screening_outcome"] == "contraindication_reported"
    assert NEW_SLOT in slot_events(events) and slot_events(events)[NEW_SLOT] is None  # cleared for next time


# --- docs/contracts.md, "Question flows": the worked example holds -------------------

def test_the_worked_example_of_the_question_flows(sqlite_url):
    from actions import content
    from actions.triage import ActionTriageOutcome, ValidateTriageForm
    from tests.actions.helpers import answers, entity, run, slot_events, texts, tracker

    form = dict(active_loop="triage_form")
    # 1. activation: answers already given fill their slots
    _, events = run(ValidateTriageForm(), tracker("my hair is getting thin at the temples, my dad was the same",
                                                  "describe_hair_loss", **form))
    assert answers(events) == {"tr_pattern": "temples_crown", "tr_family": "yes"}
    known = {"tr_pattern": "temples_crown", "tr_family": "yes"}
    # 2. a question in between is answered; form_turns_kept keeps the form asking
    messages, events = run(ValidateTriageForm(), tracker("what's in the injections?", "ask_ingredients", 0.9,
                                                         slots=known, requested_slot="tr_onset", **form))
    assert messages[0]["text"] == content.knowledge_entries()["ingredients"]["answer"].strip()
    assert "tr_onset" not in slot_events(events) and slot_events(events)["form_turns_kept"] == 1.0
    # 3. the answer
    _, events = run(ValidateTriageForm(), tracker("gradually, over years", "inform", slots=known,
                                                  requested_slot="tr_onset", **form))
    assert slot_events(events)["tr_onset"] == "gradual"
    # 4. a red flag typed instead ends the triage with "see a doctor"
    messages, events = run(ValidateTriageForm(), tracker(
        "now there are round bald patches", "inform", slots=known, requested_slot="tr_onset",
        entities=[entity("red_flag", "patchy_loss")], signals={"in_domain": True, "injection_context": False}, **form))
    assert "doctor or dermatologist" in texts(messages) and slot_events(events)["flow_stopped"] == "red_flag"
    # 5. the outcome
    answers = dict(known, tr_onset="gradual", tr_patches="no", tr_scalp="no", tr_trigger="no", tr_deficiency="no")
    messages, events = run(ActionTriageOutcome(), tracker("/deny", "deny", slots=answers))
    assert "like those of people with androgenetic" in texts(messages) and content.fill_ins()["family_history"].strip(", ") in texts(messages)
    assert slot_events(events)["triage_outcome"] == "likely_aga" and slot_events(events)["tr_onset"] is None
