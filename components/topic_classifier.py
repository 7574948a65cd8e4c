"""Rasa graph component: recognises a knowledge topic the terminology did not name.

About twenty-five answers in ``data/content/knowledge.yml`` (pain, downtime, aftercare,
the causes of hair loss, PRP, a transplant's candidacy...) have no intent of their own:
the terminology's phrases (``data/content/terminology.yml``) name them. A question
about one of them in words no phrase covers ("is it ok to hit the gym the same day?")
was left to the intent classifier, which knows only the intents and so answered it
with the nearest one (side effects, the procedure): a confident answer to a different
question.

This component is a second, small classifier over the topics AND the intents: word
(1-2 grams) and character (2-5 grams) TF-IDF features, multinomial logistic
regression. Its topic examples are in ``data/topics/*.yml`` (written from the topic
definitions in ``docs/intents.md``); the intents' examples are the NLU training data,
without the examples in which the terminology names a topic (they would teach it that
such a question is the intent's). When the terminology named no topic, the message is
about the domain (``meso_signals.in_domain``), the intent is one answered from the
content (or no intent was sure), and this classifier's best label is a topic at
``threshold`` or above, the message gets that topic as a ``topic`` entity
(extractor ``TopicClassifier``): the routing policy and the actions then treat it as
a named topic. Its best guess is always written to ``topic_guess`` for the logs.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Text

import joblib
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import signals as sig
from components import terminology as term

logger = logging.getLogger(__name__)

DEFAULT_EXAMPLES = "data/topics"
DEFAULT_TERMINOLOGY = "data/content/terminology.yml"
TOPIC_ENTITY = "topic"
TOPIC_PREFIX = "topic:"  # labels of topic examples, kept apart from intent names
GUESS = "topic_guess"  # message attribute: the best topic label and its probability
SIGNALS = "meso_signals"
FILE_NAME = "topic_classifier.joblib"
# Intents whose answer is a guess at the content: a topic this classifier is sure of
# answers instead (with a sure intent's own answer beside it, actions/routing.py).
DEFAULT_INTENTS = [
    "ask_what_is", "ask_procedure", "ask_ingredients", "ask_personalised", "ask_who_performs", "ask_sessions",
    "ask_indications", "ask_contraindications", "ask_side_effects", "ask_photos", "ask_limitations", "ask_aga",
    "ask_dhi", "ask_alternatives", "ask_claim", "ask_price", "request_medical_advice", "nlu_fallback",
]
# Intents a message that tells a story (or says goodbye, thanks, "I don't know") can
# have: a topic answers only a question in it ("how soon could I go back to the office?"
# taken for a goodbye).
DEFAULT_STORY_INTENTS = ["describe_hair_loss", "inform", "goodbye", "thank", "dont_know", "affirm", "deny",
                         "bot_challenge"]


def load_examples(folder: Path) -> Dict[str, List[str]]:
    """Topic -> example texts, from every ``*.yml`` in ``folder`` (``topic_examples``)."""
    found: Dict[str, List[str]] = {}
    for path in sorted(Path(folder).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("topic_examples") or []:
            lines = [line.strip() for line in str(block.get("examples") or "").splitlines()]
            texts = [line[2:].strip() for line in lines if line.startswith("- ") and line[2:].strip()]
            found.setdefault(str(block["topic"]), []).extend(texts)
    return found


def folder_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.yml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build_model(seed: int = 42, c: float = 10.0):
    """The scikit-learn pipeline: word and character TF-IDF, logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion([
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                                  token_pattern=r"(?u)\b\w+\b")),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
    ])
    return Pipeline([("features", features),
                     ("classifier", LogisticRegression(C=c, max_iter=2000, random_state=seed))])


# A message this short needs a stronger guess to name a topic.
SHORT_WORDS, SHORT_THRESHOLD = 3, 0.5


def second_opinion(guess: Optional[Dict[str, Any]], threshold: float) -> Optional[str]:
    """The intent ``guess`` reads, at ``threshold`` or above (None for a topic): the
    routing policy acts on a weak guess of the intent classifier that this one shares."""
    if not guess or guess.get("topic") or guess["confidence"] < threshold:
        return None
    return guess["name"]


def topic_to_name(guess: Optional[Dict[str, Any]], text: str, entities: List[Dict[str, Any]],
                  signals: Optional[Dict[str, Any]], intent: Optional[str], threshold: float,
                  intents: Set[str], story_intents: Set[str]) -> Optional[str]:
    """The topic of ``guess`` to name in a message, or None: the guess is a topic at
    ``threshold`` or above, the terminology named no topic, the message is about the
    domain, and the intent is a guess at the content (or a story with a question)."""
    if not guess or not guess.get("topic") or guess["confidence"] < threshold or text.startswith("/"):
        return None
    if len(text.split()) <= SHORT_WORDS and guess["confidence"] < SHORT_THRESHOLD:
        return None  # "and for hair?": three words carry too little for a weak guess at a topic
    if any(e.get("entity") == TOPIC_ENTITY for e in entities):
        return None  # the terminology named one: its word is better evidence
    if not (signals or {}).get("in_domain", False):
        return None
    if guess["topic"] in sig.WHO_CAN_HAVE_TOPICS and sig.after_other_procedure(entities, text):
        # "can I smoke after my transplant?" is the recovery's question, not who can have one
        return None
    if intent in intents or (intent in story_intents and sig.asked(text)):
        return guess["topic"]
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class TopicClassifier(GraphComponent, EntityExtractorMixin):
    """See the module docstring."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "examples": DEFAULT_EXAMPLES,
            "terminology": DEFAULT_TERMINOLOGY,
            "threshold": 0.3,
            "C": 10.0,
            "random_state": 42,
            "intents": DEFAULT_INTENTS,
            "story_intents": DEFAULT_STORY_INTENTS,
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        folder = Path(config.get("examples") or DEFAULT_EXAMPLES)
        terminology = Path(config.get("terminology") or DEFAULT_TERMINOLOGY)
        if not folder.exists() or not terminology.exists():
            return None
        return "-".join([folder_fingerprint(folder), term.file_fingerprint(terminology),
                         term.file_fingerprint(Path(__file__))])

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 model: Any = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.threshold = float(self.config["threshold"])
        self.intents = set(self.config["intents"] or [])
        self.story_intents = set(self.config["story_intents"] or [])

    @property
    def name(self) -> str:
        return "TopicClassifier"

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> GraphComponent:
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                path = Path(directory) / FILE_NAME
                if path.exists():
                    model = joblib.load(path)
        except ValueError:
            logger.warning("TopicClassifier: no trained model found; it names no topics")
        return cls(config, model_storage, resource, model)

    def training_set(self, training_data: TrainingData):
        """(texts, labels): the topic examples, and the intents' examples in which the
        terminology names no topic."""
        topics = load_examples(Path(self.config["examples"]))
        analyser = term.Analyser.from_terminology_file(Path(self.config["terminology"]))
        texts: List[str] = []
        labels: List[str] = []
        for topic, examples in sorted(topics.items()):
            texts += examples
            labels += [TOPIC_PREFIX + topic] * len(examples)
        for message in training_data.intent_examples:
            text, intent = message.get(TEXT), message.get(INTENT)
            if not text or not intent:
                continue
            if any(m.entity == TOPIC_ENTITY for m in analyser.mentions(text)):
                continue
            texts.append(text)
            labels.append(intent)
        return texts, labels

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = self.training_set(training_data)
        if not any(label.startswith(TOPIC_PREFIX) for label in labels):
            logger.warning("TopicClassifier: no topic examples in %s", self.config["examples"])
            return self._resource
        model = build_model(int(self.config["random_state"]), float(self.config["C"]))
        model.fit([t.lower() for t in texts], labels)
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(model, Path(directory) / FILE_NAME)
        self.model = model
        logger.info("TopicClassifier: %d examples, %d labels", len(texts), len(set(labels)))
        return self._resource

    def guess(self, text: str) -> Optional[Dict[str, Any]]:
        """The best label for ``text``: {"name", "confidence", "topic"} (topic None for an
        intent), or None without a model."""
        if self.model is None or not text.strip():
            return None
        probabilities = self.model.predict_proba([text.lower()])[0]
        best = int(probabilities.argmax())
        label = str(self.model.classes_[best])
        topic = label[len(TOPIC_PREFIX):] if label.startswith(TOPIC_PREFIX) else None
        return {"name": label, "topic": topic, "confidence": round(float(probabilities[best]), 4)}

    def names_topic(self, message: Message, guess: Optional[Dict[str, Any]]) -> Optional[str]:
        """The topic to add as an entity, or None (``topic_to_name``)."""
        intent = (message.get(INTENT) or {}).get("name")
        return topic_to_name(guess, message.get(TEXT) or "", message.get(ENTITIES) or [], message.get(SIGNALS),
                             intent, self.threshold, self.intents, self.story_intents)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip() or text.startswith("/"):
                continue
            guess = self.guess(text)
            if guess is None:
                continue
            message.set(GUESS, guess, add_to_output=True)
            opinion = second_opinion(guess, self.threshold)
            if opinion and isinstance(message.get(SIGNALS), dict):
                message.set(SIGNALS, {**message.get(SIGNALS), sig.SECOND_OPINION: opinion}, add_to_output=True)
            topic = self.names_topic(message, guess)
            if topic:
                entity = {
                    "entity": TOPIC_ENTITY, "value": topic, "start": 0, "end": len(text),
                    "confidence_entity": guess["confidence"], "extractor": self.name,
                }
                message.set(ENTITIES, (message.get(ENTITIES) or []) + [entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
