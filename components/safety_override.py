"""Safety backstop: a sign of an emergency makes the message an emergency.

Intent classification can miss an emergency phrased in an unusual way ("my tongue
is getting big"). This component runs after the classifiers: when the message
contains an ``emergency_sign`` mention from the terminology (not negated, not
uncertain; thoughts of suicide or self-harm even when uncertain:
``signals.emergency_signs``), the intent becomes ``emergency`` with confidence 1.0, so the rules
answer with the emergency advice at once, inside or outside any question flow.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components import signals as sig
from components.domain_nlp import NON_ENGLISH
from components.graph import MessageStep

SIGN_ENTITY = sig.EMERGENCY_SIGN_ENTITY
EMERGENCY_INTENT = "emergency"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyOverride(MessageStep):
    """Sets the intent to ``emergency`` when an affirmed emergency sign is mentioned."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not sig.emergency_signs(message.get(ENTITIES) or [], message.get(TEXT) or ""):
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
class LanguageGuard(MessageStep):
    """A message in another language is not guessed at: it becomes ``nlu_fallback``,
    whose answer says the assistant answers in English."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(NON_ENGLISH):
                message.set(INTENT, {"name": "nlu_fallback", "confidence": 1.0}, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NoWordsGuard(MessageStep):
    """A message with no letter or digit at all (empty, blank, only emoji or
    punctuation) is not guessed at: it becomes ``nlu_fallback``, whose answer asks the
    visitor to put it another way. Without this a classifier that still scores an
    empty feature vector (logistic regression does) would pick some intent."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and not any(ch.isalnum() for ch in text):
                message.set(INTENT, {"name": "nlu_fallback", "confidence": 1.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [{"name": "nlu_fallback", "confidence": 1.0}], add_to_output=True)
        return messages
