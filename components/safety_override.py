"""Safety backstop: a sign of an emergency makes the message an emergency.

Intent classification can miss an emergency phrased in an unusual way ("my tongue
is getting big"). This component runs after the classifiers: when the message
contains an ``emergency_sign`` mention from the terminology (not negated, not
uncertain), the intent becomes ``emergency`` with confidence 1.0, so the rules
answer with the emergency advice at once, inside or outside any question flow.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

NON_ENGLISH = "non_english"  # set by DomainSpacyNLP
SIGN_ENTITY = "emergency_sign"
EMERGENCY_INTENT = "emergency"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyOverride(GraphComponent):
    """Sets the intent to ``emergency`` when an affirmed emergency sign is mentioned."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyOverride":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            signs = [e for e in message.get(ENTITIES) or [] if e.get("entity") == SIGN_ENTITY and not e.get("role")]
            if not signs:
                continue
            previous = message.get(INTENT) or {}
            message.set(INTENT, {"name": EMERGENCY_INTENT, "confidence": 1.0}, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != EMERGENCY_INTENT]
            message.set(
                INTENT_RANKING_KEY,
                [{"name": EMERGENCY_INTENT, "confidence": 1.0}] + ranking,
                add_to_output=True,
            )
            message.set("overridden_intent", previous.get("name"), add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageGuard(GraphComponent):
    """A message in another language is not guessed at: it becomes ``nlu_fallback``,
    whose answer says the assistant answers in English."""

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "LanguageGuard":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(NON_ENGLISH):
                message.set(INTENT, {"name": "nlu_fallback", "confidence": 1.0}, add_to_output=True)
        return messages
