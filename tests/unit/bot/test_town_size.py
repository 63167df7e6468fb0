"""A question on the town's size asks who may apply, not the time myth."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.town_size import TownSizeIntent


def understood(text: str, intent: str) -> str:
    ranking = [{"name": intent, "confidence": 0.75}]
    message = Message({TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking})
    return str(TownSizeIntent({}).process([message])[0].get(INTENT)["name"])


def test_a_question_on_the_size_of_the_town_is_about_who_may_apply() -> None:
    assert understood("mairie de 2800 habitants dans le jura, est ce qu'on est trop petits pour urbact ?",
                      "myth_time") == "ask_how_to_join"
    assert understood("bonjour, petite commune rurale ici, c'est pour nous aussi ?", "greet") == "ask_how_to_join"


def test_time_or_workload_or_a_statement_stays_the_myth() -> None:
    assert understood("on est une petite commune, on n'a pas le temps pour ca ?", "myth_time") == "myth_time"
    assert understood("on est trop petits, 3 agents pour tout faire", "myth_time") == "myth_time"
    assert understood("nos partenaires sont trop differents, on est trop petits ?", "myth_too_different") \
        == "myth_too_different"
