"""actions/kb/closest_network.py and its use by the theme search."""

from __future__ import annotations

from actions.kb.closest_network import closest
from actions.kb.networks import ActionSearchNetworks

NETWORKS = [
    ("breaking-isolation", "Breaking Isolation Repérer et accompagner les personnes isolées"),
    ("beepathnet", "BeePathNet Apiculture urbaine à Ljubljana"),
    ("gen-y-city", "Gen-Y City Attirer et garder les jeunes talents du numérique"),
]


def test_the_network_sharing_the_person_s_words_is_found() -> None:
    assert closest("les personnes agees isolees chez elles", NETWORKS) == "breaking-isolation"
    assert closest("nos jeunes partent, on voudrait garder les talents", NETWORKS) == "gen-y-city"


def test_nothing_in_common_or_a_tie_finds_nothing() -> None:
    assert closest("quels réseaux dans notre ville ?", NETWORKS) is None  # everyday words only
    assert closest("circuits courts", NETWORKS) is None
    assert closest("isolées et jeunes", NETWORKS) is None  # one word each: no clear winner


async def test_a_theme_search_names_the_closest_network_beyond_the_first_page(repositories, ask) -> None:  # type: ignore[no-untyped-def]
    text = "on voit monter les préjugés contre les migrants dans nos quartiers, qu'est-ce qui existe ?"
    result = await ask(ActionSearchNetworks(repositories), "search_networks", [("theme", "inclusion")], text=text)
    lines = result.text.split("\n")
    assert lines[1].startswith("Le plus proche de votre message : Rumourless Cities"), result.text
    assert result.buttons[0]["title"] == "En savoir plus : Rumourless Cities"
    assert sum("Rumourless Cities" in line for line in lines) == 1


async def test_the_closest_network_on_the_first_page_is_pointed_at_not_listed_twice(repositories, ask) -> None:  # type: ignore[no-untyped-def]
    text = "les personnes agees isolees chez elles, c'est un vrai sujet chez nous"
    result = await ask(ActionSearchNetworks(repositories), "search_networks", [("theme", "inclusion")], text=text)
    lines = result.text.split("\n")
    assert lines[1] == "Le plus proche de votre message : Breaking Isolation."  # what a follow-up is about
    assert sum(line.startswith("• Breaking Isolation") for line in lines) == 1
    assert result.buttons[0]["title"] == "En savoir plus : Breaking Isolation"



async def test_a_theme_and_country_search_keeps_every_line_with_the_closest_first(repositories, ask) -> None:  # type: ignore[no-untyped-def]
    """The country decoration pairs each listed network with its line; the closest network is
    added after it, so no line is lost or paired with the wrong network."""
    text = "on voit monter les préjugés contre les migrants dans nos quartiers"
    filters = [("theme", "inclusion"), ("country", "Portugal")]
    result = await ask(ActionSearchNetworks(repositories), "search_networks", filters, text=text)
    lines = result.text.split("\n")
    assert lines[-1].startswith("Liste officielle"), result.text
    if "Le plus proche" in result.text:
        assert lines[1].startswith("Le plus proche") and lines[2] == "Les autres :", result.text
    assert all("– avec " in line for line in lines if line.startswith("• ")), result.text
