"""Base class of our trainable NLU components whose trained state is one JSON document.

Rasa 3.6 graph components persist themselves through the model storage; ours keep a single
JSON file (the ordinary words of the training sentences, the answer-search index). A
missing or unreadable file is logged and the component starts without state (each
subclass says what that means for it) instead of stopping the assistant.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional, Text, Type, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

logger = logging.getLogger(__name__)
T = TypeVar("T", bound="JsonStateComponent")


class JsonStateComponent(GraphComponent):
    STATE_FILE: Text = "state.json"
    MISSING_STATE: Text = "the component starts without its trained state"

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, state: Any = None
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.set_state(state)

    def set_state(self, state: Any) -> None:
        """Take the trained state (None when there is none)."""

    # create and load: the signatures Rasa's graph calls (GraphComponent)
    @classmethod
    def create(cls: Type[T], config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> T:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls: Type[T], config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> T:
        state: Optional[Any] = None
        try:
            with model_storage.read_from(resource) as path:
                state = json.loads((path / cls.STATE_FILE).read_text(encoding="utf-8"))
        except (ValueError, OSError) as error:
            logger.error("%s: no trained state in the model (%s): %s.", cls.__name__, error, cls.MISSING_STATE)
        return cls(config, model_storage, resource, state)

    def persist(self, state: Any) -> Resource:
        with self._model_storage.write_to(self._resource) as path:
            (path / self.STATE_FILE).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        return self._resource
