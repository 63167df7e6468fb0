"""NLU component: a message that names a network of the knowledge base is about that network.

"c change avec manchester, ça concerne quoi ?" or "resilient europe, ça a duré de quand à
quand ?" read, word by word, like questions about URBACT itself (what it is, its history,
how long a network lasts), and got the brochure's answer. A name that the knowledge-base
extractor found is surer than those generic readings: when the intent is one of
`overridden` (brochure topics that cannot use a network's name) and the message names a
known network, the intent becomes `ask_network_details`, whose answer gives the network's
description, period, type and lead.

Runs after the FollowUpContext and before the FallbackClassifier. What happened is
recorded in the parse data under `named_network`.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import IntentOverrideRule
from bot.nlu.kb_entities import KnowledgeBaseEntityExtractor

DETAILS = "ask_network_details"


def names_a_known_network(message: Message) -> bool:
    return any(
        isinstance(e, dict) and e.get("entity") == "network"
        and e.get("extractor") == KnowledgeBaseEntityExtractor.__name__
        for e in message.get(ENTITIES) or []
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NamedNetworkIntent(IntentOverrideRule):
    """See the module docstring."""

    TARGET = DETAILS
    RECORD_KEY = "named_network"
    OVERRIDDEN = (
        "ask_what_is_urbact", "ask_history", "ask_network_duration", "ask_network_types",
        "ask_governance", "ask_funding_programme", "ask_benefits", "ask_countries",
        "out_of_scope", "help", "greet", "bot_challenge",
    )

    def applies(self, message: Message) -> bool:
        return names_a_known_network(message)
