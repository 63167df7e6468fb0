"""NLU component: "des villes danoises dans urbact ?" asks for the networks of that country.

Said with context ("on a un jumelage près de Vienne, des villes autrichiennes dans urbact ?",
"des villes danoises ? on a un partenariat scolaire avec le Danemark"), such questions read,
word by word, like the contacts myth ("I know no foreign city"), whose answer does not name
a single town. When the message asks a question about towns of a country of the knowledge
base ("villes", "communes" or "partenaires" just before the country's adjective) or about
the country taking part ("le monténégro est-il dans un réseau ?", "y a-t-il malte dans
urbact ?") and
the intent is one of `overridden`, the intent becomes `search_networks`, whose action lists
the networks with partners there and names them.

Runs after the NamedCallIntent and before the FallbackClassifier. What happened is recorded
in the parse data under `named_country`.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import IntentOverrideRule
from bot.nlu.kb_entities import KnowledgeBaseEntityExtractor
from common.text import fold

SEARCH = "search_networks"
# Plural only: "une ville lettone genre riga ?" is context for a myth, not a search.
_TOWNS_BEFORE = re.compile(
    r"\b(villes|communes|collectivites|partenaires|municipalites|membres)\s+((de|d|du|des|en|au|aux)\s+)?$"
)
# The country itself in a question on taking part: "le montenegro est-il dans un réseau
# urbact ?", "y a-t-il malte dans urbact ?", "la slovenie participe a urbact ?" (folded).
_THERE_BEFORE = re.compile(r"\b(y a t il|ya t il|y a t'il|il y a)\s+(de |du |des |la |le |l |les )?$")
_TAKES_PART_AFTER = re.compile(
    r"^\s*(est ?il|est ?elle|a t il|a t elle|participe\w*|fait partie|fait il partie|est dans|est present\w*"
    r"|a combien|compte\w*|a des villes)\b"
)


def asks_about_towns_of_a_country(message: Message) -> bool:
    text = str(message.get(TEXT) or "")
    if "?" not in text:
        return False
    for entity in message.get(ENTITIES) or []:
        if not (isinstance(entity, dict) and entity.get("entity") == "country"
                and entity.get("extractor") == KnowledgeBaseEntityExtractor.__name__):
            continue
        start, end = int(entity.get("start", 0)), int(entity.get("end", 0))
        before = re.sub(r"[-'’]", " ", fold(text[max(0, start - 40):start]))
        after = re.sub(r"[-'’]", " ", fold(text[end:end + 40]))
        if _TOWNS_BEFORE.search(before) or _THERE_BEFORE.search(before) or _TAKES_PART_AFTER.search(after):
            return True
    return False


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NamedCountryIntent(IntentOverrideRule):
    """See the module docstring."""

    TARGET = SEARCH
    RECORD_KEY = "named_country"
    OVERRIDDEN = (
        "myth_contacts", "myth_useless_exchange", "ask_what_is_urbact", "out_of_scope", "help",
        # topics that never depend on a country: "combien de villes allemandes dans urbact ?"
        "ask_network_types", "ask_history", "ask_network_duration", "ask_funding_programme",
    )

    def applies(self, message: Message) -> bool:
        return asks_about_towns_of_a_country(message)
