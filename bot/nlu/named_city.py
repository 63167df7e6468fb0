"""NLU component: "nevers (58), on avait déjà fait un truc urbact, vous avez une trace ?"
asks for that town's networks.

Said with context ("je suis à l'agence de développement de boulogne sur mer, je dois faire
une note sur notre réseau urbact et je n'ai pas le nom exact"), such questions read, word
by word, like questions on URBACT itself, its history or the time it takes. When the
message names a town of the knowledge base (found by the knowledge-base names, not
guessed) and speaks of that town having taken part ("déjà fait", "notre réseau", "une
trace", "le nom", "participe"), and the intent is one of `overridden` (or unsure), the
intent becomes `ask_city_networks`, whose action lists the town's networks.

Runs after the NamedExampleIntent and before the FallbackClassifier. What happened is
recorded in the parse data under `named_city`.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import IntentOverrideRule
from bot.nlu.kb_entities import KnowledgeBaseEntityExtractor
from common.text import fold

CITY_NETWORKS = "ask_city_networks"
# The town has taken part, or the person looks for what it took part in (folded).
_TOOK_PART = re.compile(
    r"\b(deja (fait|participe\w*|ete|eu)|avait (deja )?(fait|participe)|avons (deja )?(fait|participe)"
    r"|notre reseau|nos reseaux|son reseau|leur reseau|une trace|des traces|le nom|participe\w*|fait partie"
    r"|faisait partie|membre)\b"
)


def a_known_town_took_part(message: Message) -> bool:
    text = re.sub(r"[-'’]", " ", fold(str(message.get(TEXT) or "")[:500]))
    named = any(isinstance(e, dict) and e.get("entity") == "city"
                and e.get("extractor") == KnowledgeBaseEntityExtractor.__name__
                for e in message.get(ENTITIES) or [])
    return named and bool(_TOOK_PART.search(text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NamedCityIntent(IntentOverrideRule):
    """See the module docstring."""

    TARGET = CITY_NETWORKS
    RECORD_KEY = "named_city"
    OVERRIDDEN = (
        "ask_what_is_urbact", "ask_history", "ask_network_duration", "myth_time", "myth_no_idea",
        "myth_complexity", "out_of_scope", "help", "ask_benefits",
    )

    def applies(self, message: Message) -> bool:
        return a_known_town_took_part(message)
