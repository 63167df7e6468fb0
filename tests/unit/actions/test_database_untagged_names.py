"""A name the NLU did not tag is looked up, never replaced by the previous one."""

from __future__ import annotations

import pytest

from actions.kb.networks import ActionCityNetworks, ActionNetworkDetails
from actions.kb.normalize import residual_name


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
