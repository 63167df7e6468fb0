"""Field examples ("zoom sur le terrain") from the French URBACT brochure, one response per city.

`action_field_example` reads the `city` entity of the latest user message (or, when DIET
found none, looks for a known city name in the message text, tolerating typos) and utters
`utter_example_<key>`. With no city, it shows `utter_example_menu`; with a city the brochure
does not cover, it says so and hands over to `action_city_networks`, which lists the
networks of that city in the knowledge base.
"""

from __future__ import annotations

from typing import Any, Dict, Final, List, Optional, Text

from rapidfuzz import fuzz
from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from common.text import POINTS_BACK, fold, normalise_name

# Normalised alias (see common.text.normalise_name) -> key of the `utter_example_<key>` response.
CITY_KEYS: Final[Dict[str, str]] = {
    "nantes": "nantes",
    "nantes metropole": "nantes",
    "ville de nantes": "nantes",
    "val de marne": "val_de_marne",
    "departement du val de marne": "val_de_marne",
    "valdemarne": "val_de_marne",
    "94": "val_de_marne",
    "strasbourg": "strasbourg",
    "eurometropole de strasbourg": "strasbourg",
    "eurometropole": "strasbourg",
    "pays des condruses": "pays_des_condruses",
    "pays de condruses": "pays_des_condruses",
    "condruses": "pays_des_condruses",
    "condroz": "pays_des_condruses",
    "romans sur isere": "romans_sur_isere",
    "romans": "romans_sur_isere",
    "mouans sartoux": "mouans_sartoux",
    "mouans": "mouans_sartoux",
    "milan": "milan",
    "milano": "milan",
}

# Aliases too generic to be searched inside a longer text or fuzzily: they only count when
# they are the whole entity value ("94", but not "94 villes"; "Eurométropole", but not
# "Eurométropole de Metz").
EXACT_ONLY: Final[frozenset[str]] = frozenset({"94", "eurometropole"})

MAX_SLOT_CHARS: Final[int] = 100

RESPONSE_PREFIX: Final[str] = "utter_example_"
MENU_RESPONSE: Final[str] = "utter_example_menu"


def _threshold(alias: str, in_free_text: bool) -> float:
    """Minimum rapidfuzz ratio for an alias.

    Short names need a closer match ("bilan" is not "milan"). In free text, a short alias missing
    a letter is refused too ("roman" is a French word, not Romans), while one extra letter
    ("nantess") is still accepted; an entity value already tagged as a city gets more leeway.
    """
    if len(alias) <= 6:
        return 91.0 if in_free_text else 90.0
    return 85.0


def find_city_in_text(text: str, in_free_text: bool = True) -> Optional[str]:
    """Key of the best known city written in `text` (any case, accents or small typos), or None."""
    tokens = normalise_name(text).split()
    best: Optional[tuple[float, int, str]] = None
    for alias, key in CITY_KEYS.items():
        if alias in EXACT_ONLY:
            continue
        width = len(alias.split())
        for start in range(len(tokens) - width + 1):
            window = " ".join(tokens[start : start + width])
            score = fuzz.ratio(window, alias)
            if score < _threshold(alias, in_free_text):
                continue
            candidate = (score, len(alias), key)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    return best[2] if best else None


def resolve_city(value: Any) -> Optional[str]:
    """Key of the example matching an entity value ("Romans-sur-Isere", "nantess"), or None."""
    normalised = normalise_name(str(value))
    if not normalised:
        return None
    if normalised in CITY_KEYS:
        return CITY_KEYS[normalised]
    return find_city_in_text(normalised, in_free_text=False)


def unknown_city_text(names: List[str], networks_follow: bool = False) -> str:
    """Honest message for cities the brochure says nothing about."""
    text = f"Le guide URBACT ne présente pas de retour d'expérience pour {', '.join(names)}."
    return text + (" Voici ce que ma base sait de ses réseaux :" if networks_follow else "")


class ActionFieldExample(Action):
    """Tell the field example of the city the user asked about, or list the available ones."""

    def name(self) -> Text:
        return "action_field_example"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Dict[Text, Any]]:
        values: List[str] = []
        for value in tracker.get_latest_entity_values("city"):
            text = str(value).strip()
            if text and text not in values:
                values.append(text)

        keys: List[str] = []
        unknown: List[str] = []
        if values:
            for value in values:
                key = resolve_city(value)
                if key is None:
                    unknown.append(value)
                elif key not in keys:
                    keys.append(key)
        else:
            text = tracker.latest_message.get("text") or ""
            key = find_city_in_text(text)
            if key is None and POINTS_BACK.search(fold(text)):
                # "et leur groupe local, ça s'est bien passé ?": the place of the conversation
                slot = tracker.get_slot("city")
                key = resolve_city(slot) if isinstance(slot, str) and len(slot) <= MAX_SLOT_CHARS else None
            if key is not None:
                keys.append(key)

        if unknown and not keys:
            # "Grenoble a-t-elle fait un réseau ?": the networks of the knowledge base answer it.
            dispatcher.utter_message(text=unknown_city_text(unknown, networks_follow=True))
            return [FollowupAction("action_city_networks")]
        if unknown:
            dispatcher.utter_message(text=unknown_city_text(unknown))
        for key in keys:
            dispatcher.utter_message(response=f"{RESPONSE_PREFIX}{key}")
        if not keys:
            dispatcher.utter_message(response=MENU_RESPONSE)
        return []
