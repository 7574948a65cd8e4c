"""The routing decides by named sets of topics and intents kept in code
(``components/routing_policy.py``, ``components/signals.py``, ``actions/triage.py``). A
topic renamed or removed in the terminology, or an intent in the domain, would leave a
set naming something that no longer exists, and the rule built on it would stop
firing without an error. These tests tie every set to the data it names."""
from pathlib import Path

import pytest
import yaml

from actions import triage
from components import routing_policy as rp
from components import signals as sig

ROOT = Path(__file__).resolve().parents[2]


def _terminology():
    return yaml.safe_load((ROOT / "data" / "content" / "terminology.yml").read_text(encoding="utf-8"))["entities"]


def _intents():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return set(domain["intents"]) | {"nlu_fallback"}


TOPIC_SETS = {
    "routing_policy.TREATMENT_TOPICS": rp.TREATMENT_TOPICS,
    "routing_policy.CAUSE_TOPICS": rp.CAUSE_TOPICS,
    "routing_policy.MESO_TOPICS": rp.MESO_TOPICS,
    "signals.WHO_CAN_HAVE_TOPICS": sig.WHO_CAN_HAVE_TOPICS,
    "signals.STORY_TOPICS": sig.STORY_TOPICS,
    "signals.SESSION_TOPICS": sig.SESSION_TOPICS,
    "signals.OTHER_TREATMENT_TOPICS": sig.OTHER_TREATMENT_TOPICS,
    "signals.SPECIFIC_CAUSE_TOPICS": sig.SPECIFIC_CAUSE_TOPICS,
    "signals.TREATMENT_NAMED_TOPICS": sig.TREATMENT_NAMED_TOPICS,
    "signals.COMPARISON_TOPICS": sig.COMPARISON_TOPICS,
    "triage.TRIGGER_TOPICS": triage.TRIGGER_TOPICS,
    "triage.DEFICIENCY_TOPICS": triage.DEFICIENCY_TOPICS,
}
INTENT_SETS = {
    "routing_policy.NOT_TOPIC_INTENTS": rp.NOT_TOPIC_INTENTS,
    "routing_policy.NOT_GUARDED_INTENTS": rp.NOT_GUARDED_INTENTS,
    "routing_policy.WEAKLY_GUARDED_INTENTS": rp.WEAKLY_GUARDED_INTENTS,
    "routing_policy.HIGH_STAKES_INTENTS": rp.HIGH_STAKES_INTENTS,
    "routing_policy.MESO_INTENTS": rp.MESO_INTENTS,
    "routing_policy.TREATMENT_FACT_INTENTS": rp.TREATMENT_FACT_INTENTS,
    "routing_policy.SMALL_TALK": rp.SMALL_TALK,
}


@pytest.mark.parametrize("name", sorted(TOPIC_SETS))
def test_every_topic_a_routing_set_names_is_in_the_terminology(name):
    topics = set(_terminology()["topic"])
    assert TOPIC_SETS[name] and not set(TOPIC_SETS[name]) - topics, (name, set(TOPIC_SETS[name]) - topics)


@pytest.mark.parametrize("name", sorted(INTENT_SETS))
def test_every_intent_a_routing_set_names_is_in_the_domain(name):
    assert INTENT_SETS[name] and not set(INTENT_SETS[name]) - _intents(), (name, set(INTENT_SETS[name]) - _intents())


def test_the_other_treatments_with_an_entry_are_treatment_topics():
    """A treatment topic that gives way to nothing would answer with mesotherapy's facts."""
    assert sig.OTHER_TREATMENT_TOPICS <= rp.TREATMENT_TOPICS
    assert not sig.SESSION_TOPICS & (rp.TREATMENT_TOPICS | rp.CAUSE_TOPICS)


def test_the_procedures_the_signals_name_are_in_the_terminology():
    assert sig.MESOTHERAPY in _terminology()["procedure"]
    assert sig.CRASH_DIET in _terminology()["topic"]
    assert sig.ITCHY_SCALP in _terminology()["hair_problem"]
    assert sig.SCALP_SYMPTOMS in _terminology()["red_flag"]
    assert sig.HAIR_LOSS_PROBLEMS <= set(_terminology()["hair_problem"])
