"""components.word_clusters: Brown-cluster word classes as sparse features."""
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.word_clusters import WordClusterFeaturizer, classes, lookups_table

TOKENIZER = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())


@pytest.fixture(scope="module")
def table():
    return lookups_table()


def _tokenized(text):
    message = Message(data={"text": text})
    TOKENIZER.process([message])
    return message


def _trained(tmp_path, texts, **config):
    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "clusters")
    data = TrainingData([_tokenized(t) for t in texts])
    featurizer = WordClusterFeaturizer.create(
        {**WordClusterFeaturizer.get_default_config(), **config}, storage, Resource("wc"), context)
    featurizer.train(data)
    return featurizer, storage, context


def _features(featurizer, text):
    message = _tokenized(text)
    featurizer.process([message])
    sequence, sentence = message.get_sparse_features("text")
    return message, sequence, sentence


def test_the_table_groups_words_used_alike_and_keeps_only_lower_case_words(table):
    assert len(table) > 50_000
    assert all(word == word.lower() for word in list(table)[:1000])
    deep = [32]
    for a, b in [("doctor", "physician"), ("photos", "pictures"), ("done", "performed"), ("zinc", "selenium")]:
        assert classes(table[a], deep) == classes(table[b], deep), (a, b)
    assert classes(table["doctor"], deep) != classes(table["zinc"], deep)


def test_prefixes_are_the_low_bits_so_a_shorter_prefix_is_a_broader_class():
    assert classes(0b1011_0110, [2, 4, 8]) == ["2:2", "4:6", "8:182"]


def test_an_unseen_word_shares_the_features_of_a_trained_word_of_its_class(tmp_path):
    featurizer, _, _ = _trained(tmp_path, ["can i see photos", "is it done by a doctor"])
    _, trained, _ = _features(featurizer, "photos")
    _, unseen, _ = _features(featurizer, "pictures")
    assert trained.features.nnz == len(featurizer.prefix_lengths)
    assert (unseen.features.toarray() == trained.features.toarray()).all()


def test_sequence_has_a_row_per_token_and_the_sentence_sums_them(tmp_path):
    featurizer, _, _ = _trained(tmp_path, ["can i see photos", "is it done by a doctor"])
    _, sequence, sentence = _features(featurizer, "the doctor xqzzyv")
    assert sequence.features.shape == (3, len(featurizer.vocabulary))
    assert sequence.features.toarray()[2].sum() == 0  # no cluster: no features, no error
    assert sentence.features.shape == (1, len(featurizer.vocabulary))
    assert (sentence.features.toarray()[0] == sequence.features.toarray().sum(axis=0)).all()


def test_a_trained_featurizer_loads_from_the_model_with_the_same_features(tmp_path):
    featurizer, storage, context = _trained(tmp_path, ["can i see photos", "is it done by a doctor"])
    loaded = WordClusterFeaturizer.load(
        WordClusterFeaturizer.get_default_config(), storage, Resource("wc"), context)
    for text in ["pictures please", "a physician"]:
        assert (_features(loaded, text)[1].features.toarray()
                == _features(featurizer, text)[1].features.toarray()).all()


def test_messages_without_tokens_and_untrained_featurizers_add_nothing(tmp_path):
    featurizer, _, _ = _trained(tmp_path, ["hello there"])
    empty = Message(data={"text": ""})
    featurizer.process([empty])
    assert empty.features == []
    storage, context = LocalModelStorage(tmp_path / "other"), ExecutionContext(GraphSchema({}), "x")
    untrained = WordClusterFeaturizer.create(WordClusterFeaturizer.get_default_config(),
                                             storage, Resource("none"), context)
    message = _tokenized("hello")
    untrained.process([message])
    assert message.features == []


def test_prefix_lengths_must_be_positive(tmp_path):
    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "x")
    with pytest.raises(ValueError):
        WordClusterFeaturizer.create({**WordClusterFeaturizer.get_default_config(), "prefix_lengths": [0]},
                                     storage, Resource("wc"), context)


def test_the_fingerprint_changes_with_the_table_version_and_the_code(tmp_path, monkeypatch):
    import spacy_lookups_data

    import components.word_clusters as module

    first = WordClusterFeaturizer.fingerprint_addon({})
    assert spacy_lookups_data.__version__ in first
    assert WordClusterFeaturizer.fingerprint_addon({}) == first  # stable
    edited = tmp_path / "word_clusters.py"
    edited.write_text(open(module.__file__).read() + "# edited\n")
    monkeypatch.setattr(module, "__file__", str(edited))
    assert WordClusterFeaturizer.fingerprint_addon({}) != first
    monkeypatch.setattr(spacy_lookups_data, "__version__", "0.0.0")
    assert "0.0.0" in WordClusterFeaturizer.fingerprint_addon({})
