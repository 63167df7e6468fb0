"""A message about a call of a given year is about that call, not about URBACT in general."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.named_call import NamedCallIntent


def understood(text: str, intent: str, entities: List[Dict[str, Any]] = ()) -> str:  # type: ignore[assignment]
    ranking = [{"name": intent, "confidence": 0.5}, {"name": "ask_last_call", "confidence": 0.2}]
    message = Message({TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking, ENTITIES: list(entities)})
    return str(NamedCallIntent({}).process([message])[0].get(INTENT)["name"])


YEAR = [{"entity": "year", "value": "2023", "start": 0, "end": 4}]


def test_a_dated_call_under_a_generic_topic_is_a_call_question() -> None:
    assert understood("l'appel urbact de 2023, combien de partenaires et quel budget ?", "ask_funding_programme", YEAR) \
        == "ask_last_call"
    assert understood("un appel en 2026 pour tester des actions, c'est quoi ?", "ask_what_is_urbact") == "ask_last_call"


def test_without_a_call_or_a_year_or_under_a_specific_topic_nothing_changes() -> None:
    assert understood("le budget d'urbact en 2023 ?", "ask_funding_programme", YEAR) == "ask_funding_programme"
    assert understood("comment on candidate a un appel ?", "ask_how_to_join") == "ask_how_to_join"
    assert understood("l'appel de 2023 ca me fait peur, trop complique", "myth_complexity", YEAR) == "myth_complexity"
