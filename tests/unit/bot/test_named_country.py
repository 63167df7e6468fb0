"""A question about towns of a known country asks for its networks, even said with context."""

from __future__ import annotations

from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.named_country import NamedCountryIntent


def understood(text: str, intent: str, span: str, extractor: str = "KnowledgeBaseEntityExtractor",
               confidence: float = 0.75) -> str:
    start = text.index(span)
    country = {"entity": "country", "value": "Danemark", "start": start, "end": start + len(span), "extractor": extractor}
    ranking = [{"name": intent, "confidence": confidence}]
    message = Message({TEXT: text, INTENT: ranking[0], INTENT_RANKING_KEY: ranking, ENTITIES: [country]})
    return str(NamedCountryIntent({}).process([message])[0].get(INTENT)["name"])


def test_a_question_about_towns_of_a_country_is_a_search() -> None:
    text = "des villes danoises dans urbact ? on a un partenariat scolaire avec le danemark"
    assert understood(text, "myth_contacts", "danoises") == "search_networks"


def test_the_myth_said_as_a_statement_or_without_towns_stays_the_myth() -> None:
    assert understood("on ne connait aucune ville danoise", "myth_contacts", "danoise") == "myth_contacts"
    assert understood("on ne connait personne au danemark, c'est grave ?", "myth_contacts", "danemark") == "myth_contacts"


def test_eligibility_or_a_guessed_country_is_left_alone() -> None:
    assert understood("les villes danoises peuvent participer ?", "ask_countries", "danoises") == "ask_countries"
    assert understood("des villes danoises ?", "myth_contacts", "danoises", extractor="StoredCRFEntityExtractor") \
        == "myth_contacts"


def test_one_town_of_a_country_in_a_myth_stays_the_myth() -> None:
    text = "meme avec une ville danoise comme aarhus ? on n'a rien a voir"
    assert understood(text, "myth_useless_exchange", "danoise") == "myth_useless_exchange"


def test_an_unsure_intent_gives_way_to_the_search_rather_than_a_request_to_rephrase() -> None:
    text = "villes danoises dans urbact ? une liste svp"
    assert understood(text, "ask_countries", "danoises", confidence=0.27) == "search_networks"
    assert understood(text, "ask_countries", "danoises", confidence=0.75) == "ask_countries"
    assert understood("on ne connait aucune ville danoise", "ask_countries", "danoise", confidence=0.2) == "ask_countries"


def test_a_question_on_whether_a_country_takes_part_is_a_search() -> None:
    text = "le danemark est il dans un reseau urbact ? une asso de la commune a des contacts la bas"
    assert understood(text, "myth_contacts", "danemark") == "search_networks"
    assert understood("y a t il le danemark dans urbact ? un elu y a de la famille", "myth_contacts", "danemark") \
        == "search_networks"
    assert understood("le danemark participe a urbact ?", "out_of_scope", "danemark") == "search_networks"
    # a statement, or a country that is only context, stays what it was
    assert understood("le danemark est loin, on ne connait personne la bas", "myth_contacts", "danemark") == "myth_contacts"


def test_towns_of_a_country_said_with_a_preposition() -> None:
    assert understood("quelles villes d'autriche sont dans urbact ?", "myth_contacts", "autriche") == "search_networks"
    assert understood("des communes du danemark dans urbact ?", "help", "danemark") == "search_networks"
    assert understood("le danemark a combien de villes dans urbact ?", "out_of_scope", "danemark") == "search_networks"
