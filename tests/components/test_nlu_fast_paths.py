"""The NLU's shortcuts give exactly what the longer way gave (issue 14).

Each shortcut in ``components/`` is checked here against the code it replaces, on
the same inputs, for equality of every number (not closeness).
"""
import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer import LexicalSyntacticFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.ensemble import LogisticRegression, NeuralNetwork, has_features, sentence_row

EXAMPLES = [
    ("what is mesotherapy", "ask_what_is"), ("explain mesotherapy to me", "ask_what_is"),
    ("what's meso", "ask_what_is"), ("tell me about hair mesotherapy", "ask_what_is"),
    ("how much does it cost", "ask_price"), ("what is the price", "ask_price"),
    ("price of a session?", "ask_price"), ("is it expensive", "ask_price"),
    ("does it hurt", "ask_pain"), ("is mesotherapy painful", "ask_pain"),
    ("will the needles hurt", "ask_pain"), ("how painful is a session", "ask_pain"),
]
TEXTS = [
    "how much is the price", "price price price price", "does meso hurt a lot?", "what",
    "mesotherapy", "tell me the cost of the needles and whether it is painful",
    "zzz qqq", "", "!!!", "Is It EXPENSIVE", "hair hair hair mesotherapy explain",
]


def _add_floats(message):
    """A float64 sentence feature after the int64 ones, as WordClusterFeaturizer adds."""
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features

    n = len(message.get("text_tokens") or [])
    seq = scipy.sparse.coo_matrix(np.ones((n, 3)) * [1.0, 0.0, 2.0])
    message.add_features(Features(seq, "sequence", "text", "floats"))
    message.add_features(Features(scipy.sparse.coo_matrix(seq.sum(axis=0)), "sentence", "text", "floats"))
    return message


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """A tokenizer, a lexical featurizer (sequence features only), word and char
    count vectors (int64) and a float sentence featurizer, like config.yml."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    context = ExecutionContext(GraphSchema({}), "test")
    data = TrainingData([Message(data={"text": t, "intent": i}) for t, i in EXAMPLES])
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    lexical = LexicalSyntacticFeaturizer.create(
        LexicalSyntacticFeaturizer.get_default_config(), storage, Resource("lex"), context)
    words = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "ngram_range": (1, 2)}, storage, Resource("cv1"), context)
    chars = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
        storage, Resource("cv2"), context)
    tokenizer.process_training_data(data)
    for step in (lexical, words, chars):
        step.train(data)
        step.process_training_data(data)

    for message in data.training_examples:
        _add_floats(message)

    def featurized(text):
        message = Message(data={"text": text})
        tokenizer.process([message])
        for step in (lexical, words, chars):
            step.process([message])
        return _add_floats(message)

    return storage, context, data, featurized


def _same_matrix(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype
    a, b = a.tocsr(), b.tocsr()
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)  # same columns, same order
    np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize("text", TEXTS)
def test_a_message_row_is_the_row_rasa_builds(pipeline, text):
    *_, featurized = pipeline
    message = featurized(text)
    rasa_x = LogisticRegressionClassifier._create_X(None, [featurized(text)])
    row = sentence_row(message)
    assert row is not None
    _same_matrix(row, rasa_x)
    assert bool(row.shape[1] and np.count_nonzero(row.data)) == has_features(featurized(text))


def test_the_kept_row_is_only_reused_for_the_same_features(pipeline):
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features

    *_, featurized = pipeline
    message = featurized("how much is the price")
    first = sentence_row(message)
    assert sentence_row(message) is first
    message.add_features(Features(scipy.sparse.coo_matrix(np.array([[0.0, 3.0]])), "sentence", "text", "more"))
    again = sentence_row(message)
    assert again is not first and again.shape[1] == first.shape[1] + 2
    _same_matrix(again, LogisticRegressionClassifier._create_X(None, [message]))
    other = featurized("how much is the price")
    assert sentence_row(other) is not again


def test_columns_out_of_order_or_repeated_are_sorted_and_summed_as_rasa_does(pipeline):
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features

    message = Message(data={"text": "x"})
    coo = scipy.sparse.coo_matrix((np.array([1, 2, 3, 4]), (np.zeros(4, int), np.array([5, 1, 5, 0]))), shape=(1, 7))
    message.add_features(Features(coo, "sentence", "text", "a"))
    message.add_features(Features(scipy.sparse.coo_matrix(np.array([[0.5, 0.0, 1.5]])), "sentence", "text", "b"))
    _same_matrix(sentence_row(message), LogisticRegressionClassifier._create_X(None, [message]))


def test_several_messages_stack_as_rasa_stacks_them(pipeline):
    storage, context, data, featurized = pipeline
    lr = LogisticRegression.create(LogisticRegression.get_default_config(), storage, Resource("x"), context)
    messages = [featurized(t) for t in TEXTS]
    _same_matrix(lr._create_X(messages), LogisticRegressionClassifier._create_X(lr, messages))


def test_messages_with_dense_features_take_rasa_s_own_way(pipeline):
    from rasa.shared.nlu.training_data.features import Features

    *_, featurized = pipeline
    message = featurized("how much is the price")
    message.add_features(Features(np.array([[0.5, 0.25]]), "sentence", "text", "dense"))
    assert sentence_row(message) is None
    assert sentence_row(Message(data={"text": "nothing featurized"})) is None


def _rasa_process(component, messages):
    """Rasa's own process, with Rasa's own way of building the features."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(component), "_create_X", LogisticRegressionClassifier._create_X)
        LogisticRegressionClassifier.process(component, messages)


@pytest.mark.parametrize("cls", [LogisticRegression, NeuralNetwork])
def test_the_classifiers_rank_exactly_as_rasa_s_process_did(pipeline, cls):
    """The same intents, confidences (to the last bit) and order as Rasa's process on
    the messages that have features, also after loading (coef_ kept in Fortran order)."""
    storage, context, data, featurized = pipeline
    config = {**cls.get_default_config(), "random_state": 42}
    if cls is NeuralNetwork:
        config.update(epochs=50, hidden_layer_size=16)
    resource = Resource(f"clf_{cls.__name__}")
    trained = cls.create(config, storage, resource, context)
    trained.train(data)
    loaded = cls.load(config, storage, resource, context)
    if cls is LogisticRegression:
        assert loaded.clf.coef_.flags["F_CONTIGUOUS"]
        np.testing.assert_array_equal(loaded.clf.coef_, trained.clf.coef_)
    for component in (trained, loaded):
        ours = [featurized(t) for t in TEXTS]
        component.process(ours)
        theirs = [featurized(t) for t in TEXTS]
        _rasa_process(component, [m for m in theirs if has_features(m)])
        for a, b in zip(ours, theirs):
            assert a.get("intent") == b.get("intent")
            assert a.get("intent_ranking") == b.get("intent_ranking")
            for x, y in zip(a.get("intent_ranking") or [], b.get("intent_ranking") or []):
                assert type(x["confidence"]) is type(y["confidence"]) and type(x["name"]) is type(y["name"])
        # and one message at a time, as in a conversation (a batch may round differently)
        for text in TEXTS:
            ours, theirs = featurized(text), featurized(text)
            component.process([ours])
            if has_features(theirs):
                _rasa_process(component, [theirs])
            assert ours.get("intent") == theirs.get("intent")
            assert ours.get("intent_ranking") == theirs.get("intent_ranking")


def test_the_fortran_ordered_coefficients_give_the_same_numbers(pipeline):
    """The loaded logistic regression (coef_ in Fortran order) against the one just
    trained (C order): the same probabilities to the last bit, message by message."""
    storage, context, data, featurized = pipeline
    config = {**LogisticRegression.get_default_config(), "random_state": 42}
    trained = LogisticRegression.create(config, storage, Resource("lr_order"), context)
    trained.train(data)
    loaded = LogisticRegression.load(config, storage, Resource("lr_order"), context)
    assert not trained.clf.coef_.flags["F_CONTIGUOUS"] and loaded.clf.coef_.flags["F_CONTIGUOUS"]
    for text in TEXTS:
        message = featurized(text)
        if has_features(message):
            X = sentence_row(message)
            np.testing.assert_array_equal(trained.clf.predict_proba(X), loaded.clf.predict_proba(X))


def _nlu_examples():
    import re
    from pathlib import Path

    import yaml

    texts = []
    for path in sorted((Path(__file__).resolve().parents[2] / "data" / "nlu").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in (item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    texts.append(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:]))
    return texts


@pytest.fixture(scope="module")
def analyser():
    from pathlib import Path

    from components.terminology import Analyser

    return Analyser.from_terminology_file(Path(__file__).resolve().parents[2] / "data" / "content" / "terminology.yml")


def test_the_overlay_matcher_on_the_allowed_patterns_finds_what_the_full_one_finds(analyser):
    """Every training example, and texts stringing several topics' words together:
    the same (key, start, end) matches in the same order as the full matcher."""
    fast = analyser._overlay_fast
    assert fast._usable and len(fast._patterns) > 100
    texts = _nlu_examples()
    assert len(texts) > 1000
    words = sorted({value for _attr, value in fast._by_value})
    import random

    rnd = random.Random(7)
    texts += [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 12))) for _ in range(400)]
    texts += ["", "   ", "how long ... results last", "PCOS, thyroid, iron and minoxidil? finasteride!"]
    matched = 0
    for text in texts:
        doc = analyser.nlp(text)
        found = analyser.overlay_matches(doc)
        assert found == analyser.overlay(doc), text
        matched += len(found) > 1
    assert matched > 100  # texts with several matches, whose order counts
    # and again from the cache of matchers
    for text in texts[:300]:
        doc = analyser.nlp(text)
        assert analyser.overlay_matches(doc) == analyser.overlay(doc), text


def test_a_pattern_s_required_words():
    from components.terminology import _required_values

    pattern = [{"LOWER": {"IN": ["result", "results"]}}, {"IS_PUNCT": False, "OP": "?"},
               {"LOWER": "last"}, {"LOWER": {"IN": ["x"]}, "OP": "*"}, {"LOWER": {"NOT_IN": ["y"]}}]
    assert _required_values(pattern) == (
        frozenset({("LOWER", "result"), ("LOWER", "results")}), frozenset({("LOWER", "last")}))


def _word_cluster_features_the_old_way(featurizer, message):
    """components/word_clusters.py before the shortcut: class names per token, looked up
    one by one, and the sentence row from ``sequence.sum(axis=0)``."""
    import scipy.sparse

    tokens = message.get("text_tokens")
    rows, cols = [], []
    for row, token in enumerate(tokens):
        for name in featurizer._token_classes(token):
            col = featurizer.vocabulary.get(name)
            if col is not None:
                rows.append(row)
                cols.append(col)
    shape = (len(tokens), len(featurizer.vocabulary))
    sequence = scipy.sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    return sequence, scipy.sparse.coo_matrix(sequence.sum(axis=0))


def _same_coo(a, b):
    assert a.format == b.format == "coo" and a.shape == b.shape and a.dtype == b.dtype
    for attr in ("row", "col", "data"):
        x, y = getattr(a, attr), getattr(b, attr)
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def test_word_cluster_features_are_the_ones_the_old_code_made(tmp_path):
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

    from components.word_clusters import WordClusterFeaturizer

    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())

    def tokenized(text):
        message = Message(data={"text": text})
        tokenizer.process([message])
        return message

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "clusters")
    texts = _nlu_examples()
    featurizer = WordClusterFeaturizer.create(
        WordClusterFeaturizer.get_default_config(), storage, Resource("wc"), context)
    featurizer.train(TrainingData([tokenized(t) for t in texts[::3]]))  # a third: some words unseen
    for text in texts[1::2] + ["photos photos pictures", "zzzqx", "the the the the"]:
        message = tokenized(text)
        featurizer.process([message])
        ours = [f for f in message.features if f.origin == featurizer._identifier]
        if not message.get("text_tokens"):
            assert ours == []
            continue
        sequence, sentence = _word_cluster_features_the_old_way(featurizer, message)
        assert [f.type for f in ours] == ["sequence", "sentence"]
        _same_coo(ours[0].features, sequence)
        _same_coo(ours[1].features, sentence)


def test_has_phrase_answers_as_the_plain_scan_did():
    import random

    from components.terminology import CueMatcher

    def plain(words, phrases):
        for phrase in phrases:
            n = len(phrase)
            for i in range(len(words) - n + 1):
                if list(words[i : i + n]) == phrase:
                    return True
        return False

    rnd = random.Random(3)
    vocab = ["no", "not", "since", "my", "last", "session", "the", "injection", "sites"]
    for _ in range(3000):
        words = [rnd.choice(vocab) for _ in range(rnd.randint(0, 8))]
        phrases = [[rnd.choice(vocab) for _ in range(rnd.randint(0, 3))] for _ in range(rnd.randint(0, 3))]
        for seq in (words, tuple(words)):
            assert CueMatcher._has_phrase(seq, phrases) == plain(seq, phrases), (words, phrases)


def test_the_entity_ruler_on_the_allowed_patterns_finds_what_the_full_one_finds(tmp_path):
    """A pipeline saved and loaded as a trained model loads it: the ruler's matcher is
    the prefiltered one, and it gives the full matcher's matches in the same order,
    and the same entities as a pipeline without it."""
    import random
    from pathlib import Path

    import spacy

    from components.terminology import PrefilteredMatcher, build_pipeline, load_pipeline, load_terminology, save_pipeline

    terminology = load_terminology(Path(__file__).resolve().parents[2] / "data" / "content" / "terminology.yml")
    save_pipeline(build_pipeline(terminology), terminology, tmp_path)
    nlp, _ = load_pipeline(tmp_path)
    plain = spacy.load(tmp_path)  # without the prefilter
    matcher = nlp.get_pipe("entity_ruler").matcher
    assert isinstance(matcher, PrefilteredMatcher) and matcher._uses_lemma and len(matcher._patterns) > 500
    assert not isinstance(plain.get_pipe("entity_ruler").matcher, PrefilteredMatcher)

    rnd = random.Random(11)
    values = sorted(v for _, v in matcher._by_value)
    texts = _nlu_examples()
    texts += [" ".join(rnd.choice(values) for _ in range(rnd.randint(1, 10))) for _ in range(400)]
    texts += ["", "  ", "I'm not pregnant but I had two tumours removed", "<b>pregnant</b>"]
    several = 0
    for text in texts:
        doc = nlp(text)
        found = matcher(doc)
        assert found == matcher._full(doc), text
        several += len(found) > 1
        other = plain(text)
        assert [(e.start, e.end, e.label_, e.ent_id_) for e in doc.ents] == [
            (e.start, e.end, e.label_, e.ent_id_) for e in other.ents], text
    assert several > 100


def test_patterns_added_later_turn_the_prefilter_off():
    import spacy
    from spacy.matcher import Matcher

    from components.terminology import PrefilteredMatcher

    nlp = spacy.blank("en")
    full = Matcher(nlp.vocab)
    full.add("A", [[{"LOWER": "hair"}, {"LOWER": "loss"}]])
    matcher = PrefilteredMatcher(full, [("A", [{"LOWER": "hair"}, {"LOWER": "loss"}])])
    assert matcher(nlp("no match here")) == []
    matcher.add("B", [[{"LOWER": "here"}]])
    assert len(matcher(nlp("no match here"))) == 1
