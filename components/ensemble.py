"""Several intent classifiers, one answer: the average of their confidence rankings.

A small neural network and logistic regression (both scikit-learn, trained in
seconds) see the same word, character and word-class features but make different
mistakes; the average of their probabilities is right more often than either
(docs/quality.md, "Training in minutes"). In ``config.yml``::

    - name: components.ensemble.NeuralNetwork
    - name: components.ensemble.RememberRanking
    - name: components.ensemble.LogisticRegression
    - name: components.ensemble.AverageRankings
      power: 1.5

``RememberRanking`` keeps the ranking of the classifier before it (the next one
overwrites the message's intent); ``AverageRankings`` averages every kept ranking
with the current one and sets the intent and ranking from the average. An intent
missing from one classifier's ranking counts as 0 there. A message neither could
read (no words) gets no guess (confidence 0), which the fallback turns into "please
put it another way".

An average of several classifiers is flatter than any one of them, so its confidences
sit lower than a single network's, on which the fallback threshold and the flows'
acting thresholds (``actions/common.py``) were set. ``power`` rescales them: each
averaged score is raised to it and the scores are normalised again (the intent that
wins does not change). The value was chosen on the development split so that at
every threshold the ensemble acts about as often as the single classifier did and is
right more often.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.graph import MessageStep

KEPT = "kept_intent_rankings"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RememberRanking(MessageStep):
    """Keeps the intent ranking set so far, for ``AverageRankings``."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY)
            if ranking:
                message.set(KEPT, (message.get(KEPT) or []) + [list(ranking)])
        return messages


def average(rankings: List[List[Dict[Text, Any]]], power: float = 1.0) -> List[tuple]:
    """(intent, confidence) pairs, best first: the mean of the rankings, each score
    raised to ``power`` and normalised to sum to 1. Ties go alphabetically."""
    scores: Dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for item in ranking:
            scores[item["name"]] += float(item["confidence"]) / len(rankings)
    scaled = {name: score**power for name, score in scores.items()}
    total = sum(scaled.values()) or 1.0
    return sorted(((name, s / total) for name, s in scaled.items()), key=lambda kv: (-kv[1], kv[0]))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AverageRankings(MessageStep):
    """Sets intent and ranking from the average of the kept rankings and the current one."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"ranking_length": 10, "power": 1.0}

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        super().__init__(config)
        self.ranking_length = int(self.config["ranking_length"])
        self.power = float(self.config["power"])
        if self.power <= 0:
            raise ValueError("AverageRankings: power must be positive")

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            rankings = [r for r in (message.get(KEPT) or []) + [message.get(INTENT_RANKING_KEY) or []] if r]
            if not rankings and not message.get(INTENT):
                # no classifier could read it (no words: blank, emoji only): no guess,
                # which the fallback after this turns into "please put it another way"
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            if len(rankings) < 2:
                continue
            ranked = average(rankings, self.power)[: self.ranking_length or None]
            message.set(INTENT, {"name": ranked[0][0], "confidence": ranked[0][1]}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [{"name": name, "confidence": conf} for name, conf in ranked],
                add_to_output=True,
            )
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LogisticRegression(LogisticRegressionClassifier):
    """Rasa's logistic regression classifier, with two of its habits removed:

    - a message without features (an empty text) made scikit-learn raise, which
      failed the whole message, or, with all-zero features, got an intent from the
      intercepts alone; such a message is now left to the other classifiers (and
      ``NoWordsGuard`` sends it to the fallback);
    - its training step classified the training examples themselves, overwriting
      their intents for every component after it; it now leaves them as they are.
    """

    def process(self, messages: List[Message]) -> List[Message]:
        rows = [sentence_row(m) for m in messages]
        if any(row is None for row in rows):  # features this shortcut does not read: Rasa's way
            usable = [m for m in messages if has_features(m)]
            if usable:
                super().process(usable)
            return messages
        # The same as Rasa's ``process`` on the messages ``has_features`` accepts, with
        # each message's features combined once instead of three times.
        usable = [(m, row) for m, row in zip(messages, rows) if row.shape[1] and np.count_nonzero(row.data)]
        if not usable:
            return messages
        X = usable[0][1] if len(usable) == 1 else scipy.sparse.vstack([row for _, row in usable], format="csr")
        probas = self.clf.predict_proba(X)
        for idx, (message, _) in enumerate(usable):
            intents = self.clf.classes_
            intent_ranking = [{"name": k, "confidence": v} for k, v in zip(intents, probas[idx])]
            sorted_ranking = sorted(intent_ranking, key=lambda e: -e["confidence"])
            intent = sorted_ranking[0]
            if self.config["ranking_length"] > 0:
                sorted_ranking = sorted_ranking[: self.config["ranking_length"]]
            message.set("intent", intent, add_to_output=True)
            message.set("intent_ranking", sorted_ranking, add_to_output=True)
        return messages

    def _create_X(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        rows = [sentence_row(m) for m in messages]
        if not rows or any(row is None for row in rows):
            return super()._create_X(messages)
        return rows[0] if len(rows) == 1 else scipy.sparse.vstack(rows, format="csr")

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LogisticRegression":
        """Rasa's loader quietly returns an untrained classifier when the stored one
        cannot be read; a model that answers nothing must fail at start-up instead."""
        component = super().load(config, model_storage, resource, execution_context, **kwargs)
        if not hasattr(component.clf, "classes_"):
            raise ValueError(f"{cls.__name__}: the trained classifier in the model could not be loaded")
        coef = getattr(component.clf, "coef_", None)
        if isinstance(coef, np.ndarray) and coef.ndim == 2 and not coef.flags["F_CONTIGUOUS"]:
            # scikit-learn multiplies the features by ``coef_.T``, which scipy copies into
            # a C-ordered array on every call (36 x 14,000 numbers, about 1 ms); stored in
            # Fortran order, ``coef_.T`` is C-ordered already. Same numbers, same sums.
            component.clf.coef_ = np.asfortranarray(coef)
        return component


def sentence_row(message: Message) -> Optional[scipy.sparse.csr_matrix]:
    """The message's sentence features as one CSR row, equal (values, column indices,
    their order, dtype) to the row Rasa's ``LogisticRegressionClassifier._create_X``
    builds, but without its copies and repeated ``hstack``s. ``None`` when the message
    has features this does not cover (dense ones, or not one row each); callers then
    take Rasa's own way.

    Rasa concatenates the featurizers' sentence matrices in their order (each entry
    keeps its place, the columns shifted by the widths before it), converts the result
    to CSR, which sorts each row's columns and sums duplicates, and appends the (empty)
    dense part, which makes the values float64 at least. This does the same in one go,
    with scipy's own ``sum_duplicates`` for the sorting and summing when the columns
    are not in order already. The last row is kept for the next classifier, as long as
    the message and its feature matrices are the same objects.
    """
    features = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
    if not features:
        return None
    matrices = tuple(f.features for f in features)
    last = _LAST_ROW  # both classifiers read the same message in turn: built once
    if last is not None and last[0] is message and len(last[1]) == len(matrices) and all(
        a is b for a, b in zip(last[1], matrices)
    ):
        return last[2]
    datas, cols = [], []
    width = 0
    for f, matrix in zip(features, matrices):
        if not f.is_sparse() or matrix.ndim != 2 or matrix.shape[0] != 1:
            return None
        coo = matrix if matrix.format == "coo" else matrix.tocoo()
        datas.append(coo.data)
        cols.append(coo.col.astype(np.int64) + width)
        width += matrix.shape[1]
    dtype = np.result_type(np.float64, *[d.dtype for d in datas])
    data = np.concatenate(datas).astype(dtype, copy=False)
    col = np.concatenate(cols)
    index = np.int32 if max(width, len(col)) < np.iinfo(np.int32).max else np.int64
    row = scipy.sparse.csr_matrix(
        (data, col.astype(index), np.array([0, len(col)], dtype=index)), shape=(1, width)
    )
    if len(col) > 1 and not bool((col[1:] > col[:-1]).all()):
        row.sum_duplicates()  # columns out of order or repeated: scipy sorts and sums
    _set_last_row((message, matrices, row))
    return row


_LAST_ROW: Optional[tuple] = None  # (message, its sentence feature matrices, row)


def _set_last_row(value: tuple) -> None:
    global _LAST_ROW
    _LAST_ROW = value


def has_features(message: Message) -> bool:
    """Whether the featurizers found anything in the message's text: a sentence
    feature that is not zero (an empty text has none, or only zeros)."""
    sparse = message.get_sparse_features(TEXT)[1]
    dense = message.get_dense_features(TEXT)[1]
    if sparse is not None and sparse.features.shape[-1] and sparse.features.count_nonzero():
        return True
    return dense is not None and bool(dense.features.size) and bool(dense.features.any())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NeuralNetwork(LogisticRegression):
    """A one-hidden-layer network (scikit-learn's ``MLPClassifier``) on the same
    sentence features as the logistic regression: it trains in seconds where DIET
    takes minutes, and it errs differently from the linear model, so the two average
    well (docs/quality.md, docs/performance.md)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **LogisticRegression.get_default_config(),
            "hidden_layer_size": 256,
            "epochs": 40,
            "alpha": 1e-4,
            "learning_rate": 1e-3,
            "batch_size": 64,
        }

    def __init__(
        self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        from sklearn.neural_network import MLPClassifier

        self.clf = MLPClassifier(
            hidden_layer_sizes=(int(self.config["hidden_layer_size"]),),
            max_iter=int(self.config["epochs"]),
            alpha=float(self.config["alpha"]),
            learning_rate_init=float(self.config["learning_rate"]),
            batch_size=int(self.config["batch_size"]),
            random_state=self.config["random_state"],
            early_stopping=False,
            n_iter_no_change=int(self.config["epochs"]) + 1,  # train every epoch asked for
            tol=0.0,
            shuffle=True,
            verbose=False,
        )

    def persist(self) -> None:
        # The optimiser's state is only needed to go on training, and the model
        # loader does not trust its type: it is not stored.
        if hasattr(self.clf, "_optimizer"):
            self.clf._optimizer = None
        super().persist()
