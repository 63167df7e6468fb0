"""A question on what a place of the brochure's field examples did asks for that example."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.named_example import NamedExampleIntent


def understood(text: str, intent: str, confidence: float = 0.75) -> str:
    ranking = [{"name": intent, "confidence": confidence}]
    message = Message({TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking})
    return str(NamedExampleIntent({}).process([message])[0].get(INTENT)["name"])


def test_what_an_example_place_did_is_its_field_example() -> None:
    assert understood("a romans ils ont fait comment ?", "ask_city_networks") == "ask_field_example"
    assert understood("mouans sartoux dans agri urban, ils avaient fait quoi pour faire connaitre le reseau ?",
                      "ask_network_details") == "ask_field_example"
    assert understood("le val-de-marne, leur groupe local ca a donne quoi ?", "ulg_what") == "ask_field_example"


def test_which_networks_or_another_place_or_a_precise_topic_is_left_alone() -> None:
    assert understood("nantes a fait quels reseaux ?", "ask_city_networks") == "ask_city_networks"
    assert understood("grenoble ils ont fait comment ?", "ask_city_networks") == "ask_city_networks"
    assert understood("a nantes comment on contacte le point national ?", "ask_contact_point") == "ask_contact_point"
