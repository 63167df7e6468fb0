"""NLU component: a message about a call of a given year is about that call.

"l'appel urbact de 2023 pour la planification, combien de partenaires et quel budget ?" or
"un appel en 2026 avec un budget pour tester des actions, c'est quoi ?" read, word by word,
like the brochure's questions on funding or on URBACT itself, and got a general answer.
When the message speaks of a call ("appel", "candidature") and names a year, and the intent
is one of `overridden` (brochure topics that cannot use a year), the intent becomes
`ask_last_call`, whose action answers about the call(s) of that year (deadline, who may
apply, budget).

Runs after the NamedNetworkIntent and before the FallbackClassifier. What happened is
recorded in the parse data under `named_call`.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import IntentOverrideRule
from common.text import fold

CALL = "ask_last_call"
_CALL_WORDS = re.compile(r"\b(appels?|candidatures?)\b")
_YEAR = re.compile(r"\b(19|20)\d\d\b")


def speaks_of_a_dated_call(message: Message) -> bool:
    text = fold(str(message.get(TEXT) or "")[:500])
    named_year = any(isinstance(e, dict) and e.get("entity") == "year" for e in message.get(ENTITIES) or [])
    return bool(_CALL_WORDS.search(text)) and (named_year or bool(_YEAR.search(text)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NamedCallIntent(IntentOverrideRule):
    """See the module docstring."""

    TARGET = CALL
    RECORD_KEY = "named_call"
    OVERRIDDEN = (
        "ask_what_is_urbact", "ask_history", "ask_network_duration", "ask_network_types",
        "ask_funding_programme", "ask_how_to_join", "ask_countries", "benefit_good_practices",
        "out_of_scope", "help",
    )

    def applies(self, message: Message) -> bool:
        return speaks_of_a_dated_call(message)
