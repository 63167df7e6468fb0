"""The stored CRF (bot/nlu/crf.py) loads without retraining and predicts as when trained."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.crf import ORDER_FILE, StoredCRFEntityExtractor

TRAINING = """
version: "3.1"
nlu:
- intent: ask_city_networks
  examples: |
    - quels réseaux à [Grenoble](city) ?
    - et [Lyon](city) ?
    - est-ce que [Pontarlier](city) a participé ?
    - la ville de [Morteau](city) est dans un réseau ?
    - [Nantes](city) fait partie de quoi ?
    - et à [Rennes](city) alors ?
- intent: ask_last_call
  examples: |
    - l'appel de [2023](year) ?
    - les appels de [2019](year) c'était quoi
    - un appel en [2026](year) ?
"""
MESSAGES = ["quels réseaux à Grenoble ?", "l'appel de 2023 ?", "et à Besançon ?", "quels réseaux à Quimper ?", "bonjour"]


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def featurized(featurizer: CountVectorsFeaturizer, messages: List[Message]) -> List[Message]:
    """Tokens and features, which the CRF requires of every message it learns from."""
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    return featurizer.process(messages)


def entities(extractor: Any, featurizer: CountVectorsFeaturizer, texts: List[str]) -> List[List[Tuple[str, str]]]:
    messages = extractor.process(featurized(featurizer, [Message({TEXT: text}) for text in texts]))
    return [[(e["entity"], e["value"]) for e in m.get(ENTITIES, [])] for m in messages]


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "model").mkdir()
    return LocalModelStorage(tmp_path / "model")


def test_the_stored_crf_predicts_like_the_trained_one_and_like_rasa_s(storage: LocalModelStorage) -> None:
    data = RasaYAMLReader().reads(TRAINING)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("words"), context()
    )
    featurizer.train(data)
    featurizer.process_training_data(data)
    config = {**CRFEntityExtractor.get_default_config(), "max_iterations": 50, "L1_c": 0.001, "L2_c": 0.001}

    ours = StoredCRFEntityExtractor.create(config, storage, Resource("ours"), context())
    ours.train(data)
    stock = CRFEntityExtractor.create(config, storage, Resource("stock"), context())
    stock.train(data)
    loaded = StoredCRFEntityExtractor.load(config, storage, Resource("ours"), context())

    with storage.read_from(Resource("ours")) as folder:
        stored = sorted(p.name for p in folder.iterdir())
    assert ORDER_FILE in stored and "crf_dataset.json" not in stored  # no training tokens kept
    trained = entities(ours, featurizer, MESSAGES)
    assert entities(loaded, featurizer, MESSAGES) == trained == entities(stock, featurizer, MESSAGES)
    assert trained[0] == [("city", "Grenoble")] and trained[1] == [("year", "2023")]


def test_a_resource_without_a_trained_crf_loads_empty(storage: LocalModelStorage, caplog) -> None:  # type: ignore[no-untyped-def]
    loaded = StoredCRFEntityExtractor.load(
        CRFEntityExtractor.get_default_config(), storage, Resource("missing"), context()
    )
    assert loaded.entity_taggers is None
    assert "No trained CRF" in caplog.text
