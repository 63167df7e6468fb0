"""Network actions on the SQL repository, seeded from data/kb (tests/unit/actions/conftest.py)."""

from __future__ import annotations

import json
import logging
import re

import pytest

from actions.db.errors import RepositoryTimeout, RepositoryUnavailable
from actions.kb.action import DB_UNAVAILABLE_TEXT
from actions.kb.networks import (
    ActionCityNetworks,
    ActionInform,
    ActionNetworkDetails,
    ActionNetworkLead,
    ActionNetworkPartners,
    ActionSearchNetworks,
)
from actions.kb.repository import SqlRepository

pytestmark = pytest.mark.asyncio

LIST_LINE = re.compile(r"^• ", re.M)


def bullets(text: str) -> int:
    return len(LIST_LINE.findall(text))


async def test_search_by_theme_youth(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionSearchNetworks(repositories), "search_networks", [("theme", "jeunesse")])
    assert "Gen-Y City" in result.text
    assert "ONSTAGE" in result.text
    assert "Jeunesse et enfance" in result.text
    assert bullets(result.text) <= 5
    assert result.slots["theme"] == "Jeunesse et enfance"
    assert json.loads(result.slots["last_query"]) == {"a": "search", "f": {"theme": "jeunesse"}, "o": 0}


async def test_search_urbact_iv_with_a_french_city(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionSearchNetworks(repositories),
        "search_networks",
        [("programme", "URBACT IV"), ("country", "française")],
    )
    for name in ("Eat4Climate", "SHIFT-R", "Breaking Isolation", "Beyond the Urban", "DIGI-INCLUSION"):
        assert name in result.text
    assert "BoostInno" not in result.text  # URBACT III
    assert bullets(result.text) == 5
    assert "https://urbact.eu/all-networks" in result.text
    assert result.slots["programme"] == "URBACT IV" and result.slots["country"] == "France"


async def test_long_list_is_paged_with_a_validated_more_button(repositories, ask):  # type: ignore[no-untyped-def]
    search = await ask(ActionSearchNetworks(repositories), "search_networks", [("network_type", "transfert")])
    assert bullets(search.text) == 5
    assert re.search(r"… et \d+ autres\.", search.text)
    more = [b for b in search.buttons if b["title"] == "Voir la suite"]
    assert more and more[0]["payload"] == '/inform{"results_offset":5}'

    page2 = await ask(ActionInform(repositories), "inform", [("results_offset", 5)], search.slots)
    assert "Suite des réseaux de transfert (6-10 sur" in page2.text
    first_page = set(re.findall(r"^• (.+?) \(", search.text, re.M))
    second_page = set(re.findall(r"^• (.+?) \(", page2.text, re.M))
    assert first_page and second_page and not first_page & second_page
    assert json.loads(page2.slots["last_query"])["o"] == 5


async def test_combined_search_with_no_result_drops_the_least_telling_criterion(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionSearchNetworks(repositories), "search_networks", [("theme", "mobilité"), ("network_type", "transfert")]
    )
    assert "Ma base ne contient aucun réseau de transfert" in result.text
    assert "réseaux sur le thème « Mobilité et transports » :" in result.text  # the theme alone
    assert json.loads(result.slots["last_query"])["f"] == {"theme": "mobilite"}


async def test_combined_search_with_no_result_on_theme_and_town_offers_to_relax(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionSearchNetworks(repositories), "search_networks", [("theme", "mobilité"), ("city", "Mouans-Sartoux")]
    )
    assert "Ma base ne contient aucun réseau" in result.text
    payloads = [b["payload"] for b in result.buttons]
    assert '/search_networks{"theme":"Mobilité et transports"}' in payloads


async def test_search_without_criteria_asks_for_one(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionSearchNetworks(repositories), "search_networks")
    assert "Quel critère" in result.text
    assert result.buttons


async def test_city_networks_with_a_typo(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "mouans sartou")])
    assert result.text.startswith("Mouans-Sartoux (France) participe à 4 réseaux")
    for name in ("AGRI-URBAN", "BioCanteens", "BioCanteens#2", "Eat4Climate"):
        assert name in result.text
    assert "chef de file" in result.text
    assert result.slots["city"] == "Mouans-Sartoux"


async def test_city_alias_romans(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "romans")])
    assert "Romans-sur-Isère" in result.text and "RetaiLink" in result.text
    assert result.slots["network"] == "RetaiLink"  # single network: ready for "les autres villes ?"


async def test_unknown_city_is_reported_honestly(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Bordeaux")])
    assert "« Bordeaux » ne figure pas" in result.text
    assert "aucun réseau" in result.text  # the question was "have they taken part?": say no network was found
    assert len(result.buttons) <= 3
    assert result.slots == {"city": None}


async def test_ambiguous_city_gives_suggestion_buttons(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Santa")])
    assert "« Santa » ne figure pas" in result.text
    assert 2 <= len(result.buttons) <= 3
    assert all(b["payload"].startswith('/ask_city_networks{"city":') for b in result.buttons)
    assert '/ask_city_networks{"city":"Santa Maria da Feira"}' in [b["payload"] for b in result.buttons]


async def test_city_without_known_network(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Meylan")])
    assert "aucun réseau renseigné pour Meylan" in result.text


async def test_city_see_also(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Nantes")])
    assert "Gen-Y City" in result.text and "REFILL" in result.text
    assert '/ask_city_networks{"city":"Nantes Métropole"}' in [b["payload"] for b in result.buttons]


async def test_network_details_with_fuzzy_name(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionNetworkDetails(repositories), "ask_network_details", [("network", "boost inno")])
    assert result.text.startswith("BoostInno : réseau de planification d'action URBACT III")
    assert "Gdańsk (Pologne)" in result.text
    assert "Paris et Strasbourg en France" in result.text
    assert "https://urbact.eu/node/766" in result.text
    assert result.slots["network"] == "BoostInno"


async def test_partial_record_is_flagged(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionNetworkDetails(repositories), "ask_network_details", [("network", "COPE")])
    assert "Fiche incomplète" in result.text
    assert "non renseigné" in result.text


async def test_network_lead(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionNetworkLead(repositories), "ask_network_lead", [("network", "Eat4Climate")])
    assert result.text.startswith("Le chef de file d'Eat4Climate est Mouans-Sartoux (France).")


async def test_network_partners_lists_lead_first_then_french(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionNetworkPartners(repositories), "ask_network_partners", [("network", "BoostInno")])
    lines = LIST_LINE.split(result.text)
    assert "Gdańsk (Pologne) – chef de file" in lines[1]
    assert lines[2].startswith("Paris (France)") and lines[3].startswith("Strasbourg (France)")
    assert "… et 5 autres." in result.text


async def test_other_cities_of_the_network_follow_up(repositories, ask):  # type: ignore[no-untyped-def]
    city = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Romans-sur-Isère")])
    result = await ask(ActionNetworkPartners(repositories), "ask_network_partners", [], city.slots)
    assert result.text.startswith("Avec Romans-sur-Isère dans RetaiLink")
    assert "Igualada (Espagne) – chef de file" in result.text
    assert "Romans-sur-Isère (France)" not in result.text


async def test_other_cities_when_the_city_has_several_networks_asks_which(repositories, ask):  # type: ignore[no-untyped-def]
    city = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Mouans-Sartoux")])
    result = await ask(ActionNetworkPartners(repositories), "ask_network_partners", [], city.slots)
    assert "De quel réseau parlez-vous ?" in result.text
    assert len(result.buttons) == 4


async def test_inform_reruns_city_query_with_new_city(repositories, ask):  # type: ignore[no-untyped-def]
    first = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Mouans-Sartoux")])
    result = await ask(ActionInform(repositories), "inform", [("city", "Lyon")], first.slots)
    assert result.text.startswith("Lyon (France) participe à 1 réseau")
    assert "URBinclusion" in result.text


async def test_inform_adds_a_filter_to_the_last_search(repositories, ask):  # type: ignore[no-untyped-def]
    first = await ask(ActionSearchNetworks(repositories), "search_networks", [("programme", "URBACT IV")])
    result = await ask(ActionInform(repositories), "inform", [("theme", "alimentation")], first.slots)
    assert "Eat4Climate" in result.text
    assert json.loads(result.slots["last_query"])["f"] == {"programme": "URBACT IV", "theme": "alimentation"}


async def test_inform_replaces_the_network_of_the_last_question(repositories, ask):  # type: ignore[no-untyped-def]
    first = await ask(ActionNetworkLead(repositories), "ask_network_lead", [("network", "Eat4Climate")])
    result = await ask(ActionInform(repositories), "inform", [("network", "BioCanteens")], first.slots)
    assert result.text.startswith("Le chef de file de BioCanteens est Mouans-Sartoux")


async def test_inform_without_context_uses_the_entity_type(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionInform(repositories), "inform", [("city", "Strasbourg")])
    assert result.text.startswith("Strasbourg (France) participe à 1 réseau")


async def test_inform_unknown_value(repositories, ask):  # type: ignore[no-untyped-def]
    first = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Nantes")])
    result = await ask(ActionInform(repositories), "inform", [("city", "Nancy")], first.slots)
    assert "« Nancy » ne figure pas" in result.text


@pytest.mark.parametrize(
    "value",
    ["x" * 10_000, {"$gt": ""}, ["Lyon", "Paris"], "Lyon\u0000", "'; DROP TABLE cities; --", 12.5],
)
async def test_injected_city_values_are_rejected(value, repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", value)])
    assert "participe à" not in result.text
    assert len(result.text) < 400  # the raw value is never echoed when invalid or huge
    assert result.slots.get("city") is None


@pytest.mark.parametrize("offset", [-5, "abc", 1e12, {"o": 1}, "5; DROP TABLE networks"])
async def test_injected_offsets_are_rejected(offset, repositories, ask):  # type: ignore[no-untyped-def]
    search = await ask(ActionSearchNetworks(repositories), "search_networks", [("network_type", "transfert")])
    result = await ask(ActionInform(repositories), "inform", [("results_offset", offset)], search.slots)
    assert "Suite des" not in result.text
    assert "Je n'ai pas pu lire la page demandée" in result.text


async def test_injected_year_and_type_are_not_used_as_filters(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionSearchNetworks(repositories), "search_networks", [("year", "2019 OR 1=1"), ("theme", "jeunesse")]
    )
    assert "Gen-Y City" not in result.text  # the bad year is reported, nothing is searched
    assert "« 2019 OR 1=1 » ne figure pas" in result.text


@pytest.mark.parametrize(
    "last_query",
    [
        '{"a":"search","f":{"city":"x\' OR 1=1"},"o":0}',
        '{"a":"drop","f":{}}',
        '{"a":"partners","n":"not-a-network"}',
        "not json",
        '{"a":"search","f":{"theme":"jeunesse"},"o":0}' + " " * 2000,
        '["a"]',
    ],
)
async def test_tampered_last_query_is_ignored(last_query, repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionInform(repositories), "inform", [("results_offset", 5)], {"last_query": last_query}
    )
    assert "Je n'ai pas de liste en cours" in result.text


async def test_tampered_network_slot_is_not_trusted(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionNetworkPartners(repositories), "ask_network_partners", [], {"network": "<script>alert(1)</script>"}
    )
    assert "De quel réseau parlez-vous ?" in result.text


async def test_database_unavailable_gives_a_french_apology_and_logs(caplog, ask, failing_factory):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.ERROR)
    action = ActionCityNetworks(failing_factory(RepositoryUnavailable("connection refused")))
    result = await ask(action, "ask_city_networks", [("city", "Nantes")])
    assert result.text == DB_UNAVAILABLE_TEXT
    assert result.text.startswith("La base des réseaux ne répond pas pour le moment")
    assert result.events == []
    assert any("knowledge base unavailable" in r.getMessage() and "action_city_networks" in r.getMessage()
               for r in caplog.records)


async def test_timeout_in_the_middle_of_an_answer_sends_no_partial_answer(monkeypatch, repositories, ask):  # type: ignore[no-untyped-def]
    async def slow(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RepositoryTimeout("get_city: no answer within 2 s")

    monkeypatch.setattr(SqlRepository, "get_city", slow)
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Nantes")])
    assert result.messages == [{"text": DB_UNAVAILABLE_TEXT, "buttons": [], "elements": [], "custom": {},
                                "template": None, "response": None, "image": None, "attachment": None}] or \
        [m["text"] for m in result.messages] == [DB_UNAVAILABLE_TEXT]
    assert result.events == []


async def test_unexpected_error_is_contained(monkeypatch, repositories, ask):  # type: ignore[no-untyped-def]
    async def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise KeyError("bug")

    monkeypatch.setattr(SqlRepository, "search_networks", broken)
    result = await ask(ActionSearchNetworks(repositories), "search_networks", [("theme", "jeunesse")])
    assert "Je n'arrive pas à répondre" in result.text
    assert result.events == []


async def test_the_nth_network_of_the_last_list(repositories, ask):  # type: ignore[no-untyped-def]
    city = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Mouans-Sartoux")])
    listed = re.findall(r"^• ([^(]+?) \(", city.text, re.M)
    second = await ask(ActionNetworkDetails(repositories), "ask_network_details", [], city.slots,
                              text="le deuxieme il parle de quoi ?")
    assert second.text.startswith(f"{listed[1]} :")
    lead = await ask(ActionNetworkLead(repositories), "ask_network_lead", [], city.slots,
                            text="qui est chef de file du premier ?")
    assert lead.text.startswith(f"Le chef de file {'de ' if listed[0][0] not in 'AEIOUÉ' else 'd’'}") or listed[0] in lead.text
    assert "premier" not in lead.text


async def test_an_ordinal_without_a_list_asks_which_network(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionNetworkLead(repositories), "ask_network_lead", [], {},
                              text="qui est chef de file du premier ?")
    assert "De quel réseau parlez-vous ?" in result.text and "premier" not in result.text


async def test_cities_of_a_country_are_named(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("country", "polonaises")])
    assert "Pologne" in result.text and "– avec " in result.text
    assert any(name in result.text for name in ("Poznań", "Gdańsk", "Katowice", "Lublin", "Białystok"))
    partners = await ask(ActionNetworkPartners(repositories), "ask_network_partners", [("country", "belges")])
    assert "Belgique" in partners.text and "– avec " in partners.text


async def test_which_networks_after_the_cities_of_a_country(repositories, ask):  # type: ignore[no-untyped-def]
    first = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("country", "polonaises")])
    again = await ask(ActionCityNetworks(repositories), "ask_city_networks", slots=first.slots, text="dans quels reseaux ?")
    assert "Pologne" in again.text and "Quelle ville" not in again.text
    assert first.text.split("\n")[1] in again.text  # the same networks, not a request for a town


async def test_who_else_in_a_country_after_a_network(repositories, ask):  # type: ignore[no-untyped-def]
    first = await ask(ActionNetworkDetails(repositories), "ask_network_details", [("network", "BioCanteens")])
    result = await ask(ActionInform(repositories), "inform", [("country", "France")], first.slots,
                              text="qui d'autre en france ?")
    assert result.text.startswith("Dans BioCanteens, ma base compte") and "Mouans-Sartoux (chef de file)" in result.text


async def test_which_network_the_last_city_leads(repositories, ask):  # type: ignore[no-untyped-def]
    city = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Mouans-Sartoux")])
    result = await ask(ActionNetworkLead(repositories), "ask_network_lead", [], city.slots,
                              text="lequel elle pilote ?")
    assert result.text.startswith("Mouans-Sartoux est chef de file de") and "BioCanteens" in result.text


async def test_networks_led_by_a_named_city(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionNetworkLead(repositories), "ask_network_lead", [("city", "agen")],
                              text="agen elle pilote quoi ?")
    assert result.text.startswith("Agen est chef de file de") and "agen" not in result.text.split("\n")[0][1:].lower().replace("agen est", "")


async def test_french_partners_of_the_last_network(repositories, ask):  # type: ignore[no-untyped-def]
    first = await ask(ActionNetworkDetails(repositories), "ask_network_details", [("network", "BioCanteens")])
    result = await ask(ActionNetworkPartners(repositories), "ask_network_partners", [("country", "France")],
                              first.slots, text="y a des villes francaises dedans ?")
    assert result.text.startswith("Dans BioCanteens, ma base compte")
    partners = await ask(ActionNetworkPartners(repositories), "ask_network_partners", [], first.slots,
                                text="qui d'autre est dedans ?")
    assert "dedans" not in partners.text and "BioCanteens" in partners.text


async def test_countries_answer_names_the_cities_of_a_named_country(repositories, ask, kb):  # type: ignore[no-untyped-def]
    from actions.kb.answers_with_networks import ActionCountries

    result = await ask(ActionCountries(repositories), "ask_countries", [("country", "norvegiennes")],
                              text="des villes norvegiennes dans urbact ?")
    assert result.messages[0]["response"] == "utter_ask_countries"
    assert "Norvège" in result.text and "– avec " in result.text
    plain = await ask(ActionCountries(repositories), "ask_countries", [], text="quels pays ?")
    assert [m["response"] for m in plain.messages] == ["utter_ask_countries"]


async def test_a_local_issue_gets_the_brochure_answer_and_networks_on_its_theme(repositories, ask, kb):  # type: ignore[no-untyped-def]
    from actions.kb.answers_with_networks import ActionLocalStrategy

    result = await ask(ActionLocalStrategy(repositories), "benefit_local_strategy",
                              [("theme", "Commerce et centres-villes")],
                              text="nos commerces de centre ville ferment les uns apres les autres")
    assert result.messages[0]["response"] == "utter_benefit_local_strategy"
    assert "Commerce et centres-villes" in result.text and bullets(result.text) >= 1


async def test_a_follow_up_after_a_list_is_about_the_network_closest_to_the_words(repositories, ask):  # type: ignore[no-untyped-def]
    search = await ask(ActionSearchNetworks(repositories), "search_networks", [("theme", "économie circulaire")],
                       text="on voudrait monter une ressourcerie et pousser le reemploi des objets, des reseaux la dessus ?")
    assert bullets(search.text) >= 2 and "Resourceful Cities" in search.text
    assert json.loads(search.slots["last_query"])["h"] == "resourceful-cities"
    lead = await ask(ActionNetworkLead(repositories), "ask_network_lead", [], search.slots,
                     text="et c'etait mene par qui ?")
    assert lead.text.startswith("Le chef de file de Resourceful Cities est La Haye")


async def test_a_lead_question_after_a_list_without_a_closest_network_names_each_lead(repositories, ask):  # type: ignore[no-untyped-def]
    search = await ask(ActionSearchNetworks(repositories), "search_networks", [("theme", "jeunesse")])
    listed = re.findall(r"^• ([^(]+?) \(", search.text, re.M)
    assert len(listed) >= 2 and "h" not in json.loads(search.slots["last_query"])
    lead = await ask(ActionNetworkLead(repositories), "ask_network_lead", [], search.slots,
                     text="c'est qui le chef de file ?")
    assert lead.text.startswith("Les chefs de file des réseaux de cette liste :")
    assert all(f"• {name} : " in lead.text for name in listed)
    assert "De quel réseau" not in lead.text


async def test_a_tampered_focus_is_not_trusted(repositories, ask):  # type: ignore[no-untyped-def]
    slots = {"last_query": json.dumps({"a": "search", "f": {"theme": "jeunesse"}, "o": 0, "h": "'; DROP TABLE x"})}
    lead = await ask(ActionNetworkLead(repositories), "ask_network_lead", [], slots, text="qui pilote ?")
    assert "DROP" not in lead.text and "De quel réseau" in lead.text


async def test_towns_of_a_country_after_a_list_narrow_that_list(repositories, ask):  # type: ignore[no-untyped-def]
    search = await ask(ActionSearchNetworks(repositories), "search_networks", [("theme", "commerce")])
    partners = await ask(ActionNetworkPartners(repositories), "ask_network_partners", [("country", "France")],
                         search.slots, text="des villes francaises y etaient ?")
    assert "comptant un partenaire en France" in partners.text and "– avec " in partners.text
    assert "De quel réseau" not in partners.text


async def test_a_question_on_what_a_network_is_about_and_who_leads_it_gets_its_details(repositories, ask):  # type: ignore[no-untyped-def]
    first = await ask(ActionNetworkDetails(repositories), "ask_network_details", [("network", "BioCanteens")])
    both = await ask(ActionNetworkLead(repositories), "ask_network_lead", [], first.slots,
                     text="ok, et ca parlait de quoi ce reseau ? et le chef de file c'etait quelle ville")
    assert both.text.startswith("BioCanteens :") and "Chef de file : Mouans-Sartoux" in both.text
    lead = await ask(ActionNetworkLead(repositories), "ask_network_lead", [], first.slots, text="qui le pilotait ?")
    assert lead.text.startswith("Le chef de file de BioCanteens")
    named = await ask(ActionCityNetworks(repositories), "ask_city_networks",
                      [("network", "TechTown"), ("city", "Clermont-Ferrand")],
                      text="le reseau techtown ca concernait quoi, et clermont ferrand y etait vraiment ?")
    assert named.text.startswith("TechTown :") and "Clermont-Ferrand" in named.text


async def test_several_themes_search_the_one_of_the_network_closest_to_the_words(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionSearchNetworks(repositories), "search_networks",
                       [("country", "France"), ("theme", "culture"), ("theme", "numérique"), ("theme", "jeunes")],
                       text="une ville francaise a-t-elle bosse sur la culture numerique des jeunes talents ?")
    assert "Gen-Y City" in result.text and "Nantes" in result.text
    assert result.slots["theme"] != "Culture, patrimoine et tourisme"
    alone = await ask(ActionSearchNetworks(repositories), "search_networks", [("theme", "culture")])
    assert alone.slots["theme"] == "Culture, patrimoine et tourisme"


async def test_which_countries_take_part_most(repositories, ask):  # type: ignore[no-untyped-def]
    from actions.kb.answers_with_networks import ActionCountries

    result = await ask(ActionCountries(repositories), "ask_countries", [],
                       text="quels pays europeens sont les plus actifs dans urbact ?")
    assert "utter_ask_countries" in result.responses
    line = next(line for line in result.text.split("\n") if line.startswith("Dans ma base, les pays"))
    counts = [int(n) for n in re.findall(r"\((\d+)\)", line)]
    assert len(counts) == 6 and counts == sorted(counts, reverse=True) and counts[0] > 10
    plain = await ask(ActionCountries(repositories), "ask_countries", [], text="quels pays peuvent participer ?")
    assert "les pays qui comptent le plus" not in plain.text


async def test_a_town_names_the_networks_of_its_related_partner_too(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionCityNetworks(repositories), "ask_city_networks", [("city", "Clermont-Ferrand")])
    assert "TechTown" in result.text
    assert "Voir aussi Clermont Auvergne Métropole : Urb-En Pact." in result.text
