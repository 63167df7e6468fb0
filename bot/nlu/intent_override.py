"""The one way our rule components replace the classifier's intent (and say so)."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str, confidence: float, record_key: str) -> None:
    """Make ``name`` the intent at ``confidence`` or more; the others fall to half of it.

    The replaced intent is recorded in the parse data under ``record_key``.
    """
    intent = message.get(INTENT) or {}
    replaced = intent.get("name")
    chosen_confidence = min(1.0, max(confidence, float(intent.get("confidence") or 0.0)))
    chosen = {"name": name, "confidence": chosen_confidence}
    others = [dict(r, confidence=min(float(r.get("confidence") or 0.0), chosen_confidence / 2))
              for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != name]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *others], add_to_output=True)
    message.set(record_key, {"replaced": replaced}, add_to_output=True)


class IntentOverrideRule(GraphComponent, IntentClassifier):
    """A rule that replaces some generic intents by ``TARGET`` when ``applies`` says so.

    Subclasses set ``TARGET``, ``RECORD_KEY`` and ``OVERRIDDEN`` (the intents it may
    replace, overridable as `overridden` in config.yml) and define ``applies``. Any other
    intent is replaced too when its confidence is below `below` (default: the
    FallbackClassifier's threshold): a message naming a thing of the knowledge base is
    better answered about that thing than with a request to rephrase.
    """

    TARGET: ClassVar[str]
    RECORD_KEY: ClassVar[str]
    OVERRIDDEN: ClassVar[Tuple[str, ...]]

    @classmethod
    def get_default_config(cls) -> Dict[Text, Any]:
        return {"overridden": list(cls.OVERRIDDEN), "confidence": 0.8, "below": 0.45}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = {**self.get_default_config(), **config}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "IntentOverrideRule":
        return cls(config)

    def applies(self, message: Message) -> bool:
        raise NotImplementedError

    def process(self, messages: List[Message]) -> List[Message]:
        overridden = set(self.config["overridden"])
        below = float(self.config["below"])
        for message in messages:
            intent = message.get(INTENT) or {}
            unsure = float(intent.get("confidence") or 0.0) < below and intent.get("name") != self.TARGET
            if (intent.get("name") in overridden or unsure) and self.applies(message):
                override_intent(message, self.TARGET, float(self.config["confidence"]), self.RECORD_KEY)
        return messages
