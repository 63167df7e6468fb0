"""NLU component: "à Romans, ils ont fait comment ?" asks for the brochure's field example.

The brochure tells what a few places did in their network (Nantes, the Val-de-Marne,
Strasbourg, Romans-sur-Isère, Mouans-Sartoux, the Pays des Condruses, Milan). A question
naming one of them and asking what they did or how ("mouans sartoux dans agri urban, ils
avaient fait quoi pour faire connaître le réseau ?", "strasbourg, comment ils ont structuré
leur plan ?") read, word by word, like a question on the town's networks, on local groups
or on action plans in general, whose answers do not tell the story. When the message names
such a place, asks what was done or how, and does not ask which networks, and the intent is
one of `overridden` (or unsure), the intent becomes `ask_field_example`.

Runs after the NamedCountryIntent and before the FallbackClassifier. What happened is
recorded in the parse data under `named_example`.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import IntentOverrideRule
from common.text import fold

EXAMPLE = "ask_field_example"
# The places of the brochure's field examples (folded; the action resolves the name again).
_PLACE = re.compile(r"\b(nantes|val de marne|strasbourg|eurometropole|romans|mouans|condruses|condroz|milan)\b")
# What they did, how, what came of it.
_WHAT_THEY_DID = re.compile(
    r"\b(fait|font|faire|comment|histoire|concret\w*|donne|resultats?|reussi|mis en place|mise en place"
    r"|organise\w*|experience|structure\w*|contenait|raconte\w*|inspire\w*|copie\w*|communi\w*)\b"
)
# ... unless the question is which networks the place is in.
_WHICH_NETWORKS = re.compile(r"\b(quels? reseaux?|dans quels?|quel projet|participe\w*|membres?)\b")


def asks_what_an_example_place_did(message: Message) -> bool:
    text = fold(str(message.get(TEXT) or "")[:500]).replace("-", " ")
    return bool(_PLACE.search(text) and _WHAT_THEY_DID.search(text) and not _WHICH_NETWORKS.search(text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NamedExampleIntent(IntentOverrideRule):
    """See the module docstring."""

    TARGET = EXAMPLE
    RECORD_KEY = "named_example"
    OVERRIDDEN = (
        "ask_city_networks", "ask_network_details", "ask_action_plan", "ulg_what", "ulg_keep_alive",
        "ulg_mobilise", "ulg_elected_officials", "benefit_existing_projects", "ask_benefits", "inform",
    )

    def applies(self, message: Message) -> bool:
        return asks_what_an_example_place_did(message)
