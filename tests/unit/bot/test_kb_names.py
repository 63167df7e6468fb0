"""Knowledge-base names found in messages as people type them (bot/nlu/kb_names.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from bot.nlu.kb_names import NameIndex, NamesFile, words_of

ENTRIES = {
    "city": [
        {"value": "Saint-Quentin", "names": ["Saint-Quentin"]},
        {"value": "Romans-sur-Isère", "names": ["Romans-sur-Isère", "Romans"]},
        {"value": "Białystok", "names": ["Białystok"]},
        {"value": "Roman", "names": ["Roman"]},
        {"value": "Grenade (Espagne)", "names": ["Grenade (Espagne)"]},
        {"value": "L'Hospitalet de Llobregat", "names": ["L'Hospitalet de Llobregat"]},
    ],
    "network": [{"value": "TechRevolution", "names": ["TechRevolution", "Tech Revolution"]}],
    "theme": [{"value": "Climat et énergie", "names": ["Climat et énergie", "îlots de chaleur"]}],
    "country": [{"value": "Pologne", "names": ["Pologne", "polonaises", "polonais"]}],
}


def found(index: NameIndex, text: str) -> list[tuple[str, str, str]]:
    return [(f.entity, f.value, text[f.start : f.end]) for f in index.find(text)]


@pytest.fixture
def index() -> NameIndex:
    return NameIndex(ENTRIES, frozenset({"roman", "le", "de", "reseau"}))


def test_words_fold_accents_hyphens_and_drop_elisions() -> None:
    assert [w.text for w in words_of("L'Hospitalet, Romans-sur-Isère (26) d’Agen")] == [
        "hospitalet", "romans", "sur", "isere", "26", "agen"]


def test_names_without_accents_hyphens_or_capitals(index: NameIndex) -> None:
    assert found(index, "est ce que saint quentin a fait un reseau ?") == [
        ("city", "Saint-Quentin", "saint quentin")]
    assert found(index, "ROMANS SUR ISERE (26) ca a donne quoi") == [
        ("city", "Romans-sur-Isère", "ROMANS SUR ISERE")]
    assert found(index, "et hospitalet de llobregat ?") == [
        ("city", "L'Hospitalet de Llobregat", "hospitalet de llobregat")]


def test_typos_split_names_adjectives_and_examples(index: NameIndex) -> None:
    assert found(index, "le reseau tek revolution il parle de quoi") == [
        ("network", "TechRevolution", "tek revolution")]
    assert found(index, "des villes polonaises sur les ilots de chaleur") == [
        ("country", "Pologne", "polonaises"), ("theme", "Climat et énergie", "ilots de chaleur")]
    assert found(index, "bialystok") == [("city", "Białystok", "bialystok")]
    assert found(index, "et grenade ?") == [("city", "Grenade (Espagne)", "grenade")]


def test_everyday_words_are_not_names_unless_capitalised(index: NameIndex) -> None:
    assert found(index, "un roman sur le reseau") == []
    assert found(index, "la ville de Roman en Roumanie") == [("city", "Roman", "Roman")]


def test_no_fuzzy_match_on_short_or_unrelated_words(index: NameIndex) -> None:
    assert found(index, "on manque de temps et d'anglais") == []
    assert found(index, "romane") == []  # five letters or more, but not close enough


def test_names_file_is_reread_when_the_importer_rewrites_it(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "kb_names.json"
    path.write_text(json.dumps({"version": 1, "entities": {"city": []}}), encoding="utf-8")
    names = NamesFile(path)
    assert names.index().find("et a lons le saunier ?") == []
    path.write_text(json.dumps({"version": 1, "entities": {"city": [
        {"value": "Lons-le-Saunier", "names": ["Lons-le-Saunier"]}]}}), encoding="utf-8")
    os.utime(path, (time.time() + 10, time.time() + 10))
    monkeypatch.setattr("bot.nlu.kb_names.RELOAD_CHECK_SECONDS", 0.0)
    assert [f.value for f in names.index().find("et a lons le saunier ?")] == ["Lons-le-Saunier"]


def test_missing_or_broken_file_keeps_working(tmp_path: Path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("bot.nlu.kb_names.RELOAD_CHECK_SECONDS", 0.0)
    names = NamesFile(tmp_path / "missing.json")
    assert names.index().find("saint quentin") == []
    assert "missing" in caplog.text
    path = tmp_path / "kb_names.json"
    path.write_text(json.dumps({"version": 1, "entities": ENTRIES}), encoding="utf-8")
    names = NamesFile(path)
    assert names.index().find("saint quentin")
    path.write_text("{not json", encoding="utf-8")
    os.utime(path, (time.time() + 10, time.time() + 10))
    assert names.index().find("saint quentin")  # previous names kept
    assert "unreadable" in caplog.text


def test_elisions_typed_without_apostrophe_and_saint_abbreviated(index: NameIndex) -> None:
    assert found(index, "et l hospitalet de llobregat ?") == [
        ("city", "L'Hospitalet de Llobregat", "hospitalet de llobregat")]
    assert found(index, "st quentin (02) a fait quoi") == [("city", "Saint-Quentin", "st quentin")]
    assert found(index, "ST-QUENTIN ?") == [("city", "Saint-Quentin", "ST-QUENTIN")]


def test_no_fuzzy_match_on_the_tail_of_a_saint_name() -> None:
    index = NameIndex({"city": [{"value": "Nazaré", "names": ["Nazaré"]}]}, frozenset())
    assert found(index, "la ville de nazare au portugal") == [("city", "Nazaré", "nazare")]
    assert found(index, "et st nazaire (44) ?") == []
    assert found(index, "et saint nazaire ?") == []


def test_a_one_word_name_typed_in_pieces(index: NameIndex) -> None:
    assert found(index, "le reseau tech revolution ?") == [("network", "TechRevolution", "tech revolution")]
    doctor = NameIndex({"network": [{"value": "CityCentreDoctor", "names": ["CityCentreDoctor"]}]}, frozenset())
    assert found(doctor, "city centre doctor ?") == [("network", "CityCentreDoctor", "city centre doctor")]
    assert found(doctor, "citycentre docter c'etait quoi") == [("network", "CityCentreDoctor", "citycentre docter")]
    assert found(index, "on a pris le bus de la ville") == []
