"""Entity validation and fuzzy normalisation (actions/kb/normalize.py)."""

from __future__ import annotations

import asyncio

import pytest

from actions.db.engine import create_engine
from actions.kb.normalize import Normalizer, clean_value, parse_offset, parse_year
from actions.kb.repository import SqlRepositoryFactory


async def read_normalizer(url: str) -> Normalizer:
    engine = create_engine(url)
    try:
        async with SqlRepositoryFactory(engine)() as repo:
            return Normalizer(await repo.catalogue())
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def norm(kb_database: str) -> Normalizer:
    return asyncio.run(read_normalizer(kb_database))


@pytest.mark.parametrize(
    "value",
    [None, True, {"$ne": 1}, ["Lyon"], "x" * 81, "Lyon\u0000", "Ly\u202eon", "a\nb\u2028c", "   ", float("nan")],
)
def test_clean_value_rejects_injected_values(value):  # type: ignore[no-untyped-def]
    assert clean_value(value) is None


def test_clean_value_keeps_normal_text():
    assert clean_value("  Mouans-Sartoux  ") == "Mouans-Sartoux"
    assert clean_value(2019) == "2019"


RESOLVED = [  # (entity, the label it resolves to, what visitors type)
    ("city", "Mouans-Sartoux", ["mouans sartou", "MOUANS-SARTOUX", "mouans"]),
    ("city", "Romans-sur-Isère", ["romans", "Romans sur Isere"]),
    ("city", "Strasbourg", ["Strasbour", "Eurométropole de Strasbourg", "l'Eurométropole de Strasbourg"]),
    ("city", "Nantes", ["la ville de Nantes"]),
    ("city", "Liège", ["Liege"]),
    ("city", "Gênes", ["Genoa"]),
    ("city", "Val-de-Marne", ["val de marne"]),
    ("city", "Pays des Condruses", ["Pays de Condruses"]),
    ("network", "BoostInno", ["boost inno", "Boostino", "le réseau BoostInno"]),
    ("network", "Eat4Climate", ["eat 4 climate"]),
    ("network", "Gen-Y City", ["gen y city"]),
    ("network", "BioCanteens#2", ["bio canteens 2"]),
    ("network", "Urb-En Pact", ["Urban Energy Pact"]),
    ("theme", "Jeunesse et enfance", ["jeunesse", "les jeunes", "youth"]),
    ("theme", "Mobilité et transports", ["la mobilité", "transport"]),
    ("theme", "Alimentation et agriculture", ["circuits courts", "agri-food"]),
    ("country", "France", ["française", "villes francaises"]),
    ("country", "Espagne", ["Espagne"]),
    ("network_type", "réseau de transfert", ["transfert"]),
    ("network_type", "réseau de transfert d'innovation", ["transfert d'innovation"]),
    ("network_type", "réseau de planification d'action", ["réseaux de planification"]),
    ("programme", "URBACT IV", ["URBACT IV", "urbact 4"]),
    ("programme", "URBACT III", ["urbact3"]),
    ("year", "2019", ["2019"]),
    ("year", "2015", ["en 2015"]),
]


@pytest.mark.parametrize(
    ("entity", "typed", "expected"),
    [(entity, typed, label) for entity, label, typeds in RESOLVED for typed in typeds],
)
def test_resolves_typos_accents_aliases(norm, entity, typed, expected):  # type: ignore[no-untyped-def]
    res = norm.resolve(entity, typed)
    assert res.found, (entity, typed, res)
    assert res.label == expected


def test_unknown_city_is_not_guessed(norm):  # type: ignore[no-untyped-def]
    res = norm.resolve("city", "Bordeaux")
    assert res.status == "unknown"
    assert res.raw == "Bordeaux"
    assert len(res.suggestions) <= 3


def test_ambiguous_name_gives_suggestions(norm):  # type: ignore[no-untyped-def]
    res = norm.resolve("city", "Santa")
    assert res.status == "unknown"
    labels = [label for _, label in res.suggestions]
    assert "Santa Maria da Feira" in labels
    assert 2 <= len(labels) <= 3


def test_near_miss_typo_suggests_close_networks(norm):  # type: ignore[no-untyped-def]
    res = norm.resolve("network", "URBACT")
    assert res.status == "unknown"
    assert 1 <= len(res.suggestions) <= 3


@pytest.mark.parametrize("value", ["x" * 500, {"a": 1}, "Lyon\x07"])
def test_invalid_values_are_flagged(norm, value):  # type: ignore[no-untyped-def]
    assert norm.resolve("city", value).status == "invalid"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), (5.0, 5), ("10", 10), (7, 5), (-5, None), ("abc", None), (1e9, None), (True, None),
     (float("inf"), None), (None, None), ("5; DROP TABLE networks", None)],
)
def test_parse_offset(value, expected):  # type: ignore[no-untyped-def]
    assert parse_offset(value) == expected


@pytest.mark.parametrize(("value", "expected"), [("2019", 2019), (2023, 2023), ("19", None),
                                                 ("2019; DROP TABLE x", None), ("3000", None)])
def test_parse_year(value, expected):  # type: ignore[no-untyped-def]
    assert parse_year(value) == expected


def test_last_query_keys_are_checked(norm):  # type: ignore[no-untyped-def]
    assert norm.is_known("city", "mouans-sartoux")
    assert not norm.is_known("city", "Mouans-Sartoux")  # labels are not keys
    assert not norm.is_known("city", "x' OR 1=1 --")
    assert norm.is_known("programme", "URBACT IV")
    assert not norm.is_known("theme", {"slug": "jeunesse"})
