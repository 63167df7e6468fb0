"""Unit tests for actions/brochure/field_examples.py (no Rasa server: real rasa_sdk dispatcher and tracker)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest

from actions.brochure.field_examples import (
    CITY_KEYS,
    MENU_RESPONSE,
    ActionFieldExample,
    find_city_in_text,
    resolve_city,
)
from tests.conftest import build_tracker, run_action_once

ALL_KEYS = {
    "nantes",
    "val_de_marne",
    "strasbourg",
    "pays_des_condruses",
    "romans_sur_isere",
    "mouans_sartoux",
    "milan",
}


def city_entities(cities: Optional[List[Any]]) -> List[Dict[str, Any]]:
    return [
        {"entity": "city", "value": city, "start": 0, "end": 1, "extractor": "DIETClassifier"}
        for city in (cities or [])
    ]


def run_action(
    text: str, cities: Optional[List[Any]] = None, events_out: Optional[List[Any]] = None
) -> List[Dict[str, Any]]:
    tracker = build_tracker("ask_field_example", text=text, confidence=0.99, entities=city_entities(cities))
    outcome = asyncio.run(run_action_once(ActionFieldExample(), tracker))
    if events_out is None:
        assert outcome.events == []
    else:
        events_out.extend(outcome.events)
    return outcome.messages


def responses(messages: List[Dict[str, Any]]) -> List[Optional[str]]:
    return [message.get("response") for message in messages]


def test_name() -> None:
    assert ActionFieldExample().name() == "action_field_example"


def test_mapping_targets_exactly_the_seven_brochure_examples() -> None:
    assert set(CITY_KEYS.values()) == ALL_KEYS


@pytest.mark.parametrize(
    ("entity", "key"),
    [
        ("Nantes", "nantes"),
        ("Val-de-Marne", "val_de_marne"),
        ("Strasbourg", "strasbourg"),
        ("Pays des Condruses", "pays_des_condruses"),
        ("Romans-sur-Isère", "romans_sur_isere"),
        ("Mouans-Sartoux", "mouans_sartoux"),
        ("Milan", "milan"),
    ],
)
def test_each_city_entity_gives_its_own_example(entity: str, key: str) -> None:
    messages = run_action(f"qu'a fait {entity} avec URBACT ?", [entity])
    assert responses(messages) == [f"utter_example_{key}"]


ALIASES = {  # example key: what visitors type for the city (no accents, typos, other names)
    "nantes": ["nantess", "NANTES", "ville de Nantes"],
    "val_de_marne": ["val de marne", "Département du Val-de-Marne", "94"],
    "strasbourg": ["l'Eurométropole", "Eurometropole de Strasbourg", "strasbourgh"],
    "pays_des_condruses": ["condruses", "Condroz", "pays de condruse"],
    "romans_sur_isere": ["romans sur isere", "Romans", "Roman"],
    "mouans_sartoux": ["mouans", "mouans sartou"],
    "milan": ["Milano"],
}


@pytest.mark.parametrize(
    ("entity", "key"), [(entity, key) for key, typed in ALIASES.items() for entity in typed]
)
def test_unaccented_aliases_and_typos(entity: str, key: str) -> None:
    assert resolve_city(entity) == key
    assert responses(run_action(f"exemple de {entity}", [entity])) == [f"utter_example_{key}"]


def test_numeric_entity_value_from_payload() -> None:
    assert responses(run_action('/ask_field_example{"city": 94}', [94])) == ["utter_example_val_de_marne"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("qu'a fait Nantes avec URBACT ?", "nantes"),
        ("qu'a fait nantess avec urbact", "nantes"),
        ("et a romans sur isere ca a donne quoi", "romans_sur_isere"),
        ("l'experience du Val de Marne svp", "val_de_marne"),
        ("racontez moi mouans-sartoux", "mouans_sartoux"),
        ("le crowdfunding a Milan", "milan"),
        ("retour d'expérience du pays des condruses", "pays_des_condruses"),
        ("Strasbourg, qu'ont-ils fait ?", "strasbourg"),
    ],
)
def test_fuzzy_match_on_text_when_no_entity(text: str, key: str) -> None:
    assert responses(run_action(text)) == [f"utter_example_{key}"]


@pytest.mark.parametrize(
    "text",
    [
        "avez-vous des exemples de villes françaises ?",
        "quel bilan tirer d'un réseau ?",
        "des exemples concrets svp",
        "Mantes-la-Jolie a-t-elle participé ?",
        "94 villes ont participé à ce réseau",
        "un exemple de l'Eurométropole de Metz",
        "le roman de la ville",
        "",
    ],
)
def test_no_known_city_in_text_gives_menu_only(text: str) -> None:
    messages = run_action(text)
    assert responses(messages) == [MENU_RESPONSE]
    assert messages[0]["text"] is None


@pytest.mark.parametrize("city", ["Lyon", "Paris", "Mantes", "Bilan", "Eurométropole de Metz"])
def test_unknown_city_is_said_honestly_then_its_networks(city: str) -> None:
    assert resolve_city(city) is None
    events: List[Any] = []
    messages = run_action(f"qu'a fait {city} avec URBACT ?", [city], events)
    assert len(messages) == 1
    assert messages[0]["response"] is None
    assert city in messages[0]["text"]
    assert "ne présente pas" in messages[0]["text"]
    assert events == [{"event": "followup", "timestamp": None, "name": "action_city_networks"}]


def test_no_city_at_all_gives_menu() -> None:
    messages = run_action("avez-vous des retours d'expérience ?", [])
    assert responses(messages) == [MENU_RESPONSE]


def test_entity_wins_over_text() -> None:
    # DIET tagged Milan; the text also names Strasbourg: the entity decides.
    assert responses(run_action("Strasbourg s'est inspirée de Milan", ["Milan"])) == ["utter_example_milan"]


def test_two_cities_give_two_examples_without_duplicates() -> None:
    messages = run_action("Nantes et Romans", ["Nantes", "Romans", "nantes"])
    assert responses(messages) == ["utter_example_nantes", "utter_example_romans_sur_isere"]


def test_known_and_unknown_city_together() -> None:
    messages = run_action("Nantes et Lyon", ["Nantes", "Lyon"])
    assert messages[0]["response"] is None and "Lyon" in messages[0]["text"]
    assert responses(messages)[1:] == ["utter_example_nantes"]


def test_find_city_in_text_prefers_longest_alias() -> None:
    assert find_city_in_text("eurometropole de strasbourg") == "strasbourg"
    assert find_city_in_text("rien à voir") is None


def test_domain_has_one_response_per_city_and_a_complete_menu(domain: Dict[str, Any]) -> None:
    import json

    assert "action_field_example" in domain["actions"]
    responses_ = domain["responses"]
    for key in ALL_KEYS:
        assert f"utter_example_{key}" in responses_, key
    buttons = responses_[MENU_RESPONSE][0]["buttons"]
    menu_keys = set()
    for button in buttons:
        payload = button["payload"]
        assert payload.startswith("/ask_field_example{")
        city = json.loads(payload[len("/ask_field_example") :])["city"]
        menu_keys.add(resolve_city(city))
    assert menu_keys == ALL_KEYS


def test_a_follow_up_pointing_back_tells_the_example_of_the_place_of_the_conversation() -> None:
    def ask(text: str, slot: Any) -> List[Optional[str]]:
        tracker = build_tracker("ask_field_example", text=text, slots={"city": slot})
        return responses(asyncio.run(run_action_once(ActionFieldExample(), tracker)).messages)

    assert ask("et leur groupe local, ca s'est bien passe ?", "Romans-sur-Isère") == ["utter_example_romans_sur_isere"]
    assert ask("ils ont fait quoi pour la suite ?", "Val-de-Marne") == ["utter_example_val_de_marne"]
    # without a word pointing back, or with a place the brochure does not tell: the menu
    assert ask("vous avez un exemple de terrain ?", "Nantes") == [MENU_RESPONSE]
    assert ask("et leur groupe local ?", "Grenoble") == [MENU_RESPONSE]
    assert ask("et leur groupe local ?", "x" * 500) == [MENU_RESPONSE]
