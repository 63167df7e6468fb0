"""What a database question is about: untagged names, the named entity over the intent, follow-ups without a name, leads by country."""

from __future__ import annotations

import json

import pytest

from actions.kb.networks import (
    ActionCityNetworks,
    ActionInform,
    ActionNetworkDetails,
    ActionNetworkLead,
    ActionNetworkPartners,
    ActionSearchNetworks,
)
from actions.kb.normalize import looks_like_name, residual_name


@pytest.mark.parametrize(
    "text, expected",
    [
        ("dans quels reseaux est Triffouillis-les-Oies ?", "Triffouillis-les-Oies"),
        ("Parlez-moi du réseau SuperVilles", "SuperVilles"),
        ("qu'a fait l'Eurométropole", "Eurométropole"),
        ("quelles sont les autres villes du réseau ?", None),
        ("dans quels réseaux est-elle ?", None),
        ("Et ce réseau, qui en fait partie ?", None),
        ('/ask_city_networks{"city": "Nantes"}', None),
        ("", None),
    ],
)
def test_residual_name(text: str, expected: object) -> None:
    assert residual_name(text) == expected


async def test_untagged_unknown_city_is_not_replaced_by_the_slot(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionCityNetworks(repositories), "ask_city_networks",
        slots={"city": "Nantes"}, text="dans quels reseaux est Triffouillis-les-Oies ?",
    )
    assert "« Triffouillis-les-Oies » ne figure pas" in result.text
    assert "Nantes" not in result.text.split("\n")[0]


async def test_untagged_known_city_with_a_typo_is_found(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionCityNetworks(repositories), "ask_city_networks", text="dans quels réseaux est Mouans Sartou ?"
    )
    assert "Mouans-Sartoux" in result.text
    assert "Eat4Climate" in result.text


async def test_question_without_a_name_still_uses_the_context(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionCityNetworks(repositories), "ask_city_networks",
        slots={"city": "Mouans-Sartoux"}, text="dans quels réseaux est-elle ?",
    )
    assert "Mouans-Sartoux" in result.text


async def test_untagged_unknown_network(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionNetworkDetails(repositories), "ask_network_details",
        slots={"network": "BoostInno"}, text="Parlez-moi du réseau SuperVilles",
    )
    assert "« SuperVilles » ne figure pas" in result.text


@pytest.mark.parametrize(
    "residual, text, expected",
    [
        ("Triffouillis-les-Oies", "dans quels reseaux est Triffouillis-les-Oies ?", True),
        ("triffouillis-les-oies", "et triffouillis-les-oies ?", True),
        ("pontarlier", "et pontarlier (25) ?", True),
        ("SuperVilles", "Parlez-moi du réseau SuperVilles", True),
        ("pilotait", "qui pilotait ce reseau ?", False),
        ("continue apres", "et ils ont continue apres ?", False),
        ("saint etienne", "saint etienne dans urbact ?", True),
        ("st quentin", "et st quentin ?", True),
        ("stade", "le stade municipal ?", False),
    ],
)
def test_looks_like_name(residual: str, text: str, expected: bool) -> None:
    assert looks_like_name(residual, text) is expected


async def test_a_lower_case_follow_up_uses_the_conversation_s_network(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionNetworkLead(repositories), "ask_network_lead",
        slots={"network": "BoostInno"}, text="qui pilotait ce reseau ?",
    )
    assert "pilotait" not in result.text
    assert "BoostInno" in result.text


async def test_a_lower_case_follow_up_without_context_asks_which_network(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionNetworkLead(repositories), "ask_network_lead", text="c'est quelle ville qui a lance ca ?")
    assert "lance" not in result.text
    assert "De quel réseau parlez-vous ?" in result.text


async def test_a_network_named_under_the_city_intent_gets_its_details(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionCityNetworks(repositories), "ask_city_networks",
        entities=[{"entity": "network", "value": "BoostInno"}], text="boostinno c'etait quoi ?",
    )
    assert "ne figure pas" not in result.text
    assert "BoostInno" in result.text


async def test_a_city_named_under_the_network_intent_gets_its_networks(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionNetworkDetails(repositories), "ask_network_details",
        entities=[{"entity": "city", "value": "Mouans-Sartoux"}], text="et mouans sartoux c'etait quoi ?",
    )
    assert "Eat4Climate" in result.text


async def test_a_search_naming_only_a_network_gets_its_details(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionSearchNetworks(repositories), "search_networks",
        entities=[{"entity": "network", "value": "BioCanteens"}], text="le reseau biocanteens, sur les cantines",
    )
    assert "Je peux chercher" not in result.text
    assert "BioCanteens" in result.text


async def test_a_search_without_criteria_after_a_search_repeats_it(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionSearchNetworks(repositories), "search_networks",
        slots={"last_query": '{"a":"search","f":{"theme":"jeunesse"},"o":0}'},
        text="il y a deja eu des reseaux la dessus ?",
    )
    assert "Je peux chercher" not in result.text
    assert "Jeunesse" in result.text or "jeunesse" in result.text


async def test_a_search_without_criteria_nor_context_asks_for_one(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionSearchNetworks(repositories), "search_networks", text="y a un reseau ?")
    assert "Je peux chercher" in result.text


async def test_a_country_with_lead_words_searches_networks_led_from_there(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionSearchNetworks(repositories), "search_networks",
        entities=[{"entity": "country", "value": "France"}], text="des villes francaises chefs de file ?",
    )
    assert "dont le chef de file est en France" in result.text
    assert json.loads(result.slots["last_query"])["f"] == {"lead_country": "FR"}


async def test_a_lead_question_naming_only_a_country_lists_the_networks_led_from_there(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionNetworkLead(repositories), "ask_network_lead",
        entities=[{"entity": "country", "value": "France"}], text="quelles villes francaises pilotent un reseau ?",
    )
    assert "dont le chef de file est en France" in result.text
    assert "Mouans-Sartoux" in result.text  # Eat4Climate, led from Mouans-Sartoux


async def test_a_lead_question_with_a_country_inside_a_network_conversation_stays_on_it(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionNetworkLead(repositories), "ask_network_lead",
        entities=[{"entity": "country", "value": "France"}],
        slots={"last_query": '{"a":"details","n":"biocanteens","o":0}'}, text="et le chef de file, en france ?",
    )
    assert "dont le chef de file est" not in result.text
    assert "BioCanteens" in result.text


async def test_a_city_question_about_leads_of_a_country_lists_the_networks_led_from_there(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionCityNetworks(repositories), "ask_city_networks",
        entities=[{"entity": "country", "value": "France"}], text="quelles villes francaises pilotent un reseau ?",
    )
    assert "dont le chef de file est en France" in result.text


async def test_an_untagged_town_after_a_town_s_networks_is_looked_up(repositories, ask):  # type: ignore[no-untyped-def]
    last = {"last_query": '{"a":"city","c":"nantes","o":0}'}
    unknown = await ask(ActionInform(repositories), "inform", slots=last, text="et villeurbanne ?")
    assert "« villeurbanne » ne figure pas" in unknown.text
    known = await ask(ActionInform(repositories), "inform", slots=last, text="et mouans sartou ?")
    assert "Eat4Climate" in known.text


async def test_an_untagged_word_without_a_town_before_still_asks_to_specify(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionInform(repositories), "inform", text="et villeurbanne ?")
    assert "Pouvez-vous préciser" in result.text


async def test_a_search_naming_a_network_and_other_criteria_gets_the_network(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionSearchNetworks(repositories), "search_networks",
        entities=[{"entity": "network", "value": "BioCanteens"}, {"entity": "theme", "value": "alimentation"}],
        text="biocanteens, un reseau sur les cantines, vous connaissez ?",
    )
    assert "J'ai trouvé" not in result.text
    assert "BioCanteens" in result.text


SEARCH_FOOD = {"last_query": '{"a":"search","f":{"theme":"alimentation"},"o":0}'}


async def test_a_year_singles_out_a_network_of_the_last_list(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionNetworkPartners(repositories), "ask_network_partners", entities=[{"entity": "year", "value": "2015"}],
        slots=SEARCH_FOOD, text="celui qui a demarre en 2015, il regroupait quelles villes ?",
    )
    assert "AGRI-URBAN" in result.text and "De quel réseau" not in result.text


async def test_a_town_singles_out_a_network_of_the_last_list(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionNetworkLead(repositories), "ask_network_lead", entities=[{"entity": "city", "value": "Baena"}],
        slots=SEARCH_FOOD, text="et celui ou il y avait baena, qui le pilotait ?",
    )
    assert result.text.startswith("Le chef de file d'AGRI-URBAN est Baena")


async def test_criteria_that_leave_several_networks_still_ask_which(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionNetworkLead(repositories), "ask_network_lead", entities=[{"entity": "city", "value": "Mouans-Sartoux"}],
        slots=SEARCH_FOOD, text="et celui avec mouans sartoux, qui le pilotait ?",
    )
    assert "Mouans-Sartoux est chef de file de" in result.text  # the town's own lead roles
