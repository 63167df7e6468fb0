"""NLU component: "mairie de 2800 habitants dans le jura, on est trop petits pour urbact ?"
asks who may apply, not the time myth.

The worry "trop petits" reads, word by word, like the complaints about time and workload
("trop de travail", "trop peu d'agents"). When the message speaks of the town's size (a
number of inhabitants, "petite commune", "trop petits"), asks a question, says nothing of
time or workload, and the intent is one of `overridden` (or unsure), the intent becomes
`ask_how_to_join`, whose answer says that towns of any size may apply.

Runs after the NamedCityIntent and before the FallbackClassifier. What happened is
recorded in the parse data under `town_size`.
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import IntentOverrideRule
from common.text import fold

HOW_TO_JOIN = "ask_how_to_join"
_SIZE = re.compile(
    r"\b(trop petit\w*|petite?s? (commune|ville|mairie|collectivite|structure)s?|\d[\d .]*\s*(habitants|hab)"
    r"|taille)\b"
)
# Time or workload said too: the time myth, not a question of size.
_TIME_OR_WORK = re.compile(r"\b(temps|charge|disponib\w*|agents?|equipes?|personnel|effectifs?|boulot|travail)\b")


def asks_if_size_matters(message: Message) -> bool:
    text = fold(str(message.get(TEXT) or "")[:500])
    return "?" in text and bool(_SIZE.search(text)) and not _TIME_OR_WORK.search(text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TownSizeIntent(IntentOverrideRule):
    """See the module docstring."""

    TARGET = HOW_TO_JOIN
    RECORD_KEY = "town_size"
    OVERRIDDEN = ("myth_time", "myth_complexity", "ask_what_is_urbact", "greet", "help", "out_of_scope")

    def applies(self, message: Message) -> bool:
        return asks_if_size_matters(message)
