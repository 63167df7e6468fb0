"""The answer search and the rescue of hesitant DIET predictions (bot/nlu/answer_search.py,
bot/nlu/intent_rescue.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.answer_search import AnswerSearch, Document, Span, normalise
from bot.nlu.intent_rescue import Clues, IntentRescue, decide, documents_from, response_texts

CONFIG = IntentRescue.get_default_config()


def test_normalise_folds_and_replaces_city_and_network_spans() -> None:
    text = "Et à Saint-Quentin, le réseau TechRevolution ?"
    spans = [Span(5, 18, "city"), Span(30, 44, "network"), Span(0, 2, "theme")]
    assert normalise(text, spans) == "et a xvillex le reseau xreseaux"


@pytest.fixture(scope="module")
def search() -> AnswerSearch:
    documents = [
        Document("myth_english", normalise(t), False)
        for t in ("il faut parler anglais ?", "notre équipe ne parle pas anglais", "faut-il être bilingue")
    ] + [
        Document("myth_time", normalise(t), False)
        for t in ("on n'a pas le temps", "cela prend trop de temps", "nos agents sont débordés")
    ] + [
        Document("myth_english", normalise("Pas besoin d'être bilingue : interprétation et traduction."), True),
        Document("myth_time", normalise("Le temps investi se regagne ensuite."), True),
    ]
    return AnswerSearch(documents)


def test_search_ranks_a_complaint_by_its_words_and_typos(search: AnswerSearch) -> None:
    assert search.ranking(normalise("au service on baragouine 3 mots d'anglai"))[0][0] == "myth_english"
    assert search.ranking(normalise("notre equipe est deja debordee, pas le temps"))[0][0] == "myth_time"
    assert search.ranking(normalise("il y aura de la traduction ?"))[0][0] == "myth_english"  # the answer's words


def test_search_survives_a_round_trip_through_json(search: AnswerSearch) -> None:
    again = AnswerSearch.from_json(search.to_json())
    text = normalise("on n'a pas le temps")
    assert again.scores(text) == pytest.approx(search.scores(text))


def test_confident_diet_is_left_alone() -> None:
    diet = [("greet", 0.9), ("thank", 0.05)]
    assert decide(diet, [("myth_time", 0.9), ("greet", 0.1)], CONFIG) is None


def test_hesitant_diet_is_rescued_by_a_clear_search_winner() -> None:
    diet = [("myth_time", 0.30), ("myth_english", 0.28)]
    assert decide(diet, [("myth_english", 0.6), ("myth_time", 0.2)], CONFIG)[0] == "myth_english"  # type: ignore[index]


def test_no_rescue_when_nothing_stands_out_or_to_excluded_intents() -> None:
    diet = [("myth_time", 0.30), ("myth_english", 0.28)]
    assert decide(diet, [("myth_english", 0.31), ("myth_time", 0.30)], CONFIG) is None
    assert decide(diet, [("myth_english", 0.1), ("myth_time", 0.05)], CONFIG) is None
    assert decide([("greet", 0.2)], [("affirm", 0.9), ("greet", 0.0)], CONFIG) is None


def test_documents_are_sentences_and_the_intents_own_answers(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text(
        "responses:\n  utter_myth_time:\n  - text: Le temps investi se regagne.\n"
        "  utter_other:\n  - text: Rien.\n",
        encoding="utf-8",
    )
    assert response_texts(domain) == {"myth_time": ["Le temps investi se regagne."], "other": ["Rien."]}
    data = TrainingData([Message.build("Pas le temps à Agen", "myth_time", [
        {"start": 15, "end": 19, "entity": "city", "value": "Agen"}])])
    documents = documents_from(data, domain)
    assert documents == [
        Document("myth_time", "pas le temps a xvillex", False),
        Document("myth_time", "le temps investi se regagne", True),
    ]


def test_a_bare_follow_up_intent_needs_a_named_place() -> None:
    diet = [("myth_time", 0.30), ("inform", 0.28)]
    search = [("inform", 0.6), ("myth_time", 0.2)]
    assert decide(diet, search, CONFIG) is None
    assert decide(diet, search, CONFIG, Clues(named=True))[0] == "inform"  # type: ignore[index]


def test_a_confident_bare_follow_up_without_a_place_is_searched() -> None:
    diet = [("inform", 0.9), ("ask_funding_programme", 0.05)]
    search = [("ask_funding_programme", 0.5), ("inform", 0.45)]
    assert decide(diet, search, CONFIG)[0] == "ask_funding_programme"  # type: ignore[index]
    assert decide(diet, search, CONFIG, Clues(named=True)) is None  # "et à Grenoble ?" stays inform


def test_a_long_message_is_not_just_a_greeting() -> None:
    diet = [("greet", 0.95), ("ask_city_networks", 0.03)]
    search = [("greet", 0.5), ("ask_city_networks", 0.45)]
    assert decide(diet, search, CONFIG) is None  # "bonjour !"
    assert decide(diet, search, CONFIG, Clues(named=True, long=True))[0] == "ask_city_networks"  # type: ignore[index]


def test_a_named_theme_leads_to_its_networks_when_nothing_else_is_clear() -> None:
    diet = [("myth_time", 0.30), ("benefit_local_strategy", 0.28)]
    search = [("myth_time", 0.12), ("benefit_local_strategy", 0.11)]
    assert decide(diet, search, CONFIG) is None
    assert decide(diet, search, CONFIG, Clues(theme=True))[0] == "search_networks"  # type: ignore[index]
