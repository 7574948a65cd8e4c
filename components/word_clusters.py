"""Rasa graph component: word-class features from Brown clusters, no downloads.

The classifiers know only the words of the training data: a visitor who writes
"carried out" where the examples say "done", or "physician" where they say "doctor",
is a stranger to them. Word vectors would close that gap, but no pretrained model can
be downloaded here. ``spacy-lookups-data`` (a pinned dependency, installed from the
package registry) ships English Brown clusters: about a million words from a large
web corpus, each placed in a binary hierarchy of word classes by the contexts it
occurs in. Words that share a long prefix of that path are used alike ("done" and
"performed", "doctor" and "physician", "photos" and "pictures").

Each token gets one feature per configured prefix length: its class at that depth
of the hierarchy. Short prefixes are broad classes, long ones narrow. The vocabulary
is the set of classes seen in the training data, so an unseen word counts through
the classes it shares with trained words. Training keeps the lower-case words'
paths inside the model (about 63,000 words), so a trained model needs nothing else.

spaCy stores a path as an integer read from the path reversed: the top of the
hierarchy is the lowest bit, so the prefix of length k is ``cluster & (2**k - 1)``.
The prefix lengths were chosen on the development split (docs/quality.md).
"""
from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

TOKENS = "text_tokens"
FILE = "word_clusters.json"
WORD = re.compile(r"[a-z][a-z']*")


def lookups_table() -> Dict[str, int]:
    """The lower-case words of spacy-lookups-data's English Brown clusters that have a
    cluster (0 means none)."""
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lexeme_cluster.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        table = json.load(f)
    return {w: c for w, c in table.items() if c and WORD.fullmatch(w)}


def classes(cluster: int, prefix_lengths: List[int]) -> List[str]:
    """The word's class at each depth: ``"<k>:<prefix>"``."""
    return [f"{k}:{cluster & ((1 << k) - 1)}" for k in prefix_lengths]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class WordClusterFeaturizer(SparseFeaturizer, GraphComponent):
    """Sparse features: each token's Brown-cluster classes at several depths."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**SparseFeaturizer.get_default_config(), "prefix_lengths": [6, 10, 14, 20, 32]}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        lengths = config.get("prefix_lengths") or []
        if not lengths or min(int(k) for k in lengths) < 1:
            raise ValueError("prefix_lengths must be positive numbers of bits")

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy_lookups_data"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The table's package version and this code: a change to either retrains."""
        import spacy_lookups_data

        from components.terminology import file_fingerprint

        return f"spacy-lookups-data {spacy_lookups_data.__version__} {file_fingerprint(Path(__file__))}"

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        clusters: Optional[Dict[str, int]] = None,
        vocabulary: Optional[List[str]] = None,
    ) -> None:
        super().__init__(execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self.validate_config(self._config)
        self.prefix_lengths = [int(k) for k in self._config["prefix_lengths"]]
        self.clusters = clusters or {}
        self.vocabulary = {name: i for i, name in enumerate(vocabulary or [])}
        self._columns: Dict[int, List[int]] = {}  # cluster -> its classes' columns, in order

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "WordClusterFeaturizer":
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "WordClusterFeaturizer":
        try:
            with model_storage.read_from(resource) as directory:
                stored = json.loads((Path(directory) / FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            logger.warning("WordClusterFeaturizer: nothing stored, adding no features")
            return cls(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, execution_context,
                   stored["clusters"], stored["vocabulary"])

    def _token_classes(self, token) -> List[str]:
        cluster = self.clusters.get(token.text.lower()) or self.clusters.get((token.lemma or "").lower())
        return classes(cluster, self.prefix_lengths) if cluster else []

    def train(self, training_data: TrainingData) -> Resource:
        self.clusters = lookups_table()
        seen = set()
        for message in training_data.training_examples:
            for token in message.get(TOKENS) or []:
                seen.update(self._token_classes(token))
        vocabulary = sorted(seen)
        self.vocabulary = {name: i for i, name in enumerate(vocabulary)}
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / FILE).write_text(
                json.dumps({"clusters": self.clusters, "vocabulary": vocabulary}), encoding="utf-8")
        logger.info("Word clusters: %d classes in the training data", len(vocabulary))
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def _token_columns(self, token) -> List[int]:
        """The vocabulary columns of the token's classes that are in the vocabulary, in
        the order of ``_token_classes`` (kept per cluster: the same for every word in it)."""
        cluster = self.clusters.get(token.text.lower()) or self.clusters.get((token.lemma or "").lower())
        if not cluster:
            return []
        columns = self._columns.get(cluster)
        if columns is None:
            columns = [self.vocabulary[name] for name in classes(cluster, self.prefix_lengths) if name in self.vocabulary]
            self._columns[cluster] = columns
        return columns

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.vocabulary:
            return messages
        for message in messages:
            tokens = message.get(TOKENS)
            if not tokens:
                continue
            rows, cols = [], []
            for row, token in enumerate(tokens):
                columns = self._token_columns(token)
                rows += [row] * len(columns)
                cols += columns
            shape = (len(tokens), len(self.vocabulary))
            sequence = scipy.sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
            # the column sums of ``sequence`` (what ``sequence.sum(axis=0)`` gives: counts
            # of ones, exact in float64), as a dense row made sparse the same way
            counts = np.bincount(np.asarray(cols, dtype=np.intp), minlength=shape[1]).astype(np.float64)
            sentence = scipy.sparse.coo_matrix(counts[np.newaxis, :])
            self.add_features_to_message(sequence, sentence, TEXT, message)
        return messages
