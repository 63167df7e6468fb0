"""FrenchSpacyNLP: same tokens and vectors as the full spaCy pipeline, loaded once."""

from __future__ import annotations

import numpy as np
import pytest
import spacy
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.spacy_nlp import FrenchSpacyNLP, load_tokenizer_and_vectors

SENTENCES = [
    "Est-ce que notre équipe doit être bilingue ?",
    "Qu'est-ce que l’URBACT a apporté à Romans-sur-Isère et à Aix-les-Bains ?",
    "reseau urbakt billingue, c'est trop compliqué pour nous",
    "Quels réseaux en 2023 sur l'alimentation durable ?",
]


@pytest.fixture(scope="module")
def full_pipeline():
    # What Rasa's stock SpacyNLP loads.
    return spacy.load("fr_core_news_md", disable=["parser"])


def test_only_tokenizer_and_vectors_are_loaded() -> None:
    nlp = load_tokenizer_and_vectors("fr_core_news_md").model
    assert nlp.pipe_names == []
    assert nlp.vocab.vectors.shape == (20000, 300)


def test_model_is_loaded_once_per_process() -> None:
    config = {**FrenchSpacyNLP.get_default_config(), "model": "fr_core_news_md"}
    provider = FrenchSpacyNLP.create(config, None, None, None)  # type: ignore[arg-type]
    runner = FrenchSpacyNLP.create(config, None, None, None)  # type: ignore[arg-type]
    assert provider.provide() is runner.provide()


@pytest.mark.parametrize("text", SENTENCES)
def test_tokens_and_vectors_match_the_full_pipeline(full_pipeline, text: str) -> None:
    light = load_tokenizer_and_vectors("fr_core_news_md").model(text)
    full = full_pipeline(text)
    assert [(t.text, t.idx) for t in light] == [(t.text, t.idx) for t in full]
    assert np.array_equal(
        np.array([t.vector for t in light]), np.array([t.vector for t in full])
    )


def test_process_sets_the_doc_read_by_the_tokenizer() -> None:
    config = {**FrenchSpacyNLP.get_default_config(), "model": "fr_core_news_md"}
    component = FrenchSpacyNLP.create(config, None, None, None)  # type: ignore[arg-type]
    message = Message(data={TEXT: "Bonjour, c'est quoi URBACT ?"})
    component.process([message], component.provide())
    assert [t.text for t in message.get(SPACY_DOCS[TEXT])][-2:] == ["urbact", "?"]  # lower-cased: case_sensitive is false


def test_unknown_model_gives_a_clear_error() -> None:
    from rasa.nlu.model import InvalidModelError

    with pytest.raises(InvalidModelError, match="introuvable"):
        load_tokenizer_and_vectors("fr_core_news_absent")
