"""Safety backstop: a sign of an emergency makes the message an emergency.

Intent classification can miss an emergency phrased in an unusual way ("my tongue
is getting big"). This component runs after the classifiers: when the message
contains an ``emergency_sign`` mention from the terminology (not negated, not
uncertain; thoughts of suicide or self-harm even when uncertain:
``signals.emergency_signs``), the intent becomes ``emergency`` with confidence 1.0, so the rules
answer with the emergency advice at once, inside or outside any question flow.
"""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components import signals as sig
from components.domain_nlp import NON_ENGLISH
from components.graph import MessageStep

SIGN_ENTITY = sig.EMERGENCY_SIGN_ENTITY
EMERGENCY_INTENT = "emergency"
KIND_ENTITY = "emergency_kind"  # domain.yml: entity and slot
SELF_HARM_KIND, OTHER_KIND = "self_harm", "other"
SOMEONE_ELSES_HARM_KIND = "self_harm_someone_else"  # "my partner is thinking about killing himself"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmergencyOverride(MessageStep):
    """Sets the intent to ``emergency`` when an affirmed emergency sign is mentioned."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities, text = message.get(ENTITIES) or [], message.get(TEXT) or ""
            if not sig.emergency_signs(entities, text):
                if (message.get(INTENT) or {}).get("name") == EMERGENCY_INTENT:
                    self.mark_kind(message, entities, text)  # the classifier's own emergency
                continue
            self.mark_kind(message, entities, text)
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

    @staticmethod
    def mark_kind(message: Message, entities: List[Dict[str, Any]], text: str) -> None:
        """Adds the ``emergency_kind`` entity (``self_harm``, ``self_harm_someone_else`` or
        ``other``): the slot it
        fills picks the variant of the fixed emergency answer (domain.yml), so thoughts
        of suicide get the crisis wording even with the action server down."""
        kind = OTHER_KIND
        if sig.self_harm_of_someone_else(entities, text):
            kind = SOMEONE_ELSES_HARM_KIND
        elif sig.self_harm(entities, text):
            kind = SELF_HARM_KIND
        marker = {"entity": KIND_ENTITY, "value": kind, "start": 0, "end": len(text),
                  "confidence_entity": 1.0, "extractor": "EmergencyOverride"}
        message.set(ENTITIES, [e for e in entities if e.get("entity") != KIND_ENTITY] + [marker], add_to_output=True)


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
