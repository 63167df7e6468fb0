"""A question on what a known town took part in asks for its networks, even said with context."""

from __future__ import annotations

from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.named_city import NamedCityIntent


def understood(text: str, intent: str, extractor: str = "KnowledgeBaseEntityExtractor", confidence: float = 0.75) -> str:
    town = {"entity": "city", "value": "Nevers", "start": 0, "end": 6, "extractor": extractor}
    ranking = [{"name": intent, "confidence": confidence}]
    message = Message({TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking, ENTITIES: [town]})
    return str(NamedCityIntent({}).process([message])[0].get(INTENT)["name"])


def test_a_known_town_that_took_part_gets_its_networks() -> None:
    text = "nevers (58), on m'a dit qu'on avait deja fait un truc urbact il y a qq annees, vous avez une trace ?"
    assert understood(text, "myth_time") == "ask_city_networks"
    assert understood("nevers, je dois faire une note sur notre reseau urbact, c'est quoi ?",
                      "ask_what_is_urbact") == "ask_city_networks"


def test_a_town_in_another_question_or_a_guessed_town_is_left_alone() -> None:
    assert understood("nevers (58) : on candidate ou pour urbact ?", "ask_how_to_join") == "ask_how_to_join"
    assert understood("nevers, c'est quoi urbact ?", "ask_what_is_urbact") == "ask_what_is_urbact"
    assert understood("nevers a deja fait un reseau ?", "myth_time", extractor="StoredCRFEntityExtractor") == "myth_time"
