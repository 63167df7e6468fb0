from __future__ import annotations

import pytest
import spacy
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.french_tokenizer import FrenchTokenizer, fold


@pytest.fixture(scope="module")
def nlp():
    return spacy.load("fr_core_news_md")


def tokens_of(nlp, text: str):
    message = Message(data={TEXT: text})
    message.set(SPACY_DOCS[TEXT], nlp(text))
    return FrenchTokenizer(FrenchTokenizer.get_default_config()).tokenize(message, TEXT)


def test_fold_strips_accents_case_and_curly_apostrophes() -> None:
    assert fold("Réseau d’ÉCHANGE à Île-de-France") == "reseau d'echange a ile-de-france"
    assert fold("cœur") == "coeur"


def test_accented_and_plain_spellings_share_lemmas(nlp) -> None:
    accented = [t.lemma for t in tokens_of(nlp, "Quels réseaux à Romans-sur-Isère ?")]
    plain = [t.lemma for t in tokens_of(nlp, "quels reseaux a romans-sur-isere ?")]
    assert accented == plain


def test_elisions_are_split_and_offsets_kept(nlp) -> None:
    text = "Qu'est-ce que l’URBACT ?"
    tokens = tokens_of(nlp, text)
    texts = [t.text for t in tokens]
    assert "URBACT" in texts
    urbact = next(t for t in tokens if t.text == "URBACT")
    assert text[urbact.start : urbact.end] == "URBACT"
    assert urbact.lemma == "urbact"
