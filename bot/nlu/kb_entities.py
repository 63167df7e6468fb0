"""NLU component: the knowledge base's cities, networks, themes and countries as entities.

Runs after DIET. Every name of the knowledge base found in the message (bot/nlu/kb_names.py:
aliases, nationality adjectives, no accents, no hyphens, typos) becomes an entity whose value
is the canonical name; DIET's entities of the same kinds that overlap it are replaced. The
names are read at run time from the importer's file, not learnt: a city added to data/kb/ is
recognised as soon as it is imported.

Training only records the ordinary words of the training sentences (outside their entity
annotations), so that a name which is also an everyday word ("roman", "serres") is not
found in a sentence where it is just a word.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Iterable, List, Set, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.json_state import JsonStateComponent
from bot.nlu.kb_names import ENTITY_PRIORITY, NamesFile, words_of

logger = logging.getLogger(__name__)

KB_ENTITIES = frozenset(ENTITY_PRIORITY)


def ordinary_words(messages: Iterable[Message]) -> Set[str]:
    """Folded words of the training sentences, outside their annotated entities."""
    words: Set[str] = set()
    for message in messages:
        text = message.get(TEXT)
        if not text:
            continue
        spans = [(e["start"], e["end"]) for e in message.get(ENTITIES) or [] if "start" in e]
        for word in words_of(text):
            if not any(s <= word.start < e for s, e in spans):
                words.add(word.text)
    return words


def guessed_network(entity: Dict[Text, Any], text: str) -> bool:
    """A learned "network" that is one lower-case word the knowledge base does not know.

    The entity extractor sometimes takes a verb or a common word for a network's name
    ("qui pilotait ce réseau ?", "quel genre de villes ?"); answering that « pilotait » is
    not in the base helps nobody, while without it the action uses the network of the
    conversation or asks which one.
    """
    if entity.get("entity") != "network" or "start" not in entity:
        return False
    span = text[entity["start"] : entity["end"]]
    return len(words_of(span)) == 1 and span == span.lower() and not any(c.isdigit() for c in span)


def merge_entities(
    existing: List[Dict[Text, Any]], found: List[Dict[Text, Any]], text: str = ""
) -> List[Dict[Text, Any]]:
    """``found`` plus the entities of ``existing`` that do not overlap one of the same kinds.

    A learned network name that is a single lower-case word and not a knowledge-base name is
    dropped (see ``guessed_network``).
    """

    def overlaps(entity: Dict[Text, Any]) -> bool:
        return any(entity.get("start", -1) < f["end"] and f["start"] < entity.get("end", -1) for f in found)

    kept = [
        e for e in existing
        if not (e.get("entity") in KB_ENTITIES and overlaps(e)) and not guessed_network(e, text)
    ]
    return sorted(kept + found, key=lambda e: e.get("start", 0))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class KnowledgeBaseEntityExtractor(JsonStateComponent, EntityExtractorMixin):
    """Finds the knowledge base's names in messages; the names file is read at run time."""

    STATE_FILE = "common_words.json"
    MISSING_STATE = "every name may match, even an everyday word"

    def set_state(self, state: Any) -> None:
        self.common_words = sorted({str(w) for w in state or []})
        self.names = NamesFile(common_words=self.common_words)

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def train(self, training_data: TrainingData) -> Resource:
        self.set_state(ordinary_words(training_data.training_examples))
        return self.persist(self.common_words)

    def process(self, messages: List[Message]) -> List[Message]:
        index = self.names.index()
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = [
                {
                    "entity": f.entity,
                    "start": f.start,
                    "end": f.end,
                    "value": f.value,
                    "confidence_entity": round(f.score, 3),
                }
                for f in index.find(text)
            ]
            existing = message.get(ENTITIES) or []
            if found:
                found = self.add_extractor_name(found)
            if found or any(guessed_network(e, text) for e in existing):
                message.set(ENTITIES, merge_entities(existing, found, text), add_to_output=True)
        return messages
