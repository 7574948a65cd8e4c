"""components.ensemble: two classifiers' rankings averaged into one answer."""
import pytest
from rasa.shared.nlu.training_data.message import Message

from components.ensemble import KEPT, AverageRankings, RememberRanking, average


def _classified(message, ranking):
    message.set("intent", ranking[0], add_to_output=True)
    message.set("intent_ranking", ranking, add_to_output=True)


def _run(first, second, **config):
    message = Message(data={"text": "does it regrow hair"})
    _classified(message, first)
    RememberRanking().process([message])
    _classified(message, second)  # the second classifier overwrites the intent
    AverageRankings(config).process([message])
    return message


DIET = [{"name": "ask_indications", "confidence": 0.55}, {"name": "ask_claim", "confidence": 0.45}]
LOGREG = [{"name": "ask_claim", "confidence": 0.7}, {"name": "ask_indications", "confidence": 0.2},
          {"name": "ask_what_is", "confidence": 0.1}]


def test_the_average_decides_when_the_classifiers_disagree():
    message = _run(DIET, LOGREG)
    assert message.get("intent")["name"] == "ask_claim"
    assert message.get("intent")["confidence"] == pytest.approx(0.575)
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking] == ["ask_claim", "ask_indications", "ask_what_is"]
    assert ranking[2]["confidence"] == pytest.approx(0.05)  # missing from one ranking counts as 0
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_power_sharpens_the_confidences_without_changing_the_winner():
    plain = _run(DIET, LOGREG)
    sharp = _run(DIET, LOGREG, power=2)
    assert [r["name"] for r in sharp.get("intent_ranking")] == [r["name"] for r in plain.get("intent_ranking")]
    # 0.575^2 / (0.575^2 + 0.375^2 + 0.05^2)
    assert sharp.get("intent")["confidence"] == pytest.approx(0.575**2 / (0.575**2 + 0.375**2 + 0.05**2))
    assert sharp.get("intent")["confidence"] > plain.get("intent")["confidence"]
    assert sum(r["confidence"] for r in sharp.get("intent_ranking")) == pytest.approx(1.0)


def test_ties_are_broken_alphabetically_so_results_repeat():
    tie = average([[{"name": "b", "confidence": 0.5}, {"name": "a", "confidence": 0.5}]])
    assert [name for name, _ in tie] == ["a", "b"]


def test_power_must_be_positive():
    with pytest.raises(ValueError):
        AverageRankings({"power": 0})


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


def test_rasa_builds_the_steps_from_their_config():
    from components.safety_override import EmergencyOverride, LanguageGuard, NoWordsGuard

    built = AverageRankings.create({"power": 2, "ranking_length": 3}, None, None, None)
    assert (built.power, built.ranking_length) == (2.0, 3)
    assert AverageRankings.create({}, None, None, None).power == 1.0  # the default
    for step in (RememberRanking, EmergencyOverride, LanguageGuard, NoWordsGuard):
        assert isinstance(step.create({}, None, None, None), step)


def _trained_logistic_regression(tmp_path, cls=None, **config):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from components.ensemble import LogisticRegression

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    examples = [("what is mesotherapy", "ask_what_is"), ("explain mesotherapy", "ask_what_is"),
                ("how much does it cost", "ask_price"), ("what is the price", "ask_price")]
    data = TrainingData([Message(data={"text": t, "intent": i}) for t, i in examples])
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process_training_data(data)
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("cv"), context)
    featurizer.train(data)
    featurizer.process_training_data(data)
    cls = cls or LogisticRegression
    lr = cls.create({**cls.get_default_config(), "random_state": 42, **config}, storage, Resource("lr"), context)
    lr.train(data)
    lr.storage, lr.context = storage, context  # for the loading tests

    def featurized(text):
        message = Message(data={"text": text})
        tokenizer.process([message])
        featurizer.process([message])
        return message

    return lr, data, featurized


def test_logistic_regression_leaves_featureless_messages_and_training_labels_alone(tmp_path):
    lr, data, featurized = _trained_logistic_regression(tmp_path)
    labels = [m.get("intent") for m in data.training_examples]
    lr.process_training_data(data)
    assert [m.get("intent") for m in data.training_examples] == labels  # not overwritten

    empty, question = featurized(""), featurized("how much is the price")
    empty.set("intent", {"name": "greet", "confidence": 0.4})  # what an earlier classifier said
    lr.process([empty, question])
    assert empty.get("intent") == {"name": "greet", "confidence": 0.4}
    # Rasa's own class would have guessed an intent from the intercepts alone
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    LogisticRegressionClassifier.process(lr, [empty])
    assert empty.get("intent")["name"] != "greet"
    assert question.get("intent")["name"] == "ask_price"


def test_the_neural_network_learns_and_comes_back_from_the_model_file_unchanged(tmp_path):
    from rasa.engine.storage.resource import Resource

    from components.ensemble import NeuralNetwork

    net, data, featurized = _trained_logistic_regression(tmp_path, NeuralNetwork, epochs=200, hidden_layer_size=16)
    question = featurized("how much is the price")
    net.process([question])
    assert question.get("intent")["name"] == "ask_price"
    loaded = NeuralNetwork.load(NeuralNetwork.get_default_config(), net.storage, Resource("lr"), net.context)
    again = featurized("how much is the price")
    loaded.process([again])
    assert again.get("intent_ranking") == question.get("intent_ranking")
    # the optimiser's state is not stored (the loader would not trust its type)
    assert getattr(loaded.clf, "_optimizer", None) is None


def test_a_classifier_that_cannot_be_read_back_stops_the_start_up(tmp_path):
    """Rasa's own loader would hand back an untrained classifier that fails on the first message."""
    from rasa.engine.storage.resource import Resource

    from components.ensemble import LogisticRegression

    lr, _, _ = _trained_logistic_regression(tmp_path)
    with pytest.raises(ValueError, match="could not be loaded"):
        LogisticRegression.load(LogisticRegression.get_default_config(), lr.storage, Resource("nothing"), lr.context)


def test_a_message_no_classifier_could_read_gets_no_guess_for_the_fallback():
    """Both classifiers leave a message without features alone; the fallback after
    them needs an intent to compare with its threshold (it failed the whole turn)."""
    from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier

    message = Message(data={"text": "😢"})
    RememberRanking().process([message])
    AverageRankings({"power": 1.5}).process([message])
    assert message.get("intent") == {"name": None, "confidence": 0.0}
    fallback = FallbackClassifier(FallbackClassifier.get_default_config())
    fallback.process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
