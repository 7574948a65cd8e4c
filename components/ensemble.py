"""Two intent classifiers, one answer: the average of their confidence rankings.

DIET (a small neural network) and logistic regression see the same word and
character n-gram features but err differently; averaging their probabilities is
steadier than either alone. In ``config.yml``::

    - name: DIETClassifier
    - name: components.ensemble.RememberRanking
    - name: LogisticRegressionClassifier
    - name: components.ensemble.AverageRankings

``RememberRanking`` keeps the ranking of the classifier before it (the next one
overwrites the message's intent); ``AverageRankings`` averages every kept ranking
with the current one and sets the intent and ranking from the average. An intent
missing from one classifier's (truncated) ranking counts as 0 there.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

KEPT = "kept_intent_rankings"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RememberRanking(GraphComponent):
    """Keeps the intent ranking set so far, for ``AverageRankings``."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "RememberRanking":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            ranking = message.get(INTENT_RANKING_KEY)
            if ranking:
                message.set(KEPT, (message.get(KEPT) or []) + [list(ranking)])
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AverageRankings(GraphComponent):
    """Sets intent and ranking from the average of the kept rankings and the current one."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"ranking_length": 10}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.ranking_length = int(config.get("ranking_length", 10))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "AverageRankings":
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            rankings = [r for r in (message.get(KEPT) or []) + [message.get(INTENT_RANKING_KEY) or []] if r]
            if len(rankings) < 2:
                continue
            scores: Dict[str, float] = defaultdict(float)
            for ranking in rankings:
                for item in ranking:
                    scores[item["name"]] += float(item["confidence"]) / len(rankings)
            ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[: self.ranking_length]
            message.set(INTENT, {"name": ranked[0][0], "confidence": ranked[0][1]}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                [{"name": name, "confidence": conf} for name, conf in ranked],
                add_to_output=True,
            )
        return messages
