"""Funding and contact-point actions on the SQL repository seeded from data/kb, with a frozen clock."""

from __future__ import annotations

import logging
from datetime import date
from typing import Callable

import pytest

from actions.db.errors import RepositoryTimeout
from actions.kb.action import DB_UNAVAILABLE_TEXT
from actions.kb.contacts import ActionContactPoint
from actions.kb.funding import ActionImplementationFunding, ActionLastCall, ActionOpenCalls

pytestmark = pytest.mark.asyncio

TODAY = date(2026, 11, 26)


def fixed_clock(day: date) -> Callable[[], date]:
    return lambda: day


async def test_no_open_call_gives_last_closing_date_and_how_to_stay_informed(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionOpenCalls(repositories, clock=fixed_clock(TODAY)), "ask_open_calls")
    assert "Aucun appel URBACT n'est ouvert aujourd'hui (26 novembre 2026)" in result.text
    assert "a fermé le 17 juin 2026" in result.text
    assert "https://urbact.eu/get-involved" in result.text
    assert "https://urbact.eu/france-et-luxembourg" in result.text
    assert "/ask_last_call" in [b["payload"] for b in result.buttons]


async def test_open_call_is_listed_with_its_deadline(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionOpenCalls(repositories, clock=fixed_clock(date(2026, 4, 1))), "ask_open_calls")
    assert result.text.startswith("Oui : 1 appel URBACT est ouvert en ce moment (1er avril 2026)")
    assert "réseaux d'action" in result.text and "ouvert jusqu'au 17 juin 2026" in result.text
    # the EUI call 4 was open too (25 February - 15 June 2026)
    assert "Autres financements ouverts" in result.text and "4e appel" in result.text


async def test_call_opening_day_and_closing_day_are_open(repositories, ask):  # type: ignore[no-untyped-def]
    for day in (date(2025, 4, 1), date(2025, 6, 30)):
        result = await ask(ActionOpenCalls(repositories, clock=fixed_clock(day)), "ask_open_calls")
        assert "réseaux de transfert (2025)" in result.text and result.text.startswith("Oui")


async def test_upcoming_call_is_announced(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionOpenCalls(repositories, clock=fixed_clock(date(2026, 3, 1))), "ask_open_calls")
    assert "ouvre le 17 mars 2026" in result.text


async def test_last_call(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionLastCall(repositories, clock=fixed_clock(TODAY)), "ask_last_call")
    assert "il a fermé le 17 juin 2026, ouvert le 17 mars 2026" in result.text
    earlier = await ask(ActionLastCall(repositories, clock=fixed_clock(date(2025, 8, 1))), "ask_last_call")
    assert "réseaux de transfert (2025)" in earlier.text and "30 juin 2025" in earlier.text


async def test_implementation_funding_explains_and_lists_other_funds(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(
        ActionImplementationFunding(repositories, clock=fixed_clock(TODAY)), "ask_implementation_funding"
    )
    assert "ne finance pas la mise en œuvre de votre plan d'action" in result.text
    for expected in ("Initiative urbaine européenne", "Interreg Europe", "FAMI", "Action Cœur de Ville",
                     "https://www.urban-initiative.eu/", "https://www.interregeurope.eu/"):
        assert expected in result.text
    assert result.text.count("\n• ") <= 5


async def test_contact_point_for_france_is_the_latest(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionContactPoint(repositories), "ask_contact_point")
    assert "Agence nationale de la cohésion des territoires (ANCT)" in result.text
    assert "Lauryn Pignarre" in result.text and "Mathieu Copere" not in result.text
    assert "https://urbact.eu/france-et-luxembourg" in result.text


async def test_contact_point_for_a_country_without_data(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionContactPoint(repositories), "ask_contact_point", [("country", "Belgique")])
    assert "pas encore le point de contact pour Belgique" in result.text
    assert "https://urbact.eu/get-involved" in result.text


async def test_injected_country_falls_back_to_france(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionContactPoint(repositories), "ask_contact_point", [("country", {"$ne": "FR"})])
    assert "Lauryn Pignarre" in result.text


@pytest.mark.parametrize("action", [ActionOpenCalls, ActionLastCall, ActionImplementationFunding, ActionContactPoint])
async def test_funding_actions_survive_a_database_outage(action, caplog, ask, failing_factory):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.ERROR)
    result = await ask(action(failing_factory(RepositoryTimeout("open_calls: no answer within 2 s"))), "x")
    assert [m["text"] for m in result.messages] == [DB_UNAVAILABLE_TEXT]
    assert "knowledge base unavailable" in caplog.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("appel 2023 reseaux de planification d'action: c'etait quelles dates ?", "31 mars 2023"),
        ("l'appel FAMI 2022 fermait quand ?", "FAMI"),
        ("interreg europe, l'appel lancé en mars 2024 clôturait quand ?", "Interreg Europe"),
        ("initiative urbaine europeenne 4e appel, c'est pour quelles villes ?", "4e appel"),
    ],
)
async def test_a_call_named_by_year_funder_or_rank(text, expected, repositories, ask):  # type: ignore[no-untyped-def]
    for action, intent in ((ActionLastCall, "ask_last_call"), (ActionOpenCalls, "ask_open_calls")):
        result = await ask(action(repositories, clock=fixed_clock(TODAY)), intent, text=text)
        assert expected in result.text
        assert "Aucun appel URBACT n'est ouvert" not in result.text


async def test_calls_of_a_year_are_listed_when_no_single_one_is_named(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionOpenCalls(repositories, clock=fixed_clock(TODAY)), "ask_open_calls",
                              text="et les appels de 2022 ?")
    assert "pour cette année-là" in result.text and result.text.count("• ") >= 2


async def test_last_call_of_a_programme(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionLastCall(repositories, clock=fixed_clock(TODAY)), "ask_last_call",
                              text="le dernier appel d'urbact iii c'etait quand ?")
    assert "URBACT III" in result.text and "URBACT IV –" not in result.text.split("\n")[0]


async def test_who_else_in_france_after_a_list_is_a_follow_up_not_the_contact_point(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionContactPoint(repositories), "ask_contact_point", [("country", "France")],
                              {"last_query": '{"a":"details","n":"biocanteens","o":0}'}, text="qui d'autre en france ?")
    assert result.events == [{"event": "followup", "timestamp": None, "name": "action_inform"}] and not result.messages
    plain = await ask(ActionContactPoint(repositories), "ask_contact_point", [("country", "France")],
                             {"last_query": '{"a":"details","n":"biocanteens","o":0}'}, text="qui contacter en france ?")
    assert "ANCT" in plain.text


async def test_a_short_follow_up_is_about_the_call_of_the_conversation(repositories, ask):  # type: ignore[no-untyped-def]
    first = await ask(ActionLastCall(repositories, clock=fixed_clock(TODAY)), "ask_last_call",
                      text="l'appel urbact de 2015 pour la planification d'action, c'etait quoi ?")
    assert "16 juin 2015" in first.text and first.slots["last_call"] == "urbact3-apn-2015"
    follow_up = await ask(ActionLastCall(repositories, clock=fixed_clock(TODAY)), "ask_last_call",
                          slots={"last_call": first.slots["last_call"]}, text="ca fermait quand ?")
    assert "16 juin 2015" in follow_up.text


async def test_a_remembered_call_that_is_not_in_the_base_is_ignored(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionLastCall(repositories, clock=fixed_clock(TODAY)), "ask_last_call",
                       slots={"last_call": "x' OR 1=1 --"}, text="ca ferme quand ?")
    assert "Le dernier appel URBACT clos" in result.text


async def test_the_call_an_overview_points_to_is_remembered_for_a_follow_up(repositories, ask):  # type: ignore[no-untyped-def]
    clock = fixed_clock(TODAY)  # nothing open nor announced: the overview names the last call
    overview = await ask(ActionOpenCalls(repositories, clock=clock), "ask_open_calls",
                         text="c'est qd le prochain apel ? on a loupe le dernier")
    assert overview.slots["last_call"] == "urbact4-action-networks-2026"
    follow_up = await ask(ActionOpenCalls(repositories, clock=clock), "ask_open_calls",
                          slots=overview.slots, text="ca ouvre quand exactement ?")
    assert "ouverture le 17 mars 2026" in follow_up.text
    again = await ask(ActionOpenCalls(repositories, clock=clock), "ask_open_calls",
                      slots=overview.slots, text="et la un appel est ouvert ?")
    assert again.text.startswith("Aucun appel URBACT n'est ouvert aujourd'hui")  # the overview, not the closed call
    upcoming = await ask(ActionOpenCalls(repositories, clock=fixed_clock(date(2026, 3, 1))), "ask_open_calls")
    assert upcoming.slots["last_call"] == "urbact4-action-networks-2026"


async def test_a_funder_with_several_calls_gets_its_latest_and_names_the_others(repositories, ask):  # type: ignore[no-untyped-def]
    result = await ask(ActionOpenCalls(repositories, clock=fixed_clock(TODAY)), "ask_open_calls",
                       text="l'appel de l'initiative urbaine europeenne, il faut combien d'habitants ?")
    assert result.text.startswith("« Initiative urbaine européenne – Actions innovatrices, 4e appel (2026) »")
    assert "25 000 habitants" in result.text and "Ma base connaît aussi : « Initiative urbaine" in result.text
    again = await ask(ActionOpenCalls(repositories, clock=fixed_clock(TODAY)), "ask_open_calls",
                      text="c'est quand la date limite de l'appel interreg europe ?")
    assert "Interreg Europe" in again.text.split("\n")[0]
