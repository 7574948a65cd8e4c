"""components.ensemble: two classifiers' rankings averaged into one answer."""
import pytest
from rasa.shared.nlu.training_data.message import Message

from components.ensemble import KEPT, AverageRankings, RememberRanking


def _classified(message, ranking):
    message.set("intent", ranking[0], add_to_output=True)
    message.set("intent_ranking", ranking, add_to_output=True)


def _run(first, second, ranking_length=10):
    message = Message(data={"text": "does it regrow hair"})
    _classified(message, first)
    RememberRanking().process([message])
    _classified(message, second)  # the second classifier overwrites the intent
    AverageRankings({"ranking_length": ranking_length}).process([message])
    return message


def test_the_average_decides_when_the_classifiers_disagree():
    diet = [{"name": "ask_indications", "confidence": 0.55}, {"name": "ask_claim", "confidence": 0.45}]
    logreg = [{"name": "ask_claim", "confidence": 0.7}, {"name": "ask_indications", "confidence": 0.2},
              {"name": "ask_what_is", "confidence": 0.1}]
    message = _run(diet, logreg)
    assert message.get("intent")["name"] == "ask_claim"
    assert message.get("intent")["confidence"] == pytest.approx(0.575)
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking] == ["ask_claim", "ask_indications", "ask_what_is"]
    assert ranking[2]["confidence"] == pytest.approx(0.05)  # missing from one ranking counts as 0
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_ranking_is_truncated_and_kept_rankings_stay_out_of_the_output():
    first = [{"name": f"i{n}", "confidence": 0.1} for n in range(10)]
    message = _run(first, list(reversed(first)), ranking_length=3)
    assert len(message.get("intent_ranking")) == 3
    assert KEPT not in message.as_dict(only_output_properties=True)  # not in the parse result


def test_a_single_ranking_is_left_alone():
    message = Message(data={"text": "hi"})
    _classified(message, [{"name": "greet", "confidence": 0.9}])
    AverageRankings({}).process([message])
    assert message.get("intent") == {"name": "greet", "confidence": 0.9}
