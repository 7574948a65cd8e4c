"""Rasa graph component: tokenizer and entity extractor on the domain spaCy pipeline.

Training builds the pipeline from the terminology file named in ``config.yml``
(``terminology:``) and stores it inside the model, so ``rasa train`` alone
reproduces it and a trained model needs nothing from ``data/`` at run time.
The hashes of that file and of the building code are part of the fingerprint:
editing either retrains this component.

At run time it tokenizes each message (tokens carry spaCy lemmas for the count
vectorizers) and adds one entity per terminology mention, with the canonical
value and ``role`` "negated" or "uncertain" where cues say so.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import terminology as term

logger = logging.getLogger(__name__)

DEFAULT_TERMINOLOGY = "data/content/terminology.yml"
NON_ENGLISH = "non_english"  # message attribute read by safety_override.LanguageGuard
# Message attribute read by the dialogue (components/routing_policy.py, actions):
# {"in_domain": bool, "injection_context": bool, "about_animal": bool} (Analyser.signals).
# Empty messages get none.
SIGNALS = "meso_signals"


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class DomainSpacyNLP(Tokenizer, EntityExtractorMixin):
    """Tokenizes with the terminology pipeline and extracts its mentions as entities."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "terminology": DEFAULT_TERMINOLOGY,
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy"]

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        path = Path(config.get("terminology") or DEFAULT_TERMINOLOGY)
        if not path.exists():
            return None
        # The pipeline depends on the terminology and on the code that builds it.
        return "-".join(term.file_fingerprint(p) for p in (path, Path(term.__file__), Path(__file__)))

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        analyser: Optional[term.Analyser] = None,
    ) -> None:
        super().__init__({**self.get_default_config(), **config})
        self._model_storage = model_storage
        self._resource = resource
        self._analyser = analyser
        self._last_doc = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GraphComponent:
        with model_storage.read_from(resource) as directory:
            nlp, cues = term.load_pipeline(directory)
        return cls(config, model_storage, resource, term.Analyser(nlp, cues))

    def train(self, training_data: TrainingData) -> Resource:
        path = Path(self._config["terminology"])
        terminology = term.load_terminology(path)
        nlp = term.build_pipeline(terminology)
        with self._model_storage.write_to(self._resource) as directory:
            term.save_pipeline(nlp, terminology, directory)
        self._analyser = term.Analyser(nlp, terminology)
        logger.info("Built the domain spaCy pipeline from %s", path)
        return self._resource

    @property
    def analyser(self) -> term.Analyser:
        if self._analyser is None:
            raise RuntimeError("DomainSpacyNLP used before training or loading")
        return self._analyser

    def _tokens(self, doc) -> List[Token]:
        return [
            Token(t.text, t.idx, lemma=(t.lemma_ or t.text).lower(), data={"pos": t.pos_})
            for t in doc
            if not t.is_space
        ]

    def _doc(self, text: str):
        """The spaCy doc of ``text``; the last one is kept, so tokenizing a message and
        finding its mentions run the pipeline once."""
        doc = self._last_doc
        if doc is None or doc.text != text:
            doc = self.analyser.nlp(text)
            self._last_doc = doc
        return doc

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        return self._tokens(self._doc(message.get(attribute) or ""))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            super().process([message])  # tokens; the doc is reused below
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            doc = self._doc(text)
            if self.analyser.looks_non_english(text, doc=doc):
                message.set(NON_ENGLISH, True, add_to_output=True)
            message.set(SIGNALS, self.analyser.signals(text, doc=doc), add_to_output=True)
            mentions = self.analyser.mentions(text, doc=doc)
            if mentions:
                found = [m.as_rasa_entity(self.name) for m in mentions]
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
