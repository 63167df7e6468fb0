"""A message naming a known network is about it, whatever generic topic its words suggest."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.named_network import NamedNetworkIntent


def parsed(intent: str, entities: List[Dict[str, Any]]) -> Message:
    ranking = [{"name": intent, "confidence": 0.74}, {"name": "ask_network_details", "confidence": 0.1}]
    return Message({TEXT: "x", INTENT: ranking[0], INTENT_RANKING_KEY: ranking, ENTITIES: entities})


def known(entity: str, value: str) -> Dict[str, Any]:
    return {"entity": entity, "value": value, "start": 0, "end": 1, "extractor": "KnowledgeBaseEntityExtractor"}


def understood(intent: str, entities: List[Dict[str, Any]]) -> str:
    return str(NamedNetworkIntent({}).process([parsed(intent, entities)])[0].get(INTENT)["name"])


def test_a_known_network_under_a_generic_topic_gets_its_details() -> None:
    assert understood("ask_what_is_urbact", [known("network", "C-CHANGE"), known("city", "Manchester")]) \
        == "ask_network_details"
    assert understood("ask_history", [known("network", "Resilient Europe")]) == "ask_network_details"


def test_intents_that_use_the_network_are_kept() -> None:
    assert understood("ask_network_lead", [known("network", "REFILL")]) == "ask_network_lead"
    assert understood("search_networks", [known("network", "REFILL")]) == "search_networks"
    assert understood("myth_english", [known("network", "REFILL")]) == "myth_english"


def test_a_guessed_network_or_another_name_changes_nothing() -> None:
    guessed = {"entity": "network", "value": "Zorglub", "start": 0, "end": 1, "extractor": "StoredCRFEntityExtractor"}
    assert understood("ask_what_is_urbact", [guessed]) == "ask_what_is_urbact"
    assert understood("ask_what_is_urbact", [known("city", "Lyon")]) == "ask_what_is_urbact"
